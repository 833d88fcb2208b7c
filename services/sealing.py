"""How events are stored: sealed with the person's key and chained by hash.

Stored state = MAGIC | prev_hash | own_hash | nonce | AES-GCM(ciphertext).
`own_hash = sha256(prev_hash | case id | version | topic | nonce | ciphertext)`, so the
chain is computed over exactly the bytes in the database: erasing a key leaves the
chain intact, and flipping, deleting, reordering or swapping stored bytes breaks it at
the first bad version (`services/verification.py`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic

from services.keys import SubjectKeys

MAGIC = b"RK1"
GENESIS = bytes(32)
HEADER = len(MAGIC) + 32 + 32 + 12


class ErasedError(MapperDeserialisationError):
    """This event belongs to a person whose data was erased."""


@dataclass(frozen=True)
class SealedParts:
    prev_hash: bytes
    own_hash: bytes
    nonce: bytes
    ciphertext: bytes


def split(state: bytes) -> SealedParts:
    if not state.startswith(MAGIC) or len(state) < HEADER:
        raise ValueError("not a sealed event")
    i = len(MAGIC)
    return SealedParts(state[i : i + 32], state[i + 32 : i + 64], state[i + 64 : HEADER], state[HEADER:])


def chain_hash(prev: bytes, case_id: str, version: int, topic: str, nonce: bytes, ciphertext: bytes) -> bytes:
    digest = hashlib.sha256(prev)
    for part in (case_id.encode(), str(version).encode(), topic.encode(), nonce, ciphertext):
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.digest()


def aad(case_id: str, version: int, topic: str) -> bytes:
    return f"{case_id}|{version}|{topic}".encode()


def guardians_named(domain_event: DomainEventProtocol[UUID]) -> list[Any]:
    """The guardians an event names: the offer's (`guardians`) or one registered later
    (`guardian`, GuardianAdded). Each is a mention in the key store, so their access request
    finds the case and erasing them scrubs it."""
    named = list(getattr(domain_event, "guardians", None) or ())
    guardian = getattr(domain_event, "guardian", None)
    if guardian is not None:
        named.append(guardian)
    return named


class SealingMapper(Mapper[UUID]):
    """Seals with the case's subject key and links each event to its predecessor."""

    def __init__(self, transcoder: Transcoder, keys: SubjectKeys, subject_field: str) -> None:
        super().__init__(transcoder)
        self.keys = keys
        self.subject_field = subject_field  # "youth" or "person" on the first event
        self.recorder: ApplicationRecorder | None = None  # set by the application
        self._heads: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        case_id, version = str(state.pop("originator_id")), state.pop("originator_version")
        # The event's class version, as eventsourcing's own mapper stores it: a later class
        # upcasts from there (`Mapper.to_domain_event`). Events sealed before this was written
        # have none and are read as version 1, so every upcaster also leaves a newer state as
        # it is (tests/unit/test_event_upcasting.py reads the stored examples of each version).
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        plaintext = self.transcoder.encode(state)
        if version == 1:
            key = self.keys.open_case(case_id, getattr(domain_event, self.subject_field).national_id)
        else:
            found = self.keys.key_for_case(case_id)
            if found is None:
                raise ErasedError(f"case {case_id} was erased; it cannot change")
            key = found
        for guardian in guardians_named(domain_event):
            self.keys.mention(case_id, guardian.national_id, "guardian")
        return self.seal(domain_event.originator_id, version, topic, plaintext, key)

    def seal(
        self, originator_id: UUID, version: int, topic: str, plaintext: bytes, key: bytes
    ) -> StoredEvent:
        """The stored event of an event's transcoded state: sealed with `key`, chained to
        the case's previous version."""
        case_id = str(originator_id)
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad(case_id, version, topic))
        prev = self._head(case_id, version - 1)
        own = chain_hash(prev, case_id, version, topic, nonce, ciphertext)
        with self._lock:
            self._heads[case_id] = (version, own)
        return StoredEvent(originator_id, version, topic, MAGIC + prev + own + nonce + ciphertext)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        case_id, version = str(stored_event.originator_id), stored_event.originator_version
        parts = split(stored_event.state)
        with self._lock:  # forward only: a reader of old events must not move a writer's head back
            cached = self._heads.get(case_id)
            if cached is None or cached[0] < version:
                self._heads[case_id] = (version, parts.own_hash)
        key = self.keys.key_for_case(case_id)
        if key is None:
            raise ErasedError(f"case {case_id} v{version} belongs to an erased person")
        plaintext = AESGCM(key).decrypt(
            parts.nonce, parts.ciphertext, aad(case_id, version, stored_event.topic)
        )
        return super().to_domain_event(
            StoredEvent(stored_event.originator_id, version, stored_event.topic, plaintext)
        )

    def forget(self, case_id: str) -> None:
        """Drop the cached chain head after a failed save (another writer won the race)."""
        with self._lock:
            self._heads.pop(case_id, None)

    def _head(self, case_id: str, version: int) -> bytes:
        if version == 0:
            return GENESIS
        with self._lock:
            cached = self._heads.get(case_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        assert self.recorder is not None, "the application sets the recorder"
        stored = self.recorder.select_events(UUID(case_id), lte=version, desc=True, limit=1)
        if not stored or stored[0].originator_version != version:
            raise ValueError(f"case {case_id}: no stored version {version} to chain to")
        return split(stored[0].state).own_hash
