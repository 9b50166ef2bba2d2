"""`exchange serve` as a real process: refusal on an unmigrated database, and the demo
server answering over HTTP."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.servers import free_port
from exchange.cli import access_lines_kept
from tests.cli.helpers import cli_process, process_env

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("level", "kept"),
    [
        ("INFO", True),
        ("debug", True),
        ("trace", True),
        ("WARNING", False),
        ("error", False),
        ("CRITICAL", False),
    ],
)
def test_access_lines_only_where_the_level_keeps_them(level: str, kept: bool) -> None:
    assert access_lines_kept(level) is kept


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = process_env(tmp_path, EXCHANGE_DATABASE_URL=f"sqlite://{tmp_path / 'fresh.sqlite3'}")
    result = cli_process(["serve", "--port", str(free_port())], env, tmp_path, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "the database is not migrated" in message
    assert "exchange migrate" in message and "--migrate" in message
    assert "Uvicorn running" not in result.stderr


def _wait_healthy(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90  # a start-up bound, not a performance assertion
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("the server did not answer /healthz")


@contextlib.contextmanager
def running_server(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[tuple[str, list[str]]]:
    """A real `exchange` server process; yields its base URL and, once stopped, its output."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", *args, "--port", str(port)],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        _wait_healthy(process, base)
        yield base, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            text, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            text, _ = process.communicate()
        output.append(text)


def graphql(base: str, query: str, variables: dict[str, Any] | None = None, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"query": query, "variables": variables or {}}
    return httpx.post(f"{base}/graphql", json=body, headers=headers, timeout=10).json()


def test_serve_demo_starts_with_data_and_keys(tmp_path: Path) -> None:
    env = process_env(tmp_path, EXCHANGE_DATABASE_URL=f"sqlite://{tmp_path / 'demo.sqlite3'}")
    with running_server(["serve", "--demo"], env, tmp_path) as (base, output):
        international = graphql(
            base, "{ organisations(kind: INTERNATIONAL) { totalCount edges { node { slug country } } } }"
        )["data"]["organisations"]
        assert {edge["node"]["slug"] for edge in international["edges"]} == {
            "un-volunteers",
            "sco",
            "cica",
            "cis",
        }
        assert all(edge["node"]["country"] is None for edge in international["edges"])
        name = graphql(base, '{ organisation(slug: "volunteers-of-kazakhstan") { name(locale: "kk") } }')
        assert name["data"]["organisation"]["name"] == "Қазақстан волонтерлері"
        public = graphql(base, "{ exchanges { totalCount edges { node { slug status } } } }")["data"][
            "exchanges"
        ]
        assert {edge["node"]["slug"] for edge in public["edges"]} == {
            "cis-volunteer-forum-2026",
            "aral-autumn-planting-2026",
            "eco-summit-astana-2027",
            "caspian-action-week-2027",
            "aral-restoration-week-2027",
        }
        aral = graphql(
            base,
            '{ exchange(slug: "aral-restoration-week-2027") '
            '{ title(locale: "kk") timeZone partners { slug } sessions { startsAt } } }',
        )["data"]["exchange"]
        assert aral["title"] == "Аралды қалпына келтіру халықаралық волонтерлер апталығы"
        assert aral["timeZone"] == "Asia/Qyzylorda"
        assert {p["slug"] for p in aral["partners"]} >= {"un-volunteers", "aral-region-volunteers-nukus"}
        assert aral["sessions"][0]["startsAt"] == "2027-05-11T04:00:00+00:00"
    printed = output[0]
    assert f"GraphiQL: {base}/graphql" in printed
    assert '"POST /graphql HTTP/1.1" 200' in printed  # access lines at the default level (INFO)
    admin = re.search(r"Admin API key: (vx_\S+)", printed)
    organisation = re.search(r"Organisation API key \(volunteers-of-kazakhstan\): (vx_\S+)", printed)
    assert admin and organisation, printed

    # The printed admin key is real, and a second start leaves the data alone.
    with running_server(["serve", "--demo"], env, tmp_path) as (base, output):
        org_id = graphql(base, '{ organisation(slug: "sco") { id } }')["data"]["organisation"]["id"]
        issued = graphql(
            base,
            "mutation($org: ID!) { issueApiKey(organisationId: $org, role: READ_ONLY) { key userErrors { code } } }",
            {"org": org_id},
            key=admin.group(1),
        )["data"]["issueApiKey"]
        assert issued["userErrors"] == [] and issued["key"].startswith("vx_")
        assert graphql(base, "{ organisations { totalCount } }")["data"]["organisations"]["totalCount"] == 11
        everything = graphql(base, "{ exchanges { totalCount } }", key=admin.group(1))["data"]["exchanges"]
        assert everything["totalCount"] == 6  # the admin sees the draft too
    assert "already has data" in output[0] and "Demo data loaded" not in output[0]


