"""Bearer tokens: HS256 with a shared secret in embedded/dev mode, RS256/ES256 in production."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cachetools import TLRUCache

from domain.need_to_know import MUNICIPAL, POLICE_ROLES, UnitFormatError, check_unit
from domain.values import Actor, Agency
from infra.settings import DEV_JWT_SECRET, ConfigurationError, Settings

if TYPE_CHECKING:
    from jwt.types import Options  # not in every PyJWT >= 2.9 at run time

log = logging.getLogger("ruskontrakt.auth")
VERIFIED_TOKENS = 10_000  # the least recently used goes first
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash


class AuthenticationError(Exception):
    """The bearer token is missing, invalid or expired."""


@dataclass(frozen=True)
class Principal:
    sub: str
    agency: Agency
    unit: str | None = None  # the user's office (docs/domain.md §9); None only for the auditor
    role: str | None = None  # police only: prevention | investigation

    @property
    def actor(self) -> Actor:
        return Actor(self.sub, self.agency)


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret
        self.max_ttl = settings.jwt_max_ttl_seconds
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.keys: list[Any] = []
        if settings.jwt_public_key_file:
            self.keys.append(settings.jwt_public_key_file.read_text())
        if settings.jwt_jwks_file:
            jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
            self.keys.extend(k.key for k in jwks.keys)
        if self.secret is not None and len(self.secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"RUSKONTRAKT_JWT_SECRET is {len(self.secret.encode())} bytes; it must be at least "
                f"{MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            )
        if self.secret is None and not self.keys:
            if not settings.development:
                raise ConfigurationError(
                    "set RUSKONTRAKT_JWT_SECRET (at least 32 bytes) or RUSKONTRAKT_JWT_PUBLIC_KEY_FILE "
                    "/ RUSKONTRAKT_JWT_JWKS_FILE: the built-in development secret is only used on a "
                    "loopback RUSKONTRAKT_HOST with the embedded SQLite store and no Kafka"
                )
            log.warning("development: tokens are signed with the built-in DEVELOPMENT secret")
            self.secret = DEV_JWT_SECRET
        # Clients send the same token with every request; verifying its signature again
        # cannot change the answer, only its expiry can: each token is kept until its `exp`
        # (wall-clock seconds, hence `time.time`) and not a moment longer.
        self._verified: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            VERIFIED_TOKENS, _until_expiry, timer=time.time
        )
        self._lock = threading.Lock()  # request threads share it; cachetools is not thread-safe

    def issue(
        self,
        agency: Agency,
        sub: str,
        unit: str | None = None,
        role: str | None = None,
        ttl: int = 3600,
    ) -> str:
        if self.secret is None:
            raise ValueError("this service verifies public-key tokens; it cannot issue any")
        if ttl > self.max_ttl:
            raise ValueError(f"a token may live at most {self.max_ttl} s (RUSKONTRAKT_JWT_MAX_TTL_SECONDS)")
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "agency": agency.value, "iat": now, "exp": now + ttl}
        if unit:
            claims["unit"] = unit
        if role:
            claims["role"] = role
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        with self._lock:
            try:
                return self._verified[token][0]  # raises KeyError when unknown or expired
            except KeyError:
                pass
        claims = self._decode(token)
        try:
            agency = Agency(claims["agency"])
        except (KeyError, ValueError):
            raise AuthenticationError("the token has no valid 'agency' claim") from None
        if not claims.get("sub"):
            raise AuthenticationError("the token has no 'sub' claim")
        principal = Principal(str(claims["sub"]), agency, *_unit_and_role(agency, claims))
        with self._lock:
            self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        required = ["exp", "sub", *(["iss"] if self.issuer else []), *(["aud"] if self.audience else [])]
        # Without a configured audience PyJWT would refuse every token that names one.
        options: Options = {"require": required, "verify_aud": self.audience is not None}
        errors: list[str] = []
        candidates: list[tuple[Any, list[str]]] = [(k, ["RS256", "ES256"]) for k in self.keys]
        if self.secret is not None:
            candidates.append((self.secret, ["HS256"]))
        for key, algorithms in candidates:
            try:
                claims = dict(
                    jwt.decode(
                        token,
                        key,
                        algorithms=algorithms,
                        options=options,
                        issuer=self.issuer,
                        audience=self.audience,
                    )
                )
            except jwt.PyJWTError as error:
                reason = _in_plain_words(error)
                if reason not in errors:
                    errors.append(reason)
                continue
            self._check_lifetime(claims)
            return claims
        raise AuthenticationError("; ".join(errors) or "no verification key configured")

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """A stolen token must not be good for ever: `exp` at most the cap after `iat`
        (or after now, for a token without `iat`)."""
        try:
            exp = float(claims["exp"])
            start = float(claims["iat"]) if "iat" in claims else time.time()
        except (TypeError, ValueError):
            raise AuthenticationError("the token's 'exp' or 'iat' is not a time") from None
        if exp - start > self.max_ttl:
            raise AuthenticationError(
                f"the token's lifetime is longer than this service accepts ({self.max_ttl} s)"
            )


def _unit_and_role(agency: Agency, claims: dict[str, Any]) -> tuple[str | None, str | None]:
    """The user's unit and police role, refused unless they are of the agency's form.

    A deployment maps its identity provider's claims to these (docs/api.md); `municipality`
    is accepted as the unit of the municipal agencies."""
    if agency is Agency.AUDITOR:
        return None, None
    unit = claims.get("unit")
    if unit is None and agency in MUNICIPAL:
        unit = claims.get("municipality")
    if unit is None:
        raise AuthenticationError(f"the token has no 'unit' claim (every {agency.value} user has one)")
    try:
        check_unit(agency, str(unit))
    except UnitFormatError as error:
        raise AuthenticationError(f"the token's 'unit' claim is not valid: {error}") from None
    role = claims.get("role")
    if agency is Agency.POLICE and role not in POLICE_ROLES:
        raise AuthenticationError(
            f"a police token has a 'role' claim, one of {', '.join(POLICE_ROLES)} (not {role!r})"
        )
    return str(unit), (str(role) if agency is Agency.POLICE else None)


def _in_plain_words(error: jwt.PyJWTError) -> str:
    """What was wrong with a token, without PyJWT's internals (codec and padding errors)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "the token is not valid yet"
    if isinstance(error, jwt.InvalidSignatureError):  # before DecodeError: it is one
        return "the token's signature is not valid"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "the token is not signed with an algorithm this service accepts"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token has no '{error.claim}' claim"
    if isinstance(error, jwt.InvalidIssuerError):
        return "the token is not from the expected issuer ('iss')"
    if isinstance(error, jwt.InvalidAudienceError):
        return "the token is not meant for this service ('aud')"
    if isinstance(error, jwt.InvalidIssuedAtError):
        return "the token's 'iat' is not a time in the past"
    return "the token is not a valid JWT"


def _until_expiry(_token: str, verified: tuple[Principal, float], _now: float) -> float:
    return verified[1]
