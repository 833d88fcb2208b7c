"""The built-in development secret and pepper are used only on loopback with the embedded
store; a configured secret must be long enough; tokens live at most the configured cap;
`iss`/`aud` are checked when configured; a garbage token's 401 names no library internals
(issue 14, finding 3)."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from domain.values import Agency
from infra.auth import AuthenticationError, TokenService
from infra.bootstrap import _pepper
from infra.settings import DEV_JWT_SECRET, DEV_KEY_PEPPER, ConfigurationError, Settings

SECRET = "unit-secret-that-is-long-enough-for-hs256"
ROOT = Path(__file__).resolve().parents[2]


def _settings(**changes: Any) -> Settings:
    return Settings(**{"jwt_secret": None, "key_pepper": None, "kafka_bootstrap": None, **changes})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_on_loopback_with_the_embedded_store_the_development_secret_and_pepper_are_used(host: str) -> None:
    settings = _settings(host=host)
    assert TokenService(settings).secret == DEV_JWT_SECRET
    assert _pepper(settings) == DEV_KEY_PEPPER.encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"host": "0.0.0.0"},
        {"host": "::"},
        {"host": "10.0.0.5"},
        {"database_url": "postgresql://u:p@db:5432/x"},
        {"kafka_bootstrap": "kafka:9092"},
    ],
    ids=["all-ipv4", "all-ipv6", "lan-address", "postgres", "kafka"],
)
def test_anywhere_else_start_up_stops_and_names_the_setting_to_set(changes: dict[str, str]) -> None:
    settings = _settings(**changes)
    with pytest.raises(ConfigurationError, match="RUSKONTRAKT_JWT_SECRET") as secret_error:
        TokenService(settings)
    with pytest.raises(ConfigurationError, match="RUSKONTRAKT_KEY_PEPPER") as pepper_error:
        _pepper(settings)
    for error in (secret_error.value, pepper_error.value):
        assert "\n" not in str(error), "one line"


def test_a_secret_shorter_than_32_bytes_stops_start_up_even_in_development() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        TokenService(_settings(jwt_secret="x"))
    with pytest.raises(ConfigurationError, match="32 bytes"):
        TokenService(_settings(jwt_secret="a" * 31, host="0.0.0.0"))
    assert TokenService(_settings(jwt_secret="a" * 32, host="0.0.0.0")).secret == "a" * 32


def _token(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(
        {"sub": "p-1", "agency": "police", "unit": "oslo", "role": "investigation", **claims},
        secret,
        algorithm="HS256",
    )


def test_a_token_living_longer_than_the_cap_is_refused() -> None:
    tokens = TokenService(_settings(jwt_secret=SECRET, jwt_max_ttl_seconds=3600))
    now = int(time.time())
    assert tokens.verify(_token({"iat": now, "exp": now + 3600})).agency is Agency.POLICE
    with pytest.raises(AuthenticationError, match="lifetime"):
        tokens.verify(_token({"iat": now, "exp": now + 3601}))
    with pytest.raises(AuthenticationError, match="lifetime"):
        tokens.verify(_token({"exp": 10**20}))  # no iat: judged from now
    with pytest.raises(AuthenticationError, match="lifetime"):
        tokens.verify(_token({"iat": now - 10**6, "exp": now + 60}))  # issued long ago


def test_the_default_cap_is_twelve_hours() -> None:
    assert Settings().jwt_max_ttl_seconds == 12 * 3600


def test_issuing_a_token_beyond_the_cap_is_refused() -> None:
    tokens = TokenService(_settings(jwt_secret=SECRET, jwt_max_ttl_seconds=3600))
    with pytest.raises(ValueError, match="RUSKONTRAKT_JWT_MAX_TTL_SECONDS"):
        tokens.issue(Agency.GP, "gp-1", "9144900", ttl=3601)
    issued = jwt.decode(tokens.issue(Agency.GP, "gp-1", "9144900", ttl=3600), SECRET, algorithms=["HS256"])
    assert issued["exp"] - issued["iat"] == 3600


def test_issuer_and_audience_are_checked_when_configured() -> None:
    tokens = TokenService(_settings(jwt_secret=SECRET, jwt_issuer="idp.kommune.no", jwt_audience="rk"))
    exp = int(time.time()) + 60
    assert tokens.verify(_token({"exp": exp, "iss": "idp.kommune.no", "aud": "rk"})).sub == "p-1"
    assert tokens.verify(tokens.issue(Agency.GP, "gp-1", "9144900")).agency is Agency.GP, "issued with both"
    for claims in ({}, {"iss": "idp.kommune.no"}, {"aud": "rk"}, {"iss": "evil", "aud": "rk"}):
        with pytest.raises(AuthenticationError):
            tokens.verify(_token({"exp": exp, **claims}))
    unconfigured = TokenService(_settings(jwt_secret=SECRET))
    assert unconfigured.verify(_token({"exp": exp, "iss": "anyone", "aud": "anything"})).sub == "p-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "garbage",
    [
        "nonsense",
        "a.b.c",
        "....",
        _b64(b'{"alg":"HS256"}') + ".!!!.sig",
        f"{_b64(bytes([0xFF, 0xFE]))}.{_b64(b'{}')}.{_b64(b'sig')}",
        # correctly signed, but the payload is not text: PyJWT's message is a codec error
        jwt.api_jws.encode(bytes([0x80, 0x81]), SECRET, algorithm="HS256"),
    ],
)
def test_a_garbage_token_is_refused_in_plain_words(garbage: str) -> None:
    tokens = TokenService(_settings(jwt_secret=SECRET))
    with pytest.raises(AuthenticationError) as refused:
        tokens.verify(garbage)
    assert str(refused.value) == "the token is not a valid JWT"


def test_the_image_listens_on_every_address_so_it_needs_a_real_secret() -> None:
    """The Docker image's `CMD serve` must not fall back to the development secret."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUSKONTRAKT_HOST=0.0.0.0" in dockerfile
    assert "RUSKONTRAKT_JWT_SECRET" in dockerfile and "RUSKONTRAKT_KEY_PEPPER" in dockerfile
