"""exchange.keyring and Settings.verifying_keys: the keys that verify are the signing key
then each previous one, in that order, the same ones exchange.sealed opens with; a value is
found under whichever of them made it, every key tried even after a match."""

from __future__ import annotations

from exchange.invitations import tokens
from exchange.keyring import under_any_key
from exchange.sealed import Sealer
from exchange.settings import DEVELOPMENT_SECRET, Settings

OLD = "o" * 40
OLDER = "p" * 40
NEW = "n" * 40


def settings(secret_key: str | None = NEW, previous: str | None = None) -> Settings:
    values: dict[str, object] = {"secret_key": secret_key}
    if previous is not None:
        values["previous_secret_keys"] = previous
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_verifying_keys_are_the_signing_key_then_the_previous_ones() -> None:
    assert settings().verifying_keys == (NEW.encode(),)
    assert settings(previous=f" {OLD} ,,{OLDER}").verifying_keys == (
        NEW.encode(),
        OLD.encode(),
        OLDER.encode(),
    )
    assert settings(None).verifying_keys == (DEVELOPMENT_SECRET.encode(),)
    # exchange.sealed reads the same keys: what one accepts, the other does.
    now = settings(previous=OLD)
    sealed = Sealer.for_settings(settings(OLD), "test").seal("plain", "row:1")
    assert Sealer.for_settings(now, "test").unseal(sealed, "row:1") == "plain"


def test_a_value_is_found_under_the_key_that_made_it_and_every_key_is_tried() -> None:
    keys = settings(previous=f"{OLD},{OLDER}").verifying_keys
    tried: list[bytes] = []

    def derive(key: bytes) -> str:
        tried.append(key)
        return tokens.token_for("nonce", key)

    made = tokens.token_for("nonce", OLD.encode())
    stored = tokens.token_hash(made)
    assert under_any_key(keys, derive, lambda token: tokens.matches(token, stored)) == made
    assert tried == list(keys)  # not stopped at the match: the time does not say which key
    assert tokens.token_of("nonce", stored, keys) == made
    assert tokens.token_of("nonce", stored, (NEW.encode(), OLDER.encode())) is None
    assert tokens.token_of("another nonce", stored, keys) is None
