"""The access log's entries (Normen): who was shown what about whom, when, on which basis.

One type and one builder for every read of personal data, whichever use case or edge it
is: command answers, case views, worklists, history, exports, streams. Entries name the
person by the key store's pseudonymous reference, never by national id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from services.context import Context


class AccessEntry(NamedTuple):
    """One read of one case (or person) by one user. A tuple, not a frozen dataclass: a
    worklist page makes 50 of them per request, and a tuple is made in a third of the time."""

    at: datetime
    sub: str
    agency: str
    subject_ref: str | None
    case_id: str | None
    action: str
    categories: list[str]
    basis: dict[str, Any]


class AccessLogStore(Protocol):
    """Where entries go (`infra/db/access_log.py`): `record` returns once they are durable."""

    def record(self, entries: list[AccessEntry]) -> None: ...

    def query(
        self,
        subject_ref: str | None = None,
        agency: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        named_in: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """The entries matching every filter given, oldest first; with `subject_ref`, also
        the entries of the cases `named_in` (the cases that name the person)."""


@dataclass(frozen=True)
class ReadStamp:
    """What every entry of one read shares. Each entry adds the case shown, that case's
    subject, and the categories and basis its document carries, with the reader's unit
    named in the basis (`AccessRecorder.entries`)."""

    at: datetime
    sub: str
    agency: str
    action: str
    unit: str | None


@dataclass(frozen=True)
class LoggedRead:
    """A read that writes the entries of what it shows in its own statement (a worklist
    page on PostgreSQL: `infra/db/read_models.py`), as `AccessRecorder.entries` would make
    them from the rows: for the first `shown` rows (every row when None), and only if the
    read models had applied the log up to the end the read saw by `fresh_before` (None:
    whatever it saw), so that a read thrown away as stale logged nothing."""

    stamp: ReadStamp
    shown: int | None
    fresh_before: int | None = None


def by_role(ctx: Context) -> dict[str, str]:
    """The basis of a read that the caller's role grants whole (the auditor's)."""
    return {"all": f"role:{ctx.agency.value}"}


class AccessRecorder:
    """Builds the entries of what a use case showed, and writes them before it answers."""

    def __init__(
        self,
        store: AccessLogStore,
        subject_of_case: Callable[[str], str | None],
        subjects_of_cases: Callable[[list[str]], Mapping[str, str | None]] | None = None,
    ) -> None:
        """`subjects_of_cases`: the same for many cases at once (a worklist page's)."""
        self.store = store
        self.subject_of_case = subject_of_case
        self.subjects_of_cases = subjects_of_cases or (lambda ids: {i: subject_of_case(i) for i in ids})

    @staticmethod
    def stamp(ctx: Context, action: str) -> ReadStamp:
        return ReadStamp(ctx.at, ctx.sub, ctx.agency.value, action, ctx.unit)

    def entries(self, ctx: Context, action: str, docs: Iterable[Mapping[str, Any]]) -> list[AccessEntry]:
        """One entry per case document shown, with the categories and basis it carries
        (made the same way in SQL by a `LoggedRead`: keep the two alike)."""
        docs = list(docs)
        refs = self.subjects_of_cases([doc["id"] for doc in docs])
        stamp = self.stamp(ctx, action)
        out = []
        for doc in docs:
            # Who read is a person of a unit (docs/domain.md §9): the unit is named with the basis.
            unit = stamp.unit
            basis = {**doc.get("basis", {}), "unit": unit} if unit else dict(doc.get("basis", {}))
            out.append(
                AccessEntry(
                    stamp.at,
                    stamp.sub,
                    stamp.agency,
                    refs[doc["id"]],
                    doc["id"],
                    stamp.action,
                    list(doc.get("categories", [])),
                    basis,
                )
            )
        return out

    def entry(
        self,
        ctx: Context,
        action: str,
        case_id: str | None,
        categories: Sequence[str],
        basis: Mapping[str, Any],
        subject_ref: str | None = None,
    ) -> AccessEntry:
        if subject_ref is None and case_id is not None:
            subject_ref = self.subject_of_case(case_id)
        # Who read is a person of a unit (docs/domain.md §9): the unit is named with the basis.
        grounds = {**basis, "unit": ctx.unit} if ctx.unit else dict(basis)
        return AccessEntry(
            ctx.at, ctx.sub, ctx.agency.value, subject_ref, case_id, action, list(categories), grounds
        )

    def shown(self, ctx: Context, action: str, docs: Iterable[Mapping[str, Any]]) -> None:
        """Log the case documents about to be shown (returns once the entries are durable)."""
        self.store.record(self.entries(ctx, action, docs))

    def record(self, entries: list[AccessEntry]) -> None:
        self.store.record(entries)

    def query(
        self,
        subject_ref: str | None = None,
        agency: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        named_in: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The entries matching the filters, oldest first. With `subject_ref`, the person is
        the subject of the reads of their own cases and of the cases that name them
        (`named_in`: case id -> their role there, "guardian"): an entry names the case's own
        subject, so those are found by case and shown with the person's reference and role."""
        named = dict(named_in or {})
        entries = self.store.query(subject_ref, agency, since, limit, list(named))
        if subject_ref is None:
            return entries
        for entry in entries:
            if entry["subject_ref"] == subject_ref or entry["case_id"] not in named:
                entry["subject_role"] = "subject"
            else:
                entry["subject_role"] = named[entry["case_id"]]
                entry["subject_ref"] = subject_ref
        return entries
