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
from typing import Any, Protocol

from cachetools import LRUCache, TTLCache
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
CACHED_CASES = 100_000  # per cache; a key and a reference are a few hundred bytes each


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
        # case -> its data key, or None for an erased person; each entry for `ttl` seconds
        # (another process's erasure reaches this one by then). ttl 0: nothing is reused.
        self._keys: TTLCache[str, bytes | None] = TTLCache(CACHED_CASES, ttl)
        self._refs: LRUCache[str, str] = LRUCache(CACHED_CASES)  # a case's subject never changes
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self._erasures = 0  # a key read from the store before an erasure is not cached after it

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
        with self._lock:
            try:
                return self._keys[case_id]  # raises KeyError when missing or expired
            except KeyError:
                erasures = self._erasures
        ref = self.subject_of_case(case_id)
        key = self.store.subject_key(ref) if ref else None
        with self._lock:
            if erasures == self._erasures:
                self._keys[case_id] = key
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
            self._erasures += 1
            for case_id in cases:
                self._keys.pop(case_id, None)
        return cases

    def cases_of(self, national_id: str) -> list[str]:
        return self.store.cases_of(self.subject_ref(national_id))

    def _remember(self, case_id: str, key: bytes | None, ref: str | None = None) -> None:
        with self._lock:
            self._keys[case_id] = key
        if ref is not None:
            self._remember_ref(case_id, ref)

    def _remember_ref(self, case_id: str, ref: str) -> None:
        with self._lock:
            self._refs[case_id] = ref


class ErasedSubjectError(Exception):
    """This person's data was erased; no new case can be sealed under the old key."""
