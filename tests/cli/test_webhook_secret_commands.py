"""`exchange reseal-webhook-secrets` after a change of EXCHANGE_SECRET_KEY, on SQLite and
PostgreSQL: secrets sealed under a previous key are sealed again under the current one (the
old key may then leave EXCHANGE_PREVIOUS_SECRET_KEYS), those already current are left as
they are, and one that no key opens is named by id, exit 1, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from exchange.cli import app as cli_app
from exchange.models import WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import signing
from tests.cli.helpers import in_database
from tests.conftest import make_organisation, make_settings
from tests.webhooks import sealed_endpoint

OLD_KEY = "old-server-key-" + "o" * 30
NEW_KEY = "new-server-key-" + "n" * 30
LOST_KEY = "lost-server-key-" + "l" * 30


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read ./.env; a developer's file must not steer the commands under test.
    monkeypatch.chdir(tmp_path)


def keyed(database_url: str, tmp_path: Path, key: str, previous: list[str] | None = None) -> Settings:
    return make_settings(database_url, tmp_path, secret_key=key, previous_secret_keys=previous or [])


def reseal(database_url: str, previous: str) -> Result:
    env = {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_SECRET_KEY": NEW_KEY,
        "EXCHANGE_PREVIOUS_SECRET_KEYS": previous,
    }
    return CliRunner().invoke(cli_app, ["reseal-webhook-secrets"], env=env, catch_exceptions=False)


def test_reseal_moves_secrets_to_the_current_key(database_url: str, tmp_path: Path) -> None:
    async def seed() -> dict[str, tuple[int, str, str]]:
        organisation = await make_organisation("hooks")
        made = {}
        for name, key in (("old", OLD_KEY), ("current", NEW_KEY), ("lost", LOST_KEY)):
            endpoint, secret = await sealed_endpoint(
                organisation.id, f"https://crm.example.org/{name}", keyed(database_url, tmp_path, key)
            )
            made[name] = (endpoint.id, secret, endpoint.sealed_secret)
        return made

    made = in_database(database_url, tmp_path, seed)

    first = reseal(database_url, OLD_KEY)
    assert first.exit_code == 1
    assert "1 webhook secret(s) sealed again under the current key; 1 already were." in first.stdout
    lost_id, _, lost_sealed = made["lost"]
    assert f"(ids {lost_id})" in first.stderr and "rotateWebhookSecret" in first.stderr
    assert "Traceback" not in first.stderr
    for _, secret, sealed in made.values():
        assert secret not in first.output and sealed not in first.output

    async def stored() -> dict[int, str]:
        return dict(await WebhookEndpoint.all().values_list("id", "sealed_secret"))

    after = in_database(database_url, tmp_path, stored)
    current_only = signing.sealer(keyed(database_url, tmp_path, NEW_KEY))
    for name in ("old", "current"):
        endpoint_id, secret, _ = made[name]
        assert signing.unseal_secret(current_only, endpoint_id, after[endpoint_id]) == secret
    assert after[made["current"][0]] == made["current"][2]  # already current: untouched
    assert after[lost_id] == lost_sealed

    # Run again without the old key: nothing left that needs it.
    again = reseal(database_url, "")
    assert again.exit_code == 1 and "0 webhook secret(s) sealed again" in again.stdout
    assert "2 already were" in again.stdout
