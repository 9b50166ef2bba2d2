"""Settings from environment variables (prefix ``EXCHANGE_``) and an optional ``.env``.

Partners' deployment scripts rely on these names; every one is documented in the README.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import lru_cache
from ipaddress import ip_network
from typing import Annotated
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class UnsafeSettings(ValueError):
    """Production mode was asked to start with settings that would hurt users."""


_ASSETS_URL = re.compile(r"[A-Za-z0-9._~:/@%+\-\[\]]+")
_PLAIN_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"'/?#]+\.[^@\s<>()\[\],;:\"'/?#.]+")

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32  # production's floor for EXCHANGE_SECRET_KEY, and so for former keys


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value may be a secret (a key, a password in a URL), and
    # the error reaches logs and tracebacks when the app factory reads the settings.
    model_config = SettingsConfigDict(
        env_prefix="EXCHANGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    mode: Mode = Mode.DEVELOPMENT
    database_url: str = "sqlite://exchange.sqlite3"
    db_pool_min: int = 1
    db_pool_max: int = 10
    redis_url: str | None = None
    secret_key: str | None = None
    # Former secret keys, comma-separated or a JSON array of strings (a key may hold a comma):
    # what they signed or sealed still verifies or opens after EXCHANGE_SECRET_KEY changes
    # (see verifying_keys); nothing new is made with them.
    previous_secret_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Unset in development: `exchange serve` makes it the address it serves (see cli.serve).
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    websocket_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For/-Proto are believed. Empty: none, not even the loopback
    # (uvicorn's own default), or any local process could pick the address the anonymous
    # rate limit counts.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: SmtpTls = SmtpTls.NONE
    smtp_timeout_seconds: float = 15.0
    mail_from: str = "Volunteer Exchange <no-reply@exchange.localhost>"
    mail_dir: str = "mail-out"
    mail_batch_size: int = 100
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 2.0
    mail_poll_seconds: float = 1.0
    run_mail_dispatcher: bool = True
    # Where volunteers ask for a copy or the deletion of their data: the invitation's privacy
    # notice names it. Unset: the inviting organisation's contact email.
    privacy_contact: str | None = None

    page_size_cap: int = 100
    invitees_per_call: int = 1000
    invitation_message_max_length: int = 2000
    invitation_default_days: int = 30
    invitation_max_days: int = 365
    reminder_days_before: int | None = 3
    # Hours before a session that each of its participants is reminded of it (None: never).
    # Not reminder_days_before, which reminds invitees to answer before their link expires.
    session_reminder_hours: float | None = Field(default=24.0, gt=0)
    # How long the first on a waiting list has to claim a freed place before it passes on.
    waitlist_claim_hours: float = Field(default=48.0, gt=0)
    expiry_sweep_seconds: float = 60.0
    # Certificates of participation issued (and mailed) by themselves when attendance is
    # recorded on a completed exchange, instead of by the host's issueCertificate.
    certificates_automatic: bool = False
    # Plain lists, not paginated: the cost model prices them at these caps (schema/admission/cost.py).
    max_sessions_per_exchange: int = 20
    max_speakers_per_session: int = 5

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_root_fields: int = 20
    # Fields of an operation with its fragments expanded where spread (nested spreads multiply).
    max_fields: int = 10_000
    max_cost: int = 50_000
    max_body_bytes: int = 1_000_000
    max_input_list: int = 1000
    execution_timeout_seconds: float = 10.0
    # Queries run by their compiled plan (schema/engine/plan.py); false: graphql-core for everything.
    compiled_execution: bool = True
    # Operations executing at once per process; more wait for a slot. Execution is CPU-bound
    # on one event loop, so interleaving more of them adds no throughput, only memory and
    # cache misses (bench/RESULTS.md: ExchangesPage at 32 connections).
    max_concurrent_executions: int = 8
    rate_limit_points: int = 100_000
    rate_limit_window_seconds: int = 60

    introspection: bool | None = None
    graphiql: bool | None = None
    # Base URL of GraphiQL's browser files, laid out like unpkg.com's (<base>/graphiql@3.8.3/...):
    # the CDN by default; a server of one's own, or a path on this one, where browsers have no
    # internet (README, "GraphiQL without a CDN").
    graphiql_assets_url: str = "https://unpkg.com"
    persisted_queries_only: bool = False

    subscriptions_per_connection: int = 100
    subscriptions_per_key: int = 10_000
    subscriber_queue_size: int = 1000
    # Live updates (README, "Live updates: subscriptions and webhooks").
    redis_channel: str = "exchange:invitation-events"  # one deployment per channel
    redis_reconnect_max_seconds: float = 5.0  # backoff cap while Redis is away
    event_order_window_seconds: float = 0.05  # how long an event waits for its predecessor
    # Revocations reach streams through the bus at once; this check catches the others (a
    # CLI revocation without Redis, one made while Redis was away) within this many seconds.
    subscription_key_check_seconds: float = 1.0
    shutdown_drain_seconds: float = 2.0  # time for streams to send `complete` on SIGTERM
    websocket_init_timeout_seconds: float = 10.0  # a socket without connection_init is closed (4408)
    run_webhook_worker: bool = True
    webhook_poll_seconds: float = 1.0
    webhook_batch_size: int = 20  # deliveries in flight per worker process
    webhook_in_flight_per_organisation: int = 5  # an organisation's share of them, at most
    webhook_timeout_seconds: float = 10.0  # deadline of a whole attempt (connect, send, answer)
    webhook_max_attempts: int = 10
    webhook_retry_base_seconds: float = 5.0  # 5 s, 10 s, 20 s, ... capped below
    webhook_retry_max_seconds: float = 3600.0
    webhook_lease_seconds: float = 60.0  # a crashed worker's claimed deliveries return after this

    log_level: str = "INFO"

    # Garbage collector (see exchange/runtime.py): a request builds thousands of short-lived
    # objects; with CPython's default threshold (700) the collector took ~40% of the CPU.
    gc_threshold: int = 200_000  # first-generation threshold (Python's default: 700; 0: off)
    gc_freeze: bool = True  # move everything alive after start-up out of the collector's sight

    @field_validator("cors_origins", "websocket_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _former_keys(cls, value: object) -> object:
        # A key is any text of 32 characters or more, commas included; split on commas, such a
        # key would become pieces that verify nothing (production refuses short pieces below).
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                keys = json.loads(value)
            except ValueError:
                raise ValueError("not a JSON array of strings (a list of keys starts with '[')") from None
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                raise ValueError("a JSON list of keys must hold strings only")
            return [key for key in keys if key]
        return _comma_list(value)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn takes anything it cannot parse as a literal host name and never matches it
        # against a client address: a typo would silently trust no proxy.
        for entry in value:
            if entry == "*":
                continue
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address, a network (10.0.0.0/8) or '*'") from None
        return value

    @field_validator("graphiql_assets_url")
    @classmethod
    def _assets_url(cls, value: str) -> str:
        # It goes into the page's HTML and its Content-Security-Policy: no quotes, spaces,
        # semicolons or commas, and nothing but a path or an http(s) origin with a path.
        base = value.strip().rstrip("/")
        parts = urlparse(base)
        is_path = base.startswith("/") and not base.startswith("//")
        is_url = parts.scheme in ("http", "https") and bool(parts.netloc)
        if (
            not _ASSETS_URL.fullmatch(base)
            or not (is_path or is_url)
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValueError(
                "must be an http(s) URL or a path on this server, e.g. https://cdn.example.org/graphiql "
                "or /graphiql-assets (no query, fragment, quotes or spaces)"
            )
        return base

    @field_validator("privacy_contact", mode="before")
    @classmethod
    def _privacy_contact(cls, value: object) -> object:
        # Printed in every invitation mail and page as a mailto link: one plain address.
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _PLAIN_ADDRESS.fullmatch(value):
                raise ValueError(f"{value!r} is not one plain email address, e.g. privacy@example.org")
        return value

    @field_validator("reminder_days_before", "session_reminder_hours", mode="before")
    @classmethod
    def _reminders_off(cls, value: object) -> object:
        # The environment cannot say None: an empty value, "off" or "none" turns reminders off.
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value

    @property
    def is_production(self) -> bool:
        return self.mode is Mode.PRODUCTION

    @property
    def signing_key(self) -> bytes:
        """The key everything new is signed or sealed with."""
        return (self.secret_key or DEVELOPMENT_SECRET).encode()

    @property
    def verifying_keys(self) -> tuple[bytes, ...]:
        """The keys whose work this server still accepts: the signing key first, then each of
        EXCHANGE_PREVIOUS_SECRET_KEYS, so a rotation of EXCHANGE_SECRET_KEY keeps the links,
        codes and sealed secrets made before it (see exchange.keyring)."""
        return (self.signing_key, *(key.encode() for key in self.previous_secret_keys))

    @property
    def introspection_enabled(self) -> bool:
        return (not self.is_production) if self.introspection is None else self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        return (not self.is_production) if self.graphiql is None else self.graphiql

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def unsafe_reasons(self) -> list[str]:
        """Why production mode must not start with these settings (empty: safe)."""
        if not self.is_production:
            return []
        reasons = []
        if self.uses_sqlite:
            reasons.append("EXCHANGE_DATABASE_URL is SQLite; production needs PostgreSQL")
        if not self.smtp_host:
            reasons.append("EXCHANGE_SMTP_HOST is not set; invitations would only be written to files")
        if not self.has_production_secret_key:
            reasons.append(
                f"EXCHANGE_SECRET_KEY is missing or shorter than {MIN_SECRET_KEY_LENGTH} characters"
            )
        if DEVELOPMENT_SECRET in self.previous_secret_keys:
            # A previous key still verifies and opens: the development key is public.
            reasons.append("EXCHANGE_PREVIOUS_SECRET_KEYS lists the development key")
        if any(len(key) < MIN_SECRET_KEY_LENGTH for key in self.previous_secret_keys):
            # Production never ran with a shorter key: this is a piece of a key split at a comma.
            reasons.append(
                f"EXCHANGE_PREVIOUS_SECRET_KEYS lists a key shorter than {MIN_SECRET_KEY_LENGTH} characters"
                " (a key holding a comma is split there: list the keys as a JSON array)"
            )
        if urlparse(self.public_url).scheme != "https":
            reasons.append("EXCHANGE_PUBLIC_URL must be an https:// URL (links in emails)")
        if "*" in self.cors_origins:
            reasons.append("EXCHANGE_CORS_ORIGINS allows every origin ('*')")
        if "*" in self.websocket_origins:
            reasons.append("EXCHANGE_WEBSOCKET_ORIGINS allows every origin ('*')")
        return reasons

    @property
    def has_production_secret_key(self) -> bool:
        """A key production accepts: set, not the development one, 32 characters or more."""
        key = self.secret_key
        return bool(key) and key != DEVELOPMENT_SECRET and len(key or "") >= MIN_SECRET_KEY_LENGTH

    def check_safe(self) -> None:
        reasons = self.unsafe_reasons()
        if reasons:
            raise UnsafeSettings("refusing to start in production mode: " + "; ".join(reasons))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
