"""The invitation page as a volunteer meets it from the mail: the Accept and Decline buttons
open it with ?response=accept|decline and it asks to confirm that answer (GET still answers
nothing); call links of online sessions; UTC offsets across a clock change."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from exchange.models import Invitation, InvitationStatus, SessionFormat
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, token_for_email


@pytest.mark.parametrize(
    ("query", "lang", "prompt", "focused"),
    [
        ("?response=accept", "kk", "Қатысуыңызды растау үшін «Қабылдаймын» батырмасын басыңыз.", "ACCEPT"),
        ("?response=decline", "ru", "Чтобы подтвердить отказ, нажмите «Отказываюсь».", "DECLINE"),
        ("?response=ACCEPT&lang=en", "en", "To confirm your place, press “Accept”.", "ACCEPT"),
    ],
)
async def test_the_chosen_answer_is_asked_for(
    gql: GraphQLClient,
    world: World,
    http: httpx.AsyncClient,
    query: str,
    lang: str,
    prompt: str,
    focused: str,
) -> None:
    await invite(gql, world, invitee("ana@example.com", "Ana", locale=lang))
    token = await token_for_email("ana@example.com", world.settings)
    page = await http.get(f"/invitations/{token}{query}")
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert prompt in page.text
    assert f'value="{focused}" class="primary" autofocus' in page.text or (
        f'value="{focused}" class="secondary" autofocus' in page.text
    )
    assert page.text.count("autofocus") == 1
    assert (await Invitation.get()).status is InvitationStatus.QUEUED


async def test_no_prompt_without_a_choice_or_when_it_cannot_be_given(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    await invite(gql, world, invitee("ana@example.com", "Ana", locale="en"))
    token = await token_for_email("ana@example.com", world.settings)
    for query in ("", "?response=maybe"):
        page = await http.get(f"/invitations/{token}{query}")
        assert "To confirm" not in page.text and "autofocus" not in page.text
    await Invitation.filter(email="ana@example.com").update(status=InvitationStatus.DECLINED)
    page = await http.get(f"/invitations/{token}?response=accept")
    assert "To confirm" not in page.text and "<form" not in page.text


async def test_the_page_gives_the_online_link_of_online_and_hybrid_sessions(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    hybrid, in_person = world.sessions
    hybrid.format, hybrid.online_url = SessionFormat.HYBRID, "https://meet.example.org/aral?x=1&y=2"
    in_person.online_url = "https://meet.example.org/unused"
    await hybrid.save()
    await in_person.save()
    await invite(
        gql,
        world,
        invitee("ana@example.com", "Ana", locale="en"),
        sessionIds=[world.session_id(0), world.session_id(1)],
    )
    token = await token_for_email("ana@example.com", world.settings)
    page = (await http.get(f"/invitations/{token}")).text
    assert 'href="https://meet.example.org/aral?x=1&amp;y=2"' in page
    assert "meet.example.org/unused" not in page  # in person: the venue is what counts


async def test_an_exchange_across_a_clock_change_names_both_offsets(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    world.exchange.time_zone = "Europe/Berlin"
    world.exchange.starts_on, world.exchange.ends_on = dt.date(2027, 3, 27), dt.date(2027, 3, 29)
    await world.exchange.save()
    await invite(gql, world, invitee("ana@example.com", "Ana", locale="en"))
    token = await token_for_email("ana@example.com", world.settings)
    assert "Europe/Berlin (UTC+01:00 / UTC+02:00)" in (await http.get(f"/invitations/{token}")).text

    world.exchange.starts_on, world.exchange.ends_on = dt.date(2027, 7, 1), dt.date(2027, 7, 3)
    await world.exchange.save()
    assert "Europe/Berlin (UTC+02:00)</" in (await http.get(f"/invitations/{token}")).text
