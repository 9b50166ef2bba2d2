"""Header encoding: any display name or subject (after one_line) survives the trip through
RFC 2047 and folding, in ASCII lines, and cannot add a header."""

from __future__ import annotations

from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.mail.render import _address_header, _subject_line, one_line

NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=120).map(one_line)
SAMPLES = ["Әйгерім Серікқызы", 'O"Brien, Jr. \\ (x)', "Фонд «Арал» приглашает вас", "北京 😀 x", "a" * 150]


def parse(header_block: str) -> object:
    return BytesParser(policy=policy.default).parsebytes((header_block + "\r\n").encode("ascii"))


def display_name_of(folded: str) -> str:
    value = folded.split(":", 1)[1].replace("\r\n", "").strip()
    phrase = value.rsplit(" <", 1)[0] if " <" in value else ""
    if phrase.startswith('"'):
        return phrase[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return str(make_header(decode_header(phrase)))


def check_address(name: str) -> None:
    folded = _address_header("Reply-To", name, "contact@example.org")
    assert folded.isascii() and folded.endswith("\r\n")
    lines = folded[:-2].split("\r\n")
    assert all(line.startswith(" ") for line in lines[1:]), "every later line is a continuation"
    assert all(len(line) <= 998 for line in lines)
    if name.isascii() is False:
        assert all(len(line) <= 78 for line in lines)
    assert display_name_of(folded) == name
    message = parse(folded)
    assert message["Reply-To"].addresses[0].addr_spec == "contact@example.org"  # type: ignore[index]
    assert list(message.keys()) == ["Reply-To"]  # type: ignore[attr-defined]


def check_subject(subject: str) -> None:
    line = _subject_line(subject)
    assert line.isascii()
    lines = line[:-2].split("\r\n")
    assert all(part.startswith(" ") for part in lines[1:])
    message = parse(line)
    assert list(message.keys()) == ["Subject"]  # type: ignore[attr-defined]
    assert message["Subject"] == subject  # type: ignore[index]


def test_samples() -> None:
    for sample in SAMPLES:
        check_address(one_line(sample))
        check_subject(one_line(sample))


@settings(max_examples=300, deadline=None)
@given(NAMES)
def test_any_display_name_round_trips(name: str) -> None:
    check_address(name)


@settings(max_examples=300, deadline=None)
@given(NAMES.filter(bool))
def test_any_subject_round_trips(subject: str) -> None:
    check_subject(subject)
