"""The sign-in page: a token field in development; behind an identity provider's proxy the
user is signed in already (`infra/web/session.py` says how)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra.auth import AuthenticationError
from infra.bootstrap import Container
from infra.web import pages
from infra.web.forms import FormData
from infra.web.session import principal_of, sign_in, sign_out


def sign_in_page(request: Request, c: Container, status: int = 200, problem_text: str = "") -> HTMLResponse:
    return pages.render(
        request,
        c,
        principal_of(request, c),
        "sign_in.html",
        status,
        problem_text=problem_text,
        next=_next(request.query_params.get("neste")),
        title="Logg inn",
    )


def signed_in_with(request: Request, c: Container, form: FormData) -> Response:
    token = form.text("token").strip()
    response = RedirectResponse(_next(form.one("neste")), 303)
    try:
        principal = sign_in(response, c, token)
    except (AuthenticationError, ValueError) as error:
        return sign_in_page(request, c, 401, f"Innloggingen ble avvist: {error}.")
    if _next(form.one("neste")) == "/ui/":
        response.headers["location"] = pages.start(principal).headers["location"]
    return response


def signed_out() -> Response:
    response = RedirectResponse("/ui/logg-inn", 303)
    sign_out(response)
    return response


def _next(target: str | None) -> str:
    """Only a page of this service: an open redirect would send a signed-in user anywhere."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"
