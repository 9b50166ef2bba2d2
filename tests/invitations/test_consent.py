"""Consent and notice (#13): the invitation page shows the privacy notice in kk, ru and en;
accepting (through the page or respondToInvitation) records consentAt and the notice's
version with the acceptance, and the volunteer's choice of a public profile; declining
records neither."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.models import Exchange, Invitation, InvitationStatus, Volunteer
from exchange.notice import NOTICE, NOTICE_VERSION, contact_for
from exchange.settings import Settings
from tests.conftest import GraphQLClient, make_settings
from tests.invitations.conftest import World, invite, invitee, token_for_email

PRIVACY_CONTACT = "privacy@exchange.test"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CHECKBOX = re.compile(r'<input type="checkbox" name="public_profile" value="yes"[^>]*>')

# The words each version of the notice stood for. Changing a text in exchange/notice.py
# without a new NOTICE_VERSION would make stored consents name words nobody agreed to.
NOTICE_DIGESTS = {"2026-12": "4ba0bb1e42176dc91ec9403933ebbecc7f23339c1af1a056a0bafb6be3f95fdb"}

RESPOND = """
mutation($token: String!, $response: InvitationResponse!, $publicProfile: Boolean) {
  respondToInvitation(token: $token, response: $response, publicProfile: $publicProfile) {
    invitation { status consentAt consentNoticeVersion volunteer { fullName publicProfile } }
    userErrors { field message code }
  }
}
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, privacy_contact=PRIVACY_CONTACT)


