"""Where rendered mail goes: an SMTP server (one connection reused for a batch), or
``.eml`` files when no SMTP host is configured (development)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiosmtplib

from exchange.settings import Settings, SmtpTls

if TYPE_CHECKING:
    from exchange.mail.render import RenderedMail

log = logging.getLogger("exchange.mail.transport")


class DeliveryError(Exception):
    """A mail was not handed over; ``permanent`` says whether trying again can help."""

    permanent = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryError):
    permanent = False


class PermanentFailure(DeliveryError):
    permanent = True


class ServerUnavailable(TemporaryFailure):
    """No connection could be made: the rest of the batch would fail the same way."""


class Transport(Protocol):
    connections_opened: int

    async def send(self, mail: RenderedMail) -> None: ...

    async def close(self) -> None: ...

    def abort(self) -> None: ...


def _response_text(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}".strip()


class SmtpTransport:
    """One SMTP session for as many messages as the caller sends before ``close()``."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs settings.smtp_host")
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None
        self.connections_opened = 0

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_tls is SmtpTls.TLS,
            start_tls=True if s.smtp_tls is SmtpTls.STARTTLS else False,
            username=s.smtp_username,
            password=s.smtp_password,
        )
        try:
            await asyncio.wait_for(smtp.connect(), s.smtp_timeout_seconds)
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal at greeting, TLS or login is the platform's problem, not the recipient's.
            await self._abandon(smtp)
            raise ServerUnavailable(_response_text(exc.code, exc.message)) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._abandon(smtp)
            raise ServerUnavailable(f"cannot connect to {s.smtp_host}:{s.smtp_port}: {exc}") from exc
        self.connections_opened += 1
        return smtp

    @staticmethod
    async def _abandon(smtp: aiosmtplib.SMTP) -> None:
        try:
            smtp.close()
        except Exception:  # noqa: S110  (closing a broken connection may fail; nothing to do)
            pass

    async def send(self, mail: RenderedMail) -> None:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = await self._connect()
        smtp = self._smtp
        try:
            await asyncio.wait_for(
                smtp.sendmail(mail.envelope_from, [mail.recipient], mail.data),
                self._settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise _by_code(refusal.code, _response_text(refusal.code, refusal.message)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 or not smtp.is_connected:
                await self._drop()
            raise _by_code(exc.code, _response_text(exc.code, exc.message)) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The session is in an unknown state (dropped, timed out mid-DATA): start afresh.
            await self._drop()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc

    async def _drop(self) -> None:
        if self._smtp is not None:
            await self._abandon(self._smtp)
        self._smtp = None

    def abort(self) -> None:
        """Drop the connection without QUIT (the dispatcher is being cancelled)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await asyncio.wait_for(smtp.quit(), self._settings.smtp_timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self._abandon(smtp)


def _by_code(code: int, text: str) -> DeliveryError:
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class FileTransport:
    """Writes each message to ``<mail_dir>/<message id>.eml``: the same bytes SMTP would get,
    and a re-send after a crash overwrites the same file."""

    connections_opened = 0

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, message_id: str) -> Path:
        return self.directory / (_UNSAFE_FILENAME.sub("_", message_id.strip("<>")) + ".eml")

    async def send(self, mail: RenderedMail) -> None:
        target = self.path_for(mail.message_id)
        try:
            await asyncio.to_thread(_write_atomically, target, mail.data)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target}: {exc}") from exc

    async def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".eml.partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def make_transport(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.mail_dir)
