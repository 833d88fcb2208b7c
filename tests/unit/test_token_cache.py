"""Verified tokens are remembered per process, never beyond their expiry."""

from __future__ import annotations

import time

import jwt
import pytest

from domain.values import Agency
from infra.auth import AuthenticationError, TokenService
from infra.settings import Settings

SECRET = "unit-secret-that-is-long-enough-for-hs256"


def test_a_remembered_token_is_refused_once_it_has_expired() -> None:
    tokens = TokenService(Settings(jwt_secret=SECRET))
    expires = int(time.time()) + 1
    token = jwt.encode(
        {"sub": "p-1", "agency": "police", "unit": "oslo", "role": "investigation", "exp": expires},
        SECRET,
        algorithm="HS256",
    )
    assert tokens.verify(token).agency is Agency.POLICE
    assert tokens.verify(token).sub == "p-1"  # remembered
    while time.time() < expires + 0.05:  # let the expiry pass (JWT times are whole seconds)
        time.sleep(0.05)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(token)


def test_a_token_signed_with_another_secret_is_refused_even_after_a_good_one() -> None:
    tokens = TokenService(Settings(jwt_secret=SECRET))
    good = tokens.issue(Agency.GP, "gp-1", "9144900")
    assert tokens.verify(good).agency is Agency.GP
    forged = jwt.encode(
        {"sub": "gp-1", "agency": "auditor", "exp": int(time.time()) + 60},
        "another-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    with pytest.raises(AuthenticationError):
        tokens.verify(forged)
