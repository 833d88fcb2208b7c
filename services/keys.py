"""Per-person data keys for crypto-shredding, kept apart from the events.

Every case is linked to the person it is about; the case's events are sealed with that
person's key. Erasing the person deletes the key: the sealed bytes stay (so the hash
chain still verifies) but nobody can read them again. The key store is an interface so
production can put it in a separate database or a KMS; `infra/db/keystore.py` keeps it
in SQL. Keys are cached in memory so normal reads stay fast.

Every erasure leaves a notice in the key store (one per case it touched). Each process
reads the notices it has not seen (`apply_erasures`: at once in the process that erased,
within a fraction of a second elsewhere, `services/erasure.py ErasureWatch`) and drops
the cases' keys from its cache and every plaintext copy its listeners hold (`on_erased`:
live cases, projector and router state). `ttl` only bounds the cache should a notice be
missed.

Erasing a guardian (a person the case names without being about them) marks their
mentions erased: `scrub` replaces them by a placeholder in every record it is given.
A person erased and later the subject of a new case gets a new key; their old cases stay
shredded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cachetools import LRUCache, TTLCache
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.policy import EventRecord

KEY_BYTES = 32
CACHED_CASES = 100_000  # per cache; a key and a reference are a few hundred bytes each
# What an erased guardian is shown as, wherever a record names them.
ERASED_PERSON: dict[str, Any] = {"name": "[slettet]", "national_id": "[slettet]", "birth_date": None}

log = logging.getLogger("ruskontrakt.keys")
Listener = Callable[[list[str]], None]  # told the ids of cases whose plaintext must go


class KeyStore(Protocol):
    def create_subject_key(self, subject_ref: str, key: bytes) -> bytes:
        """Store `key` for the subject unless one exists; return the subject's key."""

    def link_case(self, case_id: str, subject_ref: str) -> None: ...

    def mention(self, case_id: str, subject_ref: str, role: str) -> None:
        """Record that a case names another person (a guardian), for their access requests."""

    def cases_mentioning(self, subject_ref: str) -> list[tuple[str, str]]:
        """(case id, role) of every case that names the person without being about them."""

    def subject_of_case(self, case_id: str) -> str | None: ...

    def case_key(self, case_id: str) -> bytes | None:
        """The key that seals the case; None when its person was erased (or it is unknown)."""

    def erase_subject(self, subject_ref: str) -> list[str]:
        """Delete the subject's key and mark their mentions erased, leaving a notice for every
        case either touched; return the ids of the cases the key unlocked."""

    def cases_of(self, subject_ref: str) -> list[str]: ...

    def erased_mentions(self, case_id: str) -> list[str]:
        """The references of the erased persons the case names (guardians)."""

    def cases_with_erased_mentions(self) -> list[str]: ...

    def erasures_after(self, seq: int) -> list[tuple[int, str]]:
        """(sequence number, case id) of the erasure notices after `seq`, in order."""

    def last_erasure(self) -> int: ...