def test_mail_worker_sends_queued_invitations_and_stops_on_sigint(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'mail.sqlite3'}"
    mail_dir = tmp_path / "mail-out"
    env = process_env(tmp_path, EXCHANGE_DATABASE_URL=url, EXCHANGE_MAIL_DIR=str(mail_dir))
    assert cli_process(["migrate"], env, tmp_path).returncode == 0
    assert cli_process(["seed", "--demo"], env, tmp_path).returncode == 0
    invitees = tmp_path / "invitees.csv"
    invitees.write_text("email,full_name,country,locale\nnurlan.abdirov@example.org,Нұрлан Әбдіров,KZ,kk\n")
    invited = cli_process(
        ["invite", "--exchange", "aral-restoration-week-2027", str(invitees)], env, tmp_path
    )
    assert invited.returncode == 0, invited.stdout + invited.stderr
    assert not list(mail_dir.glob("*.eml"))  # queued in the outbox, not sent by the CLI

    worker = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", "mail-worker"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90  # a start-up bound, not a performance assertion
        while (
            not _mails_to(mail_dir, "nurlan.abdirov@example.org")
            and worker.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert len(_mails_to(mail_dir, "nurlan.abdirov@example.org")) == 1, output
    assert worker.returncode == 0, output


def _remaining(base: str, headers: dict[str, str] | None = None) -> int:
    response = httpx.post(
        f"{base}/graphql", json={"query": "{ __typename }"}, headers=headers or {}, timeout=10
    )
    assert response.status_code == 200, response.text
    return int(response.headers["ratelimit-remaining"])


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"], ids=["default", "loopback-trusted"])
def test_forwarded_for_moves_the_rate_limit_only_from_trusted_proxies(
    tmp_path: Path, trusted: str | None
) -> None:
    """Anonymous budgets are per client address; by default a local process saying
    X-Forwarded-For is not believed (uvicorn alone trusts 127.0.0.1), so it cannot claim
    another address and a fresh budget."""
    settings = {"EXCHANGE_DATABASE_URL": f"sqlite://{tmp_path / 'limits.sqlite3'}"}
    if trusted:
        settings["EXCHANGE_FORWARDED_ALLOW_IPS"] = trusted
    env = process_env(tmp_path, **settings)
    with running_server(["serve", "--migrate"], env, tmp_path) as (base, _):
        first = _remaining(base)
        assert _remaining(base) < first  # one budget for 127.0.0.1
        spoofed = _remaining(base, {"X-Forwarded-For": "203.0.113.7"})
        if trusted:
            assert spoofed == first  # a proxy's word: a new client, a full budget
        else:
            assert spoofed < first  # still 127.0.0.1's budget


def test_links_in_mails_follow_the_port_served_in_development(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail-out"
    env = process_env(tmp_path, EXCHANGE_DATABASE_URL=f"sqlite://{tmp_path / 'mail.sqlite3'}")
    assert cli_process(["migrate"], env, tmp_path).returncode == 0
    assert cli_process(["seed", "--demo"], env, tmp_path).returncode == 0
    invitees = tmp_path / "invitees.csv"
    invitees.write_text("email,full_name,country,locale\naigerim@example.org,Aigerim Sadykova,KZ,en\n")
    invited = cli_process(
        ["invite", "--exchange", "aral-restoration-week-2027", str(invitees)], env, tmp_path
    )
    assert invited.returncode == 0, invited.stdout + invited.stderr

    with running_server(["serve"], env, tmp_path) as (base, _):
        deadline = time.monotonic() + 60  # the dispatcher's first rounds, not a performance bound
        while not _mails_to(mail_dir, "aigerim@example.org") and time.monotonic() < deadline:
            time.sleep(0.2)
        sent = _mails_to(mail_dir, "aigerim@example.org")
        assert len(sent) == 1
        text = _text_parts(sent[0].read_bytes())
        links = set(re.findall(r"https?://[^\s\"<>]+/invitations/[^\s\"<>?]+", text))
        assert links and all(link.startswith(f"{base}/invitations/") for link in links), links
        assert httpx.get(links.pop(), timeout=10).status_code == 200  # the link reaches this server


def _mails_to(mail_dir: Path, address: str) -> list[Path]:
    """The mails written to this address: the demo data queues mails of its own (its
    certificates, an unanswered invitation)."""
    return [path for path in mail_dir.glob("*.eml") if f"<{address}>".encode() in path.read_bytes()]


def _text_parts(raw: bytes) -> str:
    import email
    from email import policy

    message = email.message_from_bytes(raw, policy=policy.default)
    return "\n".join(
        part.get_content()
        for part in message.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    )


def test_serve_says_when_the_port_is_taken(tmp_path: Path) -> None:
    env = process_env(tmp_path, EXCHANGE_DATABASE_URL=f"sqlite://{tmp_path / 'taken.sqlite3'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli_process(["serve", "--migrate", "--port", str(port)], env, tmp_path, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use (another server?); choose another with --port."
    )
    assert "Applied" not in result.stdout  # refused before touching the database
