"""Who is using the pages, and the forms' protection against cross-site requests.

Sign-in. A page's caller is a `Principal` from the same bearer token the API takes, verified
by the same `TokenService` (`infra/auth.py`), so units, roles and expiry are judged alike:

- in development the sign-in page takes a token (`ruskontrakt token ...`) and keeps it in
  the `rk_token` cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
  page sends it), Secure outside development, and no longer than the token lives;
- the hook for an identity provider: a deployment puts an OpenID Connect proxy in front of
  `/ui/` (e.g. oauth2-proxy with ID-porten or Entra ID) that signs the user in and passes
  the provider's JWT on as `Authorization: Bearer`; it is verified with
  `RUSKONTRAKT_JWT_JWKS_FILE` / `_PUBLIC_KEY_FILE`, and its claims map to `sub`, `agency`,
  `unit`, `role` as for the API (docs/api.md). `principal_of` takes that header before the
  cookie, so nothing else changes; the token field is then not shown.

CSRF. Every form carries a double-submit token: the `rk_csrf` cookie (random, HttpOnly,
SameSite=Strict) and the same value in the form's `csrf` field; a POST whose two differ is
refused (403) before anything else is read. SameSite=Strict on both cookies is the second
fence.
"""

from __future__ import annotations

import hmac
import secrets
import time

from fastapi import Request
from fastapi.responses import Response

from infra.auth import AuthenticationError, Principal
from infra.bootstrap import Container

TOKEN_COOKIE = "rk_token"
CSRF_COOKIE = "rk_csrf"
CSRF_FIELD = "csrf"


def principal_of(request: Request, container: Container) -> Principal | None:
    """The signed-in user: the identity provider's bearer token, else the sign-in cookie;
    None when there is neither or it is not valid (any more)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        principal = container.tokens.verify(token)
    except AuthenticationError:
        return None
    container.rate_limit.check(principal)  # the API's per-user rate (429 beyond it)
    return principal


def sign_in(response: Response, container: Container, token: str) -> Principal:
    """Keep a verified token in the cookie for as long as it lives (AuthenticationError otherwise)."""
    principal = container.tokens.verify(token)
    lifetime = _seconds_left(token)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="strict",
        secure=not container.settings.development,
        path="/ui",
    )
    return principal


def sign_out(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/ui")


def _seconds_left(token: str) -> int:
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})  # verified just before
    return max(0, int(float(claims.get("exp", 0)) - time.time()))


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (a new one when it has none yet; `keep_csrf` sets the cookie)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and len(current) >= 32:
        return current
    token: str = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
    request.state.new_csrf = token
    return token


def keep_csrf(request: Request, response: Response, container: Container) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=not container.settings.development,
            path="/ui",
        )


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))
