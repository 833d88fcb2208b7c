"""Stand-ins for the stores the services are given, for tests that need no database."""

from __future__ import annotations

from services.keys import ErasedSubjectError


class MemoryKeyStore:
    """The key store (`services.keys.KeyStore`) in memory."""

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

    def case_key(self, case_id: str) -> bytes | None:
        ref = self.cases.get(case_id)
        return None if ref is None else self.keys.get(ref)

    def erase_subject(self, subject_ref: str) -> list[str]:
        self.keys[subject_ref] = None
        return self.cases_of(subject_ref)

    def cases_of(self, subject_ref: str) -> list[str]:
        return [c for c, s in self.cases.items() if s == subject_ref]

    def erased_mentions(self, case_id: str) -> list[str]:
        return []

    def cases_with_erased_mentions(self) -> list[str]:
        return []

    def erasures_after(self, seq: int) -> list[tuple[int, str]]:
        return []

    def last_erasure(self) -> int:
        return 0
