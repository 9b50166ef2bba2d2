"""The certificate mail: the PDF attached, in the certificate's language, with its code and
the address of its page. Queued with the certificate (exchange.certificates.service), written
when sent: the outbox row names the certificate only, so no code is stored. Not sent for a
certificate revoked meanwhile (its replacement has its own mail) or to an erased address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from exchange.certificates import pdf, service, view
from exchange.certificates.texts import TEXTS
from exchange.mail import render
from exchange.mail.render import InvalidMail, RenderedMail, one_line
from exchange.models import Certificate, CertificateStatus, Organisation, OutboxMail
from exchange.privacy import ERASED_RECIPIENT, is_erased_address
from exchange.settings import Settings

_LINK_STYLE = "color:#0b6e4f;"


@dataclass
class CertificateMail:
    mail: OutboxMail
    certificate: Certificate | None
    # Who the mail speaks for (Reply-To): the organisation that issued the certificate.
    issued_by: Organisation | None


async def load(mail: OutboxMail) -> CertificateMail:
    certificate_id = mail.payload.get("certificate_id") if isinstance(mail.payload, dict) else None
    if not isinstance(certificate_id, int) or isinstance(certificate_id, bool):
        raise InvalidMail("a certificate mail without certificate_id in its payload")
    certificate = await Certificate.get_or_none(id=certificate_id)
    issued_by = None
    if certificate is not None and certificate.issued_by_id is not None:
        issued_by = await Organisation.get_or_none(id=certificate.issued_by_id)
    return CertificateMail(mail, certificate, issued_by)


def skip_reason(data: CertificateMail) -> str | None:
    if is_erased_address(data.mail.recipient):
        return ERASED_RECIPIENT
    if data.certificate is None:
        return "the certificate no longer exists"
    if data.certificate.status is not CertificateStatus.VALID:
        return "the certificate was revoked before its mail went out"
    return None


def compose_bytes(data: CertificateMail, settings: Settings, *, now: datetime | None = None) -> RenderedMail:
    """The mail as sent; ``data`` must have passed skip_reason."""
    certificate, mail = data.certificate, data.mail
    if certificate is None:
        raise InvalidMail("the certificate is gone")
    code = service.code_of(certificate, settings)
    if code is None:
        raise InvalidMail(
            "the signing key changed since the certificate was issued, and the old one is not in "
            "EXCHANGE_PREVIOUS_SECRET_KEYS: its code cannot be written again"
        )
    now = now or datetime.now(UTC)
    lang = certificate.language if certificate.language in TEXTS else "en"
    words = TEXTS[lang]
    shown = view.build(certificate, lang, code=code, public_url=settings.public_url)
    assert shown.url is not None and shown.code is not None
    from_address = render.sender(settings)
    platform = from_address.display_name or "Volunteer Exchange"
    document = pdf.render(shown, platform=platform)
    to_address = render._address(shown.name, mail.recipient)
    reply_to = None
    if data.issued_by is not None and data.issued_by.contact_email:
        try:
            reply_to = render._address(shown.issued_by, data.issued_by.contact_email)
        except InvalidMail:
            reply_to = None
    subject = one_line(words["mail_subject"].format(title=shown.exchange), 250)
    paragraphs = [
        words["mail_greeting"].format(name=one_line(shown.name)),
        words["mail_issued"].format(organisation=shown.issued_by, title=shown.exchange),
        words["mail_verify"].format(code=shown.code, url=shown.url),
        words["mail_replaced"],
    ]
    text = "\n\n".join(paragraphs) + "\n"
    link = Markup('<a href="{url}" style="{style}">{url}</a>').format(url=shown.url, style=_LINK_STYLE)
    code_html = Markup("<strong>{}</strong>").format(shown.code)
    verify = escape(words["mail_verify"]).replace(escape("{code}"), code_html).replace(escape("{url}"), link)
    html = Markup(
        '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{subject}</title></head>'
        '<body style="font-family:sans-serif;line-height:1.5;color:#1a1a1a;">'
        "<p>{p0}</p><p>{p1}</p><p>{verify}</p><p>{p3}</p></body></html>\n"
    ).format(lang=lang, subject=subject, p0=paragraphs[0], p1=paragraphs[1], verify=verify, p3=paragraphs[3])
    alternative = render._multipart(
        "alternative",
        [
            render._quoted_printable_part('text/plain; charset="utf-8"', text),
            render._quoted_printable_part('text/html; charset="utf-8"', str(html)),
        ],
    )
    filename = f"certificate-{lang}.pdf"
    attachment = render._base64_part(
        f'application/pdf; name="{filename}"',
        document,
        f'Content-Disposition: attachment; filename="{filename}"\r\n',
    )
    body = render._multipart("mixed", [alternative, attachment])
    return render.with_headers(body, mail.message_id, from_address, to_address, reply_to, subject, lang, now)
