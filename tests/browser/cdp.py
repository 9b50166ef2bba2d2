"""Headless Chromium driven over the DevTools protocol, with only what the browser tests need:
open a page at phone size, type and click like a person, wait for the page to show
something, run a script in it, take a screenshot, and keep what the console said.

The protocol is JSON over a WebSocket (https://chromedevtools.github.io/devtools-protocol/);
the `websockets` package of the test extra speaks it, so the tests need Debian's `chromium`
and nothing else from outside Python.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class PageError(AssertionError):
    pass


@dataclass
class Page:
    socket: ClientConnection
    console: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
                continue
            method, params = message.get("method"), message.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
                self.console.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.console.append(
                    f"exception: {details.get('exception', {}).get('description', details.get('text'))}"
                )
            elif method == "Log.entryAdded":
                entry = params["entry"]
                self.console.append(f"log.{entry['level']} ({entry['source']}): {entry['text']}")
            elif method == "Network.requestWillBeSent":
                request = params["request"]
                self.requests.append(
                    {
                        "url": request["url"],
                        "method": request["method"],
                        "headers": request.get("headers", {}),
                        "body": request.get("postData", ""),
                    }
                )
            elif method == "Network.webSocketCreated":
                self.sockets.append(params["url"])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise PageError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise PageError(
                f"{expression[:200]} threw: {details.get('exception', {}).get('description', details)}"
            )
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def wait_for(self, predicate: str, within: float = 10.0, what: str | None = None) -> Any:
        """Polls a JavaScript expression until it is truthy; its value."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = await self.evaluate(predicate)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                body = await self.evaluate("document.body ? document.body.innerText : ''")
                raise PageError(
                    f"timed out after {within} s waiting for {what or predicate}\n"
                    f"page text:\n{body}\nconsole:\n" + "\n".join(self.console)
                )
            await asyncio.sleep(0.05)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (it must be visible and on top)."""
        box = await self.evaluate(
            f"""(() => {{
              const element = document.querySelector({json.dumps(selector)});
              if (!element) return null;
              element.scrollIntoView({{block: 'center'}});
              const r = element.getBoundingClientRect();
              return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
            }})()"""
        )
        if box is None:
            raise PageError(f"no element {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )

    async def type_into(self, selector: str, text: str) -> None:
        await self.click(selector)
        await self.send("Input.insertText", text=text)

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()


@contextlib.contextmanager
def chromium(binary: str, profile: Path, log_path: Path) -> Iterator[str]:
    """A headless Chromium; yields its DevTools WebSocket URL (ws://127.0.0.1:PORT/devtools/browser/ID)."""
    args = [
        binary,
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _endpoint(process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _endpoint(process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        match = re.search(r"DevTools listening on (ws://\S+)", text)
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited ({process.returncode}):\n{text[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"chromium did not open its DevTools endpoint:\n{log_path.read_text()[-3000:]}")


@contextlib.asynccontextmanager
async def open_page(browser_url: str, viewport: dict[str, Any] | None = None) -> AsyncIterator[Page]:
    """A new tab, at phone size unless told otherwise, with the console and network recorded."""
    async with connect(browser_url, max_size=None, open_timeout=10) as browser_socket:
        browser = Page(browser_socket)
        browser.start()
        target = await browser.send("Target.createTarget", url="about:blank")
        browser.close()
    host = browser_url.split("/devtools/")[0]
    async with connect(
        f"{host}/devtools/page/{target['targetId']}", max_size=None, open_timeout=10
    ) as socket:
        page = Page(socket)
        page.start()
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", **(viewport or PHONE))
        try:
            yield page
        finally:
            page.close()
