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

from domain.values import Actor, Agency
from infra.settings import DEV_JWT_SECRET, Settings

if TYPE_CHECKING:
    from jwt.types import Options  # not in every PyJWT >= 2.9 at run time

log = logging.getLogger("ruskontrakt.auth")
VERIFIED_TOKENS = 10_000  # the least recently used goes first


class AuthenticationError(Exception):
    """The bearer token is missing, invalid or expired."""


@dataclass(frozen=True)
class Principal:
    sub: str
    agency: Agency
    municipality: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.sub, self.agency)


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret
        self.keys: list[Any] = []
        if settings.jwt_public_key_file:
            self.keys.append(settings.jwt_public_key_file.read_text())
        if settings.jwt_jwks_file:
            jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
            self.keys.extend(k.key for k in jwks.keys)
        if self.secret is None and not self.keys:
            if not settings.embedded:
                raise ValueError(
                    "RUSKONTRAKT_JWT_SECRET or RUSKONTRAKT_JWT_PUBLIC_KEY_FILE / _JWKS_FILE "
                    "is required outside embedded mode"
                )
            log.warning("embedded mode: tokens are signed with the built-in DEVELOPMENT secret")
            self.secret = DEV_JWT_SECRET
        # Clients send the same token with every request; verifying its signature again
        # cannot change the answer, only its expiry can: each token is kept until its `exp`
        # (wall-clock seconds, hence `time.time`) and not a moment longer.
        self._verified: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            VERIFIED_TOKENS, _until_expiry, timer=time.time
        )
        self._lock = threading.Lock()  # request threads share it; cachetools is not thread-safe

    def issue(self, agency: Agency, sub: str, municipality: str | None = None, ttl: int = 3600) -> str:
        if self.secret is None:
            raise ValueError("this service verifies public-key tokens; it cannot issue any")
        claims: dict[str, Any] = {"sub": sub, "agency": agency.value, "exp": int(time.time()) + ttl}
        if municipality:
            claims["municipality"] = municipality
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
        principal = Principal(str(claims["sub"]), agency, claims.get("municipality"))
        with self._lock:
            self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        options: Options = {"require": ["exp", "sub"]}
        errors: list[str] = []
        candidates: list[tuple[Any, list[str]]] = [(k, ["RS256", "ES256"]) for k in self.keys]
        if self.secret is not None:
            candidates.append((self.secret, ["HS256"]))
        for key, algorithms in candidates:
            try:
                return dict(jwt.decode(token, key, algorithms=algorithms, options=options))
            except jwt.PyJWTError as error:
                errors.append(str(error))
        raise AuthenticationError("; ".join(errors) or "no verification key configured")


def _until_expiry(_token: str, verified: tuple[Principal, float], _now: float) -> float:
    return verified[1]
