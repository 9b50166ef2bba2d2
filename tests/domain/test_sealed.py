"""exchange.sealed: a sealed value opens only under a key of the server, for its purpose and
its row; altered bytes, plain text and a changed server key are refused with a reason that
never carries the value; previous keys open what they sealed, and reseal moves it to the
current key."""

from __future__ import annotations

import base64

import pytest

from exchange.sealed import PREFIX, Sealer, Unsealable, derive_key
from exchange.settings import DEVELOPMENT_SECRET, Settings

OLD_KEY = "o" * 40
NEW_KEY = "n" * 40
PLAIN = "whsec_" + base64.b64encode(bytes(range(32))).decode()
ROW = "webhook_endpoint:7"


def settings(secret_key: str | None = NEW_KEY, previous: str | None = None) -> Settings:
    values: dict[str, object] = {"secret_key": secret_key}
    if previous is not None:
        values["previous_secret_keys"] = previous
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def sealer(secret_key: str | None = NEW_KEY, previous: str | None = None, purpose: str = "test") -> Sealer:
    return Sealer.for_settings(settings(secret_key, previous), purpose)


def refusal(call: object) -> str:
    assert callable(call)
    with pytest.raises(Unsealable) as raised:
        call()
    message = str(raised.value)
    assert PLAIN not in message and PLAIN.removeprefix("whsec_") not in message
    return message


def test_round_trip_and_the_stored_format() -> None:
    box = sealer()
    sealed = box.seal(PLAIN, ROW)
    assert sealed.startswith(PREFIX) and PLAIN not in sealed
    raw = base64.b64decode(sealed.removeprefix(PREFIX), validate=True)
    assert len(raw) == 12 + len(PLAIN) + 16  # nonce, ciphertext, tag
    assert box.unseal(sealed, ROW) == PLAIN
    # A fresh nonce each time: the same secret never seals to the same text.
    assert box.seal(PLAIN, ROW) != sealed
    assert len(sealed) < 200  # webhook_endpoint.sealed_secret's width


def test_any_altered_byte_is_refused() -> None:
    box = sealer()
    sealed = box.seal(PLAIN, ROW)
    raw = bytearray(base64.b64decode(sealed.removeprefix(PREFIX)))
    for position in (0, 11, 12, len(raw) // 2, len(raw) - 1):  # nonce, ciphertext, tag
        altered = bytearray(raw)
        altered[position] ^= 0x01
        tampered = PREFIX + base64.b64encode(bytes(altered)).decode()
        assert "no key of this server opens it" in refusal(lambda t=tampered: box.unseal(t, ROW))
    assert "too short" in refusal(lambda: box.unseal(PREFIX + base64.b64encode(b"short").decode(), ROW))
    assert "not base64" in refusal(lambda: box.unseal(PREFIX + "@@not base64@@", ROW))


def test_bound_to_its_row_and_purpose() -> None:
    box = sealer()
    sealed = box.seal(PLAIN, ROW)
    refusal(lambda: box.unseal(sealed, "webhook_endpoint:8"))
    refusal(lambda: sealer(purpose="another purpose").unseal(sealed, ROW))
    # The purpose's key is not the server key itself, nor another purpose's.
    server_key = settings().signing_key
    assert derive_key(server_key, "test") not in (server_key, derive_key(server_key, "another purpose"))


def test_plain_text_is_refused_not_used() -> None:
    assert "not a sealed value" in refusal(lambda: sealer().unseal(PLAIN, ROW))
    refusal(lambda: sealer().unseal("", ROW))


def test_a_changed_server_key_is_refused_unless_listed_as_previous() -> None:
    sealed = sealer(OLD_KEY).seal(PLAIN, ROW)
    message = refusal(lambda: sealer(NEW_KEY).unseal(sealed, ROW))
    assert "EXCHANGE_PREVIOUS_SECRET_KEYS" in message

    rotated = sealer(NEW_KEY, previous=f"unrelated-key-{'x' * 30}, {OLD_KEY}")
    assert rotated.unseal(sealed, ROW) == PLAIN
    # Moved to the current key: then the old key may leave the list.
    resealed = rotated.reseal(sealed, ROW)
    assert resealed is not None and sealer(NEW_KEY).unseal(resealed, ROW) == PLAIN
    assert rotated.reseal(resealed, ROW) is None  # already under the current key
    refusal(lambda: rotated.reseal(PLAIN, ROW))


def test_development_default_and_the_previous_keys_setting() -> None:
    # No secret key: the development secret seals, as it signs tokens there.
    assert sealer(None).unseal(sealer(DEVELOPMENT_SECRET).seal(PLAIN, ROW), ROW) == PLAIN
    assert settings(previous=" a-key , ,b-key ").previous_secret_keys == ["a-key", "b-key"]
    assert settings().previous_secret_keys == []
