"""Per-person data keys for crypto-shredding, kept apart from the events.

Every case is linked to the person it is about; the case's events are sealed with that
person's key. Erasing the person deletes the key: the sealed bytes stay (so the hash
chain still verifies) but nobody can read them again. The key store is an interface so
production can put it in a separate database or a KMS; `infra/db/keystore.py` keeps it
in SQL. Keys are cached in memory for `ttl` seconds so normal reads stay fast; an
erasure evicts the local cache at once and other processes within the TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32


class KeyStore(Protocol):
    def create_subject_key(self, subject_ref: str, key: bytes) -> bytes:
        """Store `key` for the subject unless one exists; return the subject's key."""

    def link_case(self, case_id: str, subject_ref: str) -> None: ...

    def mention(self, case_id: str, subject_ref: str, role: str) -> None:
        """Record that a case names another person (a guardian), for their access requests."""

    def cases_mentioning(self, subject_ref: str) -> list[tuple[str, str]]:
        """(case id, role) of every case that names the person without being about them."""

    def subject_of_case(self, case_id: str) -> str | None: ...

    def subject_key(self, subject_ref: str) -> bytes | None:
        """None when the subject was erased (or never existed)."""

    def erase_subject(self, subject_ref: str) -> list[str]:
        """Delete the subject's key; return the ids of the cases it unlocked."""

    def cases_of(self, subject_ref: str) -> list[str]: ...


class SubjectKeys:
    """Finds and caches the key that seals a case; creates a person's key on first use."""

    def __init__(self, store: KeyStore, pepper: bytes, ttl: float = 300.0) -> None:
        self.store = store
        self.pepper = pepper
        self.ttl = ttl
        self._cache: dict[str, tuple[float, bytes | None]] = {}
        self._refs: dict[str, str] = {}  # case -> subject: a case's subject never changes
        self._lock = threading.Lock()

    def subject_ref(self, national_id: str) -> str:
        """A pseudonymous, stable reference: the key store never holds national ids."""
        return hmac.new(self.pepper, national_id.encode(), hashlib.sha256).hexdigest()

    def open_case(self, case_id: str, national_id: str) -> bytes:
        ref = self.subject_ref(national_id)
        key = self.store.create_subject_key(ref, os.urandom(KEY_BYTES))
        self.store.link_case(case_id, ref)
        self._remember(case_id, key, ref)
        return key

    def subject_of_case(self, case_id: str) -> str | None:
        """The pseudonymous reference of the person the case is about (cached)."""
        with self._lock:
            ref = self._refs.get(case_id)
        if ref is None:
            ref = self.store.subject_of_case(case_id)
            if ref is not None:
                self._remember_ref(case_id, ref)
        return ref

    def key_for_case(self, case_id: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(case_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        ref = self.subject_of_case(case_id)
        key = self.store.subject_key(ref) if ref else None
        self._remember(case_id, key)
        return key

    def seal_json(self, case_id: str, value: Any) -> bytes:
        """Seal a copy of case data (a read model row, a stored response) with the case's key,
        so erasing the person shreds the copy too, wherever it was written."""
        key = self.key_for_case(case_id)
        if key is None:
            raise ErasedSubjectError(case_id)
        nonce = os.urandom(12)
        data = json.dumps(value, separators=(",", ":")).encode()
        return nonce + AESGCM(key).encrypt(nonce, data, case_id.encode())

    def open_json(self, case_id: str, sealed: bytes) -> Any | None:
        """The sealed value, or None when the person was erased."""
        key = self.key_for_case(case_id)
        if key is None:
            return None
        return json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], case_id.encode()))

    def mention(self, case_id: str, national_id: str, role: str) -> None:
        self.store.mention(case_id, self.subject_ref(national_id), role)

    def cases_mentioning(self, national_id: str) -> list[tuple[str, str]]:
        return self.store.cases_mentioning(self.subject_ref(national_id))

    def erase(self, national_id: str) -> list[str]:
        return self.erase_ref(self.subject_ref(national_id))

    def erase_ref(self, subject_ref: str) -> list[str]:
        cases = self.store.erase_subject(subject_ref)
        with self._lock:
            for case_id in cases:
                self._cache.pop(case_id, None)
        return cases

    def cases_of(self, national_id: str) -> list[str]:
        return self.store.cases_of(self.subject_ref(national_id))

    def _remember(self, case_id: str, key: bytes | None, ref: str | None = None) -> None:
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[case_id] = (time.monotonic(), key)
        if ref is not None:
            self._remember_ref(case_id, ref)

    def _remember_ref(self, case_id: str, ref: str) -> None:
        with self._lock:
            if len(self._refs) > 100_000:
                self._refs.clear()
            self._refs[case_id] = ref


class MemoryKeyStore:
    """For unit tests."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}
        self.cases: dict[str, str] = {}
        self.mentions: list[tuple[str, str, str]] = []

    def mention(self, case_id: str, subject_ref: str, role: str) -> None:
        self.mentions.append((case_id, subject_ref, role))

    def cases_mentioning(self, subject_ref: str) -> list[tuple[str, str]]:
        return [(c, r) for c, s, r in self.mentions if s == subject_ref]

    def create_subject_key(self, subject_ref: str, key: bytes) -> bytes:
        existing = self.keys.setdefault(subject_ref, key)
        if existing is None:
            raise ErasedSubjectError(subject_ref)
        return existing

    def link_case(self, case_id: str, subject_ref: str) -> None:
        self.cases[case_id] = subject_ref

    def subject_of_case(self, case_id: str) -> str | None:
        return self.cases.get(case_id)

    def subject_key(self, subject_ref: str) -> bytes | None:
        return self.keys.get(subject_ref)

    def erase_subject(self, subject_ref: str) -> list[str]:
        self.keys[subject_ref] = None
        return self.cases_of(subject_ref)

    def cases_of(self, subject_ref: str) -> list[str]:
        return [c for c, s in self.cases.items() if s == subject_ref]


class ErasedSubjectError(Exception):
    """This person's data was erased; no new case can be sealed under the old key."""
