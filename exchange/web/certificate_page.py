"""The public verification page of a certificate, /certificates/{code}, and its PDF,
/certificates/{code}.pdf (for the holder: the code is what they hand out).

The page shows what the certificate says (the same view as the PDF) and whether it is valid.
A revoked certificate's page says so and when, with the exchange only: no name, hours or
sessions, and no way to its replacement (only its holder gives that out). A code that is
malformed, forged, unknown or erased is 404, with nothing that tells them apart. Language:
?lang=, else Accept-Language, else the certificate's own.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exchange.certificates import pdf, service, view
from exchange.certificates.texts import TEXTS
from exchange.models import CertificateStatus
from exchange.settings import Settings
from exchange.web.pages import SECURITY_HEADERS, choose_language, html_response, stylesheet_route, templates
from exchange.web.texts import LANGUAGE_NAMES


def _not_found(request: Request) -> HTMLResponse:
    lang = choose_language(request, request.query_params.get("lang"), "en")
    body = templates.get_template("certificate_not_found.html").render(
        lang=lang, t=TEXTS[lang], languages=LANGUAGE_NAMES, switch_url=None, switch_extra=""
    )
    return html_response(body, 404)


def routes(settings: Settings) -> list[Route]:
    async def page(request: Request) -> Response:
        found = await service.find_by_code(request.path_params["code"])
        if found is None:
            return _not_found(request)
        certificate, code = found
        lang = choose_language(request, request.query_params.get("lang"), certificate.language)
        shown = view.build(certificate, lang, code=code, public_url=settings.public_url)
        body = templates.get_template("certificate.html").render(
            lang=lang,
            t=shown.words,
            languages=LANGUAGE_NAMES,
            switch_url=f"/certificates/{shown.code}",
            switch_extra="",
            c=shown,
            pdf_url=f"/certificates/{shown.code}.pdf?lang={lang}",
        )
        return html_response(body, 200)

    async def document(request: Request) -> Response:
        found = await service.find_by_code(request.path_params["code"])
        if found is None:
            return _not_found(request)
        certificate, code = found
        if certificate.status is not CertificateStatus.VALID:
            # A revoked certificate is not handed out again: its page says why.
            return _not_found(request)
        requested = request.query_params.get("lang")
        lang = requested if requested in TEXTS else certificate.language
        shown = view.build(certificate, lang, code=code, public_url=settings.public_url)
        response = Response(pdf.render(shown), media_type="application/pdf")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Disposition"] = f'attachment; filename="certificate-{lang}.pdf"'
        return response

    return [
        stylesheet_route("certificate.css"),
        # The PDF first: "{code}" alone would also match "CODE.pdf".
        Route("/certificates/{code}.pdf", document, methods=["GET"]),
        Route("/certificates/{code}", page, methods=["GET"]),
    ]