def test_the_notice_version_names_its_words() -> None:
    digest = hashlib.sha256(json.dumps(NOTICE, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert NOTICE_DIGESTS.get(NOTICE_VERSION) == digest, (
        "exchange/notice.py: the texts changed; give NOTICE_VERSION a new value and add it here"
    )
    assert set(NOTICE) == {"kk", "ru", "en"}
    assert all(words.keys() == NOTICE["en"].keys() for words in NOTICE.values())


def test_the_contact_for_a_copy_or_deletion() -> None:
    assert contact_for(PRIVACY_CONTACT, "hello@ngo.kz") == PRIVACY_CONTACT
    assert contact_for(None, "hello@ngo.kz") == "hello@ngo.kz"
    assert contact_for(None, None) is None


def test_a_privacy_contact_that_is_not_one_address_is_refused(tmp_path: Path) -> None:
    for bad in ("privacy", "a@b.kz, c@d.kz", "<privacy@exchange.test>", "privacy @exchange.test"):
        with pytest.raises(ValueError, match="not one plain email address"):
            make_settings("sqlite://:memory:", tmp_path, privacy_contact=bad)
    assert make_settings("sqlite://:memory:", tmp_path, privacy_contact="").privacy_contact is None


async def _invited(
    gql: GraphQLClient, world: World, email: str = "ana@example.com", locale: str = "kk"
) -> str:
    await invite(gql, world, invitee(email, "Ana Pérez", locale=locale))
    return await token_for_email(email, world.settings)


def _csrf(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


def _privacy_section(page: str) -> str:
    match = re.search(r'<section id="privacy"[^>]*>(.*?)</section>', page, re.S)
    assert match, page
    return match.group(1)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_the_page_shows_the_notice_and_an_unticked_public_profile_box(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang={lang}")
    assert page.status_code == 200
    words = NOTICE[lang]
    section = _privacy_section(page.text)
    host = "Steppe Volunteers"  # the host's only name, shown in every language
    for key in ("heading", "stored_title", "seen_title", "kept_title", "rights_title"):
        assert words[key] in section, key
    assert words["stored"].format(organisation=host) in section
    assert words["seen"].format(organisation=host).replace("'", "&#39;") in section
    assert f'<a href="mailto:{PRIVACY_CONTACT}">{PRIVACY_CONTACT}</a>' in section
    # The form: the box is there, unticked, and the consent names the version.
    [checkbox] = CHECKBOX.findall(page.text)
    assert "checked" not in checkbox
    assert words["public_profile"] in page.text
    assert f'<span class="version">{NOTICE_VERSION}</span>' in page.text


async def test_without_a_privacy_contact_the_notice_names_the_organisers(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    world.settings.privacy_contact = None
    token = await _invited(gql, world)
    # The app reads the settings it was made with: this test's page is served by the same
    # object, changed in place.
    without = _privacy_section((await http.get(f"/invitations/{token}?lang=en")).text)
    assert "mailto:" not in without
    assert NOTICE["en"]["rights_no_contact"].format(organisation="Steppe Volunteers") in without
    world.host.contact_email = "hello@steppe.kz"
    await world.host.save(update_fields=["contact_email"])
    with_host = _privacy_section((await http.get(f"/invitations/{token}?lang=en")).text)
    assert '<a href="mailto:hello@steppe.kz">hello@steppe.kz</a>' in with_host


async def test_the_notice_is_shown_after_answering_too(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang=ru")
    answered = await http.post(
        f"/invitations/{token}", data={"csrf": _csrf(page), "lang": "ru", "response": "DECLINE"}
    )
    assert answered.status_code == 200
    assert NOTICE["ru"]["heading"] in _privacy_section(answered.text)
    assert not CHECKBOX.search(answered.text)  # nothing left to choose


@pytest.mark.parametrize("ticked", [True, False])
async def test_accepting_through_the_page_records_consent_and_the_choice(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, ticked: bool
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang=en")
    form = {"csrf": _csrf(page), "lang": "en", "response": "ACCEPT"}
    if ticked:
        form["public_profile"] = "yes"
    before = dt.datetime.now(dt.UTC)
    answered = await http.post(f"/invitations/{token}", data=form)
    assert answered.status_code == 200 and "Your place is confirmed" in answered.text
    invitation = await Invitation.get()
    assert invitation.status is InvitationStatus.ACCEPTED
    assert invitation.consent_notice_version == NOTICE_VERSION
    assert invitation.consent_at == invitation.responded_at
    assert invitation.consent_at is not None and invitation.consent_at >= before - dt.timedelta(seconds=1)
    volunteer = await Volunteer.get(email="ana@example.com")
    assert volunteer.public_profile is ticked


async def test_the_pages_choice_replaces_an_earlier_one(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    await Volunteer.create(full_name="Ana P.", email="ana@example.com", country="ES", public_profile=True)
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}")
    await http.post(f"/invitations/{token}", data={"csrf": _csrf(page), "response": "ACCEPT"})
    assert (await Volunteer.get(email="ana@example.com")).public_profile is False


async def test_declining_through_the_page_records_no_consent_and_no_choice(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    await Volunteer.create(full_name="Ana P.", email="ana@example.com", country="ES")
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}")
    form = {"csrf": _csrf(page), "response": "DECLINE", "public_profile": "yes"}
    answered = await http.post(f"/invitations/{token}", data=form)
    assert answered.status_code == 200
    invitation = await Invitation.get()
    assert invitation.status is InvitationStatus.DECLINED
    assert (invitation.consent_at, invitation.consent_notice_version) == (None, None)
    assert (await Volunteer.get(email="ana@example.com")).public_profile is False


async def test_a_stale_form_keeps_the_box_and_records_nothing_until_sent_again(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    await http.get(f"/invitations/{token}")
    http.cookies.clear()  # the CSRF cookie is gone: the post is refused
    form = {"csrf": "1.0", "lang": "en", "response": "ACCEPT", "public_profile": "yes"}
    refused = await http.post(f"/invitations/{token}", data=form)
    assert refused.status_code == 403 and "This page has expired" in refused.text
    [checkbox] = CHECKBOX.findall(refused.text)
    assert "checked" in checkbox  # shown as the volunteer left it
    stored = await Invitation.get()
    assert stored.status is InvitationStatus.QUEUED and stored.consent_at is None
    assert not await Volunteer.all().exists()
    # The refused page carries a fresh value: sending its form again works.
    answered = await http.post(f"/invitations/{token}", data={**form, "csrf": _csrf(refused)})
    assert answered.status_code == 200
    assert (await Invitation.get()).consent_notice_version == NOTICE_VERSION
    assert (await Volunteer.get(email="ana@example.com")).public_profile is True


async def test_a_refused_acceptance_records_nothing(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}")
    await Exchange.filter(id=world.exchange.id).update(capacity=0)
    form = {"csrf": _csrf(page), "response": "ACCEPT", "public_profile": "yes"}
    refused = await http.post(f"/invitations/{token}", data=form)
    assert refused.status_code == 409
    stored = await Invitation.get()
    assert (stored.consent_at, stored.consent_notice_version) == (None, None)
    assert not await Volunteer.filter(public_profile=True).exists()


async def _respond(gql: GraphQLClient, token: str, response: str, **variables: Any) -> dict[str, Any]:
    result = await gql(RESPOND, {"token": token, "response": response, **variables})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["respondToInvitation"]
    assert payload["userErrors"] == []
    return payload


async def test_accepting_through_graphql_records_consent_and_the_choice(
    gql: GraphQLClient, world: World
) -> None:
    token = await _invited(gql, world)
    payload = await _respond(gql, token, "ACCEPT", publicProfile=True)
    invitation = payload["invitation"]
    assert invitation["status"] == "ACCEPTED"
    assert invitation["consentNoticeVersion"] == NOTICE_VERSION
    stored = await Invitation.get()
    assert dt.datetime.fromisoformat(invitation["consentAt"]) == stored.consent_at == stored.responded_at
    # Public now, so even the anonymous link holder sees the volunteer.
    assert invitation["volunteer"] == {"fullName": "Ana Pérez", "publicProfile": True}
    assert (await Volunteer.get(email="ana@example.com")).public_profile is True


async def test_graphql_without_public_profile_leaves_the_choice_as_it_was(
    gql: GraphQLClient, world: World
) -> None:
    await Volunteer.create(full_name="Bob", email="bob@example.com", country="KZ", public_profile=True)
    new = await _invited(gql, world, "ana@example.com")
    known = await _invited(gql, world, "bob@example.com")
    for token in (new, known):
        payload = await _respond(gql, token, "ACCEPT")
        assert payload["invitation"]["consentNoticeVersion"] == NOTICE_VERSION
    assert (await Volunteer.get(email="ana@example.com")).public_profile is False  # new: not public
    assert (await Volunteer.get(email="bob@example.com")).public_profile is True  # unchanged


async def test_declining_through_graphql_records_no_consent(gql: GraphQLClient, world: World) -> None:
    token = await _invited(gql, world)
    payload = await _respond(gql, token, "DECLINE", publicProfile=True)
    assert payload["invitation"]["status"] == "DECLINED"
    assert (payload["invitation"]["consentAt"], payload["invitation"]["consentNoticeVersion"]) == (None, None)
    stored = await Invitation.get()
    assert (stored.consent_at, stored.consent_notice_version) == (None, None)
    assert not await Volunteer.all().exists()


async def test_organisers_read_the_consent(gql: GraphQLClient, world: World) -> None:
    await _invited(gql, world, "ana@example.com")
    await _invited(gql, world, "bob@example.com")
    await _respond(gql, await token_for_email("ana@example.com", world.settings), "ACCEPT")
    query = """
    query($id: ID!) { node(id: $id) { ... on ExperienceExchange {
      invitations(first: 10) { edges { node { email consentAt consentNoticeVersion } } }
    } } }
    """
    result = await gql(query, {"id": world.exchange_id}, key=world.host_key)
    assert "errors" not in result, result
    rows = {e["node"]["email"]: e["node"] for e in result["data"]["node"]["invitations"]["edges"]}
    assert (
        rows["ana@example.com"]["consentNoticeVersion"] == NOTICE_VERSION
        and rows["ana@example.com"]["consentAt"]
    )
    assert (rows["bob@example.com"]["consentAt"], rows["bob@example.com"]["consentNoticeVersion"]) == (
        None,
        None,
    )
