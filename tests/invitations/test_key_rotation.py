"""A change of EXCHANGE_SECRET_KEY keeps the invitations made before it: with the old key in
EXCHANGE_PREVIOUS_SECRET_KEYS, a reminder or a mail queued before the change carries the link
the volunteer already has, and a page opened before it still posts; without it, such a mail
is refused (never sent with a link that opens nothing) and the old page's form is refused
as any expired one. New links are made with the new key. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from exchange.invitations import tokens
from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.mail.render import UNLINKABLE, render
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from exchange.settings import Settings
from exchange.web.pages import csrf_value
from tests.conftest import GraphQLClient, make_settings
from tests.invitations.conftest import World, invite, invitee

KEY_A = "a" * 40  # the key of the day the invitation was mailed
KEY_B = "b" * 40  # the key after the rotation
LINK = re.compile(r"https://exchange\.test/invitations/([A-Za-z0-9_-]+)")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, secret_key=KEY_A)


def rotate(settings: Settings, previous: list[str]) -> None:
    """The server restarted with EXCHANGE_SECRET_KEY=B and EXCHANGE_PREVIOUS_SECRET_KEYS=previous:
    the app, its pages and the mail read this settings object each time, so changing it in
    place is that restart, on the same database."""
    settings.secret_key = KEY_B
    settings.previous_secret_keys = previous


def link_tokens(message: EmailMessage) -> set[str]:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = set(LINK.findall(text.get_content()))
    assert found, text.get_content()
    return found


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


async def invited(
    gql: GraphQLClient, world: World, email: str = "ana@example.com"
) -> tuple[Invitation, OutboxMail]:
    await invite(gql, world, invitee(email, locale="en"))
    invitation = await Invitation.get(email_normalised=email)
    [mail] = await OutboxMail.filter(invitation_id=invitation.id, kind=MailKind.INVITATION)
    return invitation, mail


async def opened_before_the_change(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> tuple[Invitation, OutboxMail, str, str]:
    """An invitation made under key A, its first mail, its link, and the CSRF value of its
    page as the volunteer opened it before the key changed."""
    invitation, first = await invited(gql, world)
    token = tokens.token_for(invitation.token_nonce, KEY_A.encode())
    opened = await http.get(f"/invitations/{token}?lang=en")
    assert opened.status_code == 200
    return invitation, first, token, csrf_of(opened)


async def decline(http: httpx.AsyncClient, token: str, csrf: str) -> httpx.Response:
    return await http.post(f"/invitations/{token}", data={"csrf": csrf, "lang": "en", "response": "DECLINE"})


async def test_with_the_old_key_listed_old_links_stay_in_every_mail_and_old_pages_post(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    settings = world.settings
    invitation, first, old_token, old_csrf = await opened_before_the_change(gql, world, http)
    assert link_tokens(await render(first, settings)) == {old_token}

    rotate(settings, [KEY_A])
    # The first mail, still queued, and a reminder carry the link made under A, the one the
    # stored hash is of; a token under B would open nothing.
    assert link_tokens(await render(first, settings)) == {old_token}
    reminder = await enqueue(MailKind.REMINDER, invitation, settings=settings)
    assert link_tokens(await render(reminder, settings)) == {old_token}
    assert tokens.token_for(invitation.token_nonce, KEY_B.encode()) != old_token
    # The page opened before the change still answers (its CSRF value was made under A).
    answered = await decline(http, old_token, old_csrf)
    assert answered.status_code == 200 and "Thank you for letting us know" in answered.text
    assert (await Invitation.get(id=invitation.id)).status is InvitationStatus.DECLINED


async def test_without_the_old_key_its_mails_are_refused_and_old_pages_do_not_post(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    settings = world.settings
    invitation, first, old_token, old_csrf = await opened_before_the_change(gql, world, http)

    rotate(settings, [])
    # Its CSRF value is no longer this server's: refused as any expired page (403).
    refused = await decline(http, old_token, old_csrf)
    assert refused.status_code == 403 and "This page has expired" in refused.text
    # The queued first mail cannot carry the link again: it fails for good with the reason,
    # which the host reads as the invitation's lastError, instead of going out with a link
    # that opens nothing.
    assert await Dispatcher(settings).run_once() == 1
    failed = await OutboxMail.get(id=first.id)
    assert failed.status is MailStatus.FAILED and failed.last_error == UNLINKABLE and failed.sent_at is None
    stored = await Invitation.get(id=invitation.id)
    assert stored.status is InvitationStatus.FAILED and stored.last_error == UNLINKABLE
    # The link itself is checked against the stored hash, not under a key: a mail already
    # delivered under A still opens the page (only a later mail could not repeat it).
    assert (await http.get(f"/invitations/{old_token}?lang=en")).status_code == 200
    # What lastError tells the host to do works: inviting again makes a new link, under B.
    await invite(gql, world, invitee("ana@example.com", locale="en"))
    again = await Invitation.filter(email_normalised="ana@example.com").exclude(id=invitation.id).get()
    [mail] = await OutboxMail.filter(invitation_id=again.id, kind=MailKind.INVITATION)
    assert await Dispatcher(settings).run_once() == 1
    assert (await OutboxMail.get(id=mail.id)).status is MailStatus.SENT
    new_token = tokens.token_for(again.token_nonce, KEY_B.encode())
    assert (await http.get(f"/invitations/{new_token}?lang=en")).status_code == 200


async def test_new_links_and_pages_are_made_with_the_current_key(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    settings = world.settings
    rotate(settings, [KEY_A])
    invitation, first = await invited(gql, world, "bob@example.com")
    new_token = tokens.token_for(invitation.token_nonce, KEY_B.encode())
    assert invitation.token_hash == tokens.token_hash(new_token)
    assert link_tokens(await render(first, settings)) == {new_token}
    page = await http.get(f"/invitations/{new_token}?lang=en")
    assert page.status_code == 200
    csrf = csrf_of(page)
    issued = int(csrf.partition(".")[0])
    assert csrf == csrf_value(KEY_B.encode(), invitation.token_hash, issued)
