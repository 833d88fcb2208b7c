"""Signed checkpoints: chain heads published so truncation and wholesale replacement show.

A checkpoint is only as trustworthy as the place it is kept: append the JSON lines this
module writes to storage the database administrators cannot rewrite (a WORM bucket, the
archive's journal system, or a printed/emailed digest to the supervisory authority).
Keeping them only in the same database as the events proves nothing against its owner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.verification import Checkpoint


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


def _message(case_id: str, version: int, head: str, at: str) -> bytes:
    return json.dumps([case_id, version, head, at]).encode()


class CheckpointLog:
    """An append-only JSON-lines file of signed chain heads."""

    def __init__(self, path: Path, key: Ed25519PrivateKey) -> None:
        self.path = path
        self.key = key
        self.public_key: Ed25519PublicKey = key.public_key()

    def publish(self, heads: Iterable[Checkpoint], at: datetime) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with self.path.open("a") as out:
            for cp in heads:
                stamp = at.isoformat()
                signature = self.key.sign(_message(cp.case_id, cp.version, cp.head, stamp)).hex()
                out.write(
                    json.dumps(
                        {
                            "case_id": cp.case_id,
                            "version": cp.version,
                            "head": cp.head,
                            "at": stamp,
                            "signature": signature,
                        }
                    )
                    + "\n"
                )
                count += 1
        return count

    def latest(self, case_id: str) -> Checkpoint | None:
        """The newest checkpoint of the case whose signature verifies (forged lines are ignored)."""
        if not self.path.exists():
            return None
        found: Checkpoint | None = None
        for line in self.path.read_text().splitlines():
            entry = json.loads(line)
            if entry["case_id"] != case_id:
                continue
            message = _message(entry["case_id"], entry["version"], entry["head"], entry["at"])
            try:
                self.public_key.verify(bytes.fromhex(entry["signature"]), message)
            except Exception:
                continue
            if found is None or entry["version"] >= found.version:
                found = Checkpoint(entry["case_id"], entry["version"], entry["head"])
        return found
