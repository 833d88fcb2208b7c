"""Tamper evidence: recompute a case's hash chain from the stored bytes.

A byte flip, a deleted event, two swapped events or a forged link breaks the chain at
the first bad version. Dropping the newest events, or replacing the whole chain with a
self-consistent forgery, leaves a valid-looking chain: that is what signed checkpoints
(`services/checkpoints.py`) catch, by comparing against a head published earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import StoredEvent

from services.sealing import GENESIS, chain_hash, split


@dataclass(frozen=True)
class Verification:
    valid: bool
    events: int
    first_invalid_version: int | None = None
    reason: str | None = None
    head: str | None = None  # hex of the last good hash

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"valid": self.valid, "events": self.events}
        if not self.valid:
            out["first_invalid_version"] = self.first_invalid_version
            out["reason"] = self.reason
        if self.head:
            out["head"] = self.head
        return out


@dataclass(frozen=True)
class Checkpoint:
    case_id: str
    version: int
    head: str


def verify_chain(
    case_id: str, stored: Sequence[StoredEvent], checkpoint: Checkpoint | None = None
) -> Verification:
    prev = GENESIS
    for expected_version, event in enumerate(stored, start=1):
        bad = _check(case_id, expected_version, event, prev)
        if bad:
            return Verification(False, len(stored), expected_version, bad, prev.hex())
        prev = split(event.state).own_hash
        if checkpoint and checkpoint.version == expected_version and prev.hex() != checkpoint.head:
            return Verification(
                False, len(stored), expected_version, "differs from the signed checkpoint", prev.hex()
            )
    if checkpoint and len(stored) < checkpoint.version:
        return Verification(
            False,
            len(stored),
            len(stored) + 1,
            f"missing: a signed checkpoint vouches for version {checkpoint.version}",
            prev.hex(),
        )
    return Verification(True, len(stored), head=prev.hex() if stored else None)


def _check(case_id: str, version: int, event: StoredEvent, prev: bytes) -> str | None:
    if event.originator_version != version:
        return f"version {version} is missing (found {event.originator_version} in its place)"
    try:
        parts = split(event.state)
    except ValueError:
        return "not a sealed, chained event"
    if parts.prev_hash != prev:
        return "does not link to the previous event"
    own = chain_hash(prev, case_id, version, event.topic, parts.nonce, parts.ciphertext)
    if own != parts.own_hash:
        return "its stored bytes were altered"
    return None