class SubjectKeys:
    """Finds and caches the key that seals a case; creates a person's key on first use."""

    def __init__(self, store: KeyStore, pepper: bytes, ttl: float = 300.0) -> None:
        self.store = store
        self.pepper = pepper
        self.ttl = ttl
        # case -> its data key, or None for an erased person; each entry at most `ttl`
        # seconds (the erasure notices drop it much sooner). ttl 0: nothing is reused.
        self._keys: TTLCache[str, bytes | None] = TTLCache(CACHED_CASES, ttl)
        self._refs: LRUCache[str, str] = LRUCache(CACHED_CASES)  # a case's subject never changes
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self._erasures = 0  # a key read from the store before an erasure is not cached after it
        # Erasure notices: the last one this process has applied, and who to tell.
        self._seen = store.last_erasure()
        self._notices = threading.Lock()  # one reader of the notices at a time
        self._listeners: list[weakref.WeakMethod[Listener] | Listener] = []
        # case -> the erased guardians it names (few: loaded once, kept current by the notices)
        self._erased_mentions: dict[str, frozenset[str]] = {}
        for case_id in store.cases_with_erased_mentions():
            self._erased_mentions[case_id] = frozenset(store.erased_mentions(case_id))

    def subject_ref(self, national_id: str) -> str:
        """A pseudonymous, stable reference: the key store never holds national ids."""
        return hmac.new(self.pepper, national_id.encode(), hashlib.sha256).hexdigest()

    def open_case(self, case_id: str, national_id: str) -> bytes:
        """The key of a new case: its person's, or a new one for a new person (or for one
        whose data was erased: their old cases stay shredded)."""
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

    def subjects_of_cases(self, case_ids: Sequence[str]) -> dict[str, str | None]:
        """`subject_of_case` of many cases (a worklist page's), the cache locked once."""
        with self._lock:
            found: dict[str, str | None] = {c: self._refs.get(c) for c in case_ids}
        for case_id, ref in found.items():
            if ref is None:
                found[case_id] = self.subject_of_case(case_id)
        return found

    def keys_for_cases(self, case_ids: Sequence[str]) -> dict[str, bytes | None]:
        """`key_for_case` of many cases (a worklist page's), the cache locked once."""
        found: dict[str, bytes | None] = {}
        missing = []
        with self._lock:
            for case_id in case_ids:
                try:
                    found[case_id] = self._keys[case_id]  # KeyError when missing or expired
                except KeyError:
                    missing.append(case_id)
        for case_id in missing:
            found[case_id] = self.key_for_case(case_id)
        return found

    def key_for_case(self, case_id: str) -> bytes | None:
        with self._lock:
            try:
                return self._keys[case_id]  # raises KeyError when missing or expired
            except KeyError:
                erasures = self._erasures
        key = self.store.case_key(case_id)
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

    def scrub(self, record: EventRecord) -> EventRecord:
        """The record with every erased guardian it names replaced by `ERASED_PERSON`."""
        with self._lock:
            erased = self._erased_mentions.get(record.case_id)
        if not erased:
            return record
        payload = dict(record.payload)
        for name in ("guardians", "guardian"):
            value = payload.get(name)
            if isinstance(value, list):
                payload[name] = [self._scrubbed(g, erased) for g in value]
            elif isinstance(value, dict):
                payload[name] = self._scrubbed(value, erased)
        return dataclasses.replace(record, payload=payload)

    def _scrubbed(self, person: Any, erased: frozenset[str]) -> Any:
        if isinstance(person, dict) and self.subject_ref(str(person.get("national_id"))) in erased:
            return dict(ERASED_PERSON)
        return person

    def erase(self, national_id: str) -> list[str]:
        return self.erase_ref(self.subject_ref(national_id))

    def erase_ref(self, subject_ref: str) -> list[str]:
        """Erase the person in the store; this process forgets at once (the others by the
        notice the store keeps)."""
        cases = self.store.erase_subject(subject_ref)
        self.apply_erasures()
        return cases

    def cases_of(self, national_id: str) -> list[str]:
        return self.store.cases_of(self.subject_ref(national_id))

    # --- erasure notices ----------------------------------------------------------------------

    def on_erased(self, listener: Listener) -> None:
        """Tell `listener` the ids of the cases of every erasure from now on, whichever process
        erased. A bound method is held weakly: a listener that goes (a stream's router) is not
        kept alive by this."""
        held: weakref.WeakMethod[Listener] | Listener = (
            weakref.WeakMethod(listener) if hasattr(listener, "__self__") else listener
        )
        with self._notices:
            self._listeners.append(held)

    def apply_erasures(self) -> list[str]:
        """Read the erasure notices this process has not applied yet: drop the cases' keys
        and tell every listener; the case ids."""
        with self._notices:
            news = self.store.erasures_after(self._seen)
            if not news:
                return []
            case_ids = list(dict.fromkeys(case_id for _, case_id in news))
            mentions = {case_id: frozenset(self.store.erased_mentions(case_id)) for case_id in case_ids}
            with self._lock:
                self._erasures += 1
                for case_id in case_ids:
                    self._keys.pop(case_id, None)
                    if mentions[case_id]:
                        self._erased_mentions[case_id] = mentions[case_id]
            self._seen = news[-1][0]
            listeners = [self._resolve(held) for held in self._listeners]
            self._listeners = [h for h, alive in zip(self._listeners, listeners, strict=True) if alive]
        for listener in listeners:
            if listener is not None:
                try:
                    listener(case_ids)
                except Exception:  # one failing holder must not keep the others' plaintext
                    log.exception("a holder of case data failed to forget erased cases")
        return case_ids

    @staticmethod
    def _resolve(held: weakref.WeakMethod[Listener] | Listener) -> Listener | None:
        return held() if isinstance(held, weakref.WeakMethod) else held

    def _remember(self, case_id: str, key: bytes | None, ref: str | None = None) -> None:
        with self._lock:
            self._keys[case_id] = key
        if ref is not None:
            self._remember_ref(case_id, ref)

    def _remember_ref(self, case_id: str, ref: str) -> None:
        with self._lock:
            self._refs[case_id] = ref


def erased_among(keys: SubjectKeys, case_ids: Sequence[str]) -> list[str]:
    """Of `case_ids`, those whose person was erased (their key is gone)."""
    return [case_id for case_id in case_ids if keys.key_for_case(case_id) is None]


class ErasedSubjectError(Exception):
    """This person's data was erased; no new case can be sealed under the old key."""
