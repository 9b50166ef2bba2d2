"""EXCHANGE_PREVIOUS_SECRET_KEYS: comma-separated, or a JSON array when a key holds a comma;
production refuses a listed key shorter than its own floor (what a comma split leaves)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exchange.settings import Settings
from tests.cli.helpers import run_cli
from tests.cli.test_commands import SAFE_PRODUCTION

KEY_WITH_COMMA = "a,b-" + "x" * 40
OTHER_KEY = "y" * 40


def settings_with(value: str) -> Settings:
    return Settings.model_validate({"previous_secret_keys": value})


def test_comma_separated_keys_as_before() -> None:
    assert settings_with(f" {OTHER_KEY} ,, z{OTHER_KEY}").previous_secret_keys == [OTHER_KEY, "z" + OTHER_KEY]


def test_a_json_array_keeps_a_key_whole() -> None:
    settings = settings_with(f'["{KEY_WITH_COMMA}", "{OTHER_KEY}", ""]')
    assert settings.previous_secret_keys == [KEY_WITH_COMMA, OTHER_KEY]
    assert settings.verifying_keys[1:] == (KEY_WITH_COMMA.encode(), OTHER_KEY.encode())


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f'["{OTHER_KEY}"', "not a JSON array of strings"),
        (f'["{OTHER_KEY}", 3]', "strings only"),
        ('[{"key": "x"}]', "strings only"),
    ],
)
def test_a_malformed_array_is_refused_with_a_reason(value: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings_with(value)
    assert says in str(refused.value) and OTHER_KEY not in str(refused.value)


def test_production_refuses_a_key_split_at_its_comma() -> None:
    split = run_cli(None, "serve", env={**SAFE_PRODUCTION, "EXCHANGE_PREVIOUS_SECRET_KEYS": KEY_WITH_COMMA})
    assert split.exit_code == 2
    message = " ".join(split.stderr.split())
    assert "lists a key shorter than 32 characters" in message and "JSON array" in message
    assert KEY_WITH_COMMA not in split.stderr and "x" * 40 not in split.stderr  # no key is echoed


def test_production_takes_the_key_listed_whole() -> None:
    fields = {key.removeprefix("EXCHANGE_").lower(): value for key, value in SAFE_PRODUCTION.items()}
    settings = Settings.model_validate({**fields, "previous_secret_keys": f'["{KEY_WITH_COMMA}"]'})
    assert settings.unsafe_reasons() == []
    assert settings.verifying_keys[1:] == (KEY_WITH_COMMA.encode(),)


def test_no_refused_setting_is_echoed() -> None:
    """Any setting's error leaves its value out (a database URL carries a password)."""
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({"db_pool_max": "postgres://u:hunter2-secret@db/x"})
    assert "hunter2-secret" not in str(refused.value) and "db_pool_max" in str(refused.value)
