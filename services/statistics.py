"""Equal-practice statistics, the prevention funnel, evaluations and the intake register
(docs/domain.md §10, docs/api.md "Statistics").

`StatisticsProjection` is a consumer of its own: it reads the two notification logs and the
intake register from where it last stopped and adds each case's change of counts
(projections/equal_practice.py), with its positions, in one transaction per batch, so every
event counts exactly once. It runs before a table is read (and so is as new as the events
at that moment); a table is then computed from stored counts only, never by reading cases,
and kept until the counts move on.

`StatisticsQueries` answers the tables: permission (docs/api.md: county, auditor,
konfliktrad), scope (a county sees its own municipalities only), and one suppression
pattern per kind and year, computed on every table of that year at once, so the same data
give the same pattern whoever asks (projections/statistics_tables.py, disclosure.py).

`IntakeRegister` records the prosecutor's decisions: pseudonymous (the key store's keyed
reference links the record to the youth; its content is sealed under the youth's key, so
erasure shreds it), and counted by the projection like an event.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from cachetools import LRUCache

from domain.calendar import local_day
from domain.deadlines import u18_decision
from domain.errors import InvalidInputError
from domain.evaluation_forms import DEFAULT_FORMS, EvaluationForms
from domain.intake import AgeBand, IntakeDecision, IntakeRecord, check_intake
from domain.municipalities import MunicipalityRegister
from domain.permissions import INTAKE_COMMANDS, STATISTICS_QUERIES
from domain.policy import CURRENT_POLICY, EventRecord
from domain.values import Agency
from projections.equal_practice import (
    CONTRACT,
    EVALUATION,
    PREVENTION,
    CaseStatistics,
    Contributions,
    intake_contributions,
    merge,
)
from projections.statistics_tables import (
    EQUAL_PRACTICE,
    GROUP_BYS,
    PREVENTION_FUNNEL,
    Kind,
    YearSystem,
    evaluation_kind,
    regions_of,
    table,
)
from services.context import Context
from services.erasure import Expired
from services.errors import AccessDeniedError, CaseNotFoundError, NotReadyError
from services.keys import SubjectKeys
from services.notification_reader import NotificationReader
from services.sealed_application import SealedApplication, require

INTAKE_SOURCE = "intake"
BATCH = 1000


class InvalidQueryError(InvalidInputError):
    """A statistics query must name a table: group_by, period (YYYY or YYYY-Qn) and form version."""


class StatisticsTx(Protocol):
    def lock(self, sources: Sequence[str]) -> dict[str, int]: ...
    def states(self, case_ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]: ...
    def save_states(self, states: dict[str, tuple[int, dict[str, Any]]]) -> None: ...
    def add(self, counts: Contributions) -> None: ...
    def save_positions(self, positions: dict[str, int]) -> None: ...
    def intake_after(self, seq: int, limit: int) -> list[tuple[int, str, bytes | None]]: ...


class StatisticsStore(Protocol):
    def transaction(self) -> AbstractContextManager[StatisticsTx]: ...
    def rows(self, kind: str, year: int) -> list[tuple[str, str, str, str, int, int]]: ...
    def stamp(self) -> tuple[tuple[str, int], ...]: ...
    def add_intake(self, intake_id: str, recorded_at: str, decided_on: str, sealed: bytes) -> int: ...
    def intake_records(self) -> list[tuple[str, str, bytes | None]]: ...
    def forget(self, case_ids: list[str]) -> None: ...


class StatisticsProjection:
    def __init__(
        self,
        apps: Sequence[SealedApplication],
        store: StatisticsStore,
        keys: SubjectKeys,
        gap_timeout: float = 5.0,
        forms: EvaluationForms = DEFAULT_FORMS,
        batch: int = BATCH,
    ) -> None:
        self.apps = list(apps)
        self.store, self.keys, self.forms, self.batch = store, keys, forms, batch
        self.readers = {a.name: NotificationReader(a.recorder, gap_timeout) for a in self.apps}
        self._lock = threading.Lock()
        self.applied = 0
        keys.on_erased(store.forget)

    def catch_up(self, batch: int | None = None) -> int:
        """Apply everything new in every source, `batch` records of each per transaction (the
        projection's own batch when None); the number of records applied."""
        done = 0
        with self._lock:
            while True:
                applied = self._batch(batch or self.batch)
                done += applied
                if not applied:
                    return done

    def _batch(self, batch: int) -> int:
        sources = [f"log:{a.name}" for a in self.apps] + [INTAKE_SOURCE]
        with self.store.transaction() as tx:
            positions = tx.lock(sources)
            records: list[EventRecord] = []
            moved: dict[str, int] = {}
            for app in self.apps:
                source = f"log:{app.name}"
                notifications = self.readers[app.name].read(positions.get(source, 0), batch)
                if notifications:
                    records += [app.record_or_placeholder(n) for n in notifications]
                    moved[source] = notifications[-1].id
            intake = tx.intake_after(positions.get(INTAKE_SOURCE, 0), batch)
            if intake:
                moved[INTAKE_SOURCE] = intake[-1][0]
            if not moved:
                return 0
            states = tx.states([r.case_id for r in records])
            cases: dict[str, CaseStatistics] = {}
            counts: Contributions = {}
            for record in records:
                case = cases.get(record.case_id)
                if case is None:
                    _, state = states.get(record.case_id, (0, {"v": 0}))
                    case = cases[record.case_id] = CaseStatistics(state, self.forms)
                if record.version <= case.version:
                    continue  # applied already
                merge(counts, case.apply(self.keys.scrub(record)).items())
            for _, intake_id, sealed in intake:
                data = self.keys.open_json(intake_id, sealed) if sealed is not None else None
                if data is not None:  # None: the youth was erased before it was counted
                    merge(counts, intake_contributions(IntakeRecord.from_record(data)).items())
            tx.add(counts)
            tx.save_states({c: (s.version, s.state) for c, s in cases.items()})
            tx.save_positions(moved)
            self.applied += len(records) + len(intake)
            return len(records) + len(intake)


@dataclass(frozen=True)
class Computed:
    system: YearSystem
    computed_at: datetime
    stamp: tuple[tuple[str, int], ...] = ()  # the projection's positions it was computed at
    tables: dict[tuple[str, str, str | None, date], dict[str, Any]] = field(default_factory=dict)

    def table(self, group_by: str, period: str, county: str | None, today: date) -> dict[str, Any]:
        """A table of the system, computed once per day (rates per active month count days)."""
        key = (group_by, period, county, today)
        found = self.tables.get(key)
        if found is None:
            found = self.tables[key] = table(self.system, group_by, period, county, today)
        return found


class StatisticsQueries:
    def __init__(
        self,
        projection: StatisticsProjection,
        store: StatisticsStore,
        register: MunicipalityRegister,
        threshold: int,
        rules_version: str,
        forms: EvaluationForms = DEFAULT_FORMS,
        cached: int = 32,
        wait_seconds: float = 10.0,
    ) -> None:
        """`wait_seconds`: how long a question waits for a table's suppression pattern to be
        computed before it is answered from the previous pattern (or, with none, 503)."""
        self.projection, self.store, self.register = projection, store, register
        self.threshold, self.rules_version, self.forms = threshold, rules_version, forms
        self.wait_seconds = wait_seconds
        # Per table kind and year: the newest pattern computed, and the computation under way.
        self._latest: LRUCache[tuple[Any, ...], Computed] = LRUCache(cached)
        self._pending: dict[tuple[Any, ...], tuple[tuple[tuple[str, int], ...], Future[Computed]]] = {}
        # One computation at a time: a pattern of many small cells takes a core for long.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statistics")
        self._lock = threading.Lock()

    # --- the use cases -------------------------------------------------------------------

    def equal_practice(self, ctx: Context, group_by: str, period: str) -> dict[str, Any]:
        return self._answer(ctx, "equal_practice", EQUAL_PRACTICE, CONTRACT, group_by, period)

    def prevention_funnel(self, ctx: Context, group_by: str, period: str) -> dict[str, Any]:
        if group_by == "trinn":
            raise InvalidQueryError(
                "the preventive track has no trinn: group by municipality, county or office"
            )
        return self._answer(ctx, "prevention_funnel", PREVENTION_FUNNEL, PREVENTION, group_by, period)

    def evaluations(self, ctx: Context, form_version: str, group_by: str, period: str) -> dict[str, Any]:
        form = self.forms.get(form_version)
        if form is None:
            raise InvalidQueryError(
                f"no evaluation form {form_version[:80]!r} (known: {', '.join(sorted(self.forms.forms))})"
            )
        answer = self._answer(ctx, "evaluations", evaluation_kind(form), EVALUATION, group_by, period)
        answer["form"] = form.describe()
        answer["versions"]["form"] = form.version
        return answer

    def forms_list(self, ctx: Context, version: str | None = None) -> list[dict[str, Any]]:
        """The evaluation forms (`version`: that one only; none when there is no such form)."""
        require(ctx, "evaluations", STATISTICS_QUERIES)
        return [f.describe() for v, f in sorted(self.forms.forms.items()) if version in (None, v)]

    # --- shared ------------------------------------------------------------------------------

    def _answer(
        self, ctx: Context, action: str, kind: Kind, stored: str, group_by: str, period: str
    ) -> dict[str, Any]:
        require(ctx, action, STATISTICS_QUERIES)
        county = self._scope(ctx)
        year = _year_of(period)
        if group_by not in GROUP_BYS:
            raise InvalidQueryError(f"group_by is one of {', '.join(GROUP_BYS)}, not {group_by[:40]!r}")
        if group_by == "municipality" and "-Q" in period:
            raise InvalidQueryError(
                "municipality tables are per year (a municipality's quarter holds too few cases to show "
                "anything but suppressions); quarters are published per county, office and trinn"
            )
        computed = self._computed(kind, stored, year)
        body = computed.table(group_by, period, county, local_day(ctx.at))
        return {
            "table": kind.name,
            "group_by": group_by,
            "period": period,
            "threshold": self.threshold,
            "computed_at": computed.computed_at.isoformat(),
            "scope": {"county": county} if county else {"national": True},
            "versions": {
                "register": self.register.version,
                "policy": CURRENT_POLICY.version,
                "rules": self.rules_version,
            },
            **body,
        }

    def _scope(self, ctx: Context) -> str | None:
        """The county whose municipalities the caller may see (None: the whole country)."""
        if ctx.agency is not Agency.COUNTY:
            return None
        if ctx.unit is None or ctx.unit not in self.register.counties():
            raise AccessDeniedError("a county user's token names its county (unit: 2 digits) in the register")
        return ctx.unit

    def _computed(self, kind: Kind, stored: str, year: int) -> Computed:
        """The table system of the year with its suppression pattern, as of the projection now.

        The pattern of a year with many small cells can take long to compute (secondary
        suppression, docs/domain.md §10), and every new event changes the counts. So the
        pattern is computed in the background, one at a time, and a question waits for it
        at most `wait_seconds`: after that it is answered from the newest pattern computed
        before (its `computed_at` says when), while the new one goes on; with none yet it
        is told to come back (503, `Retry-After`). The same data give the same pattern,
        whoever asks and whenever it is computed."""
        self.projection.catch_up()
        stamp = self.store.stamp()
        key = (kind.name, year, self.threshold, self.register.version)
        with self._lock:
            latest = self._latest.get(key)
            if latest is not None and latest.stamp == stamp:
                return latest
            pending = self._pending.get(key)
            if pending is None or pending[0] != stamp:
                future = self._worker.submit(self._compute, key, kind, stored, year, stamp)
                self._pending[key] = (stamp, future)
            else:
                future = pending[1]
        try:
            return future.result(timeout=self.wait_seconds)
        except FutureTimeout:
            if latest is not None:
                return latest
            raise StatisticsNotReadyError(self.wait_seconds) from None

    def _compute(
        self, key: tuple[Any, ...], kind: Kind, stored: str, year: int, stamp: tuple[tuple[str, int], ...]
    ) -> Computed:
        system = YearSystem(kind, year, regions_of(self.register), self.threshold)
        system.load(self.store.rows(stored, year))
        system.protect()
        computed = Computed(system, datetime.now().astimezone(), stamp)
        with self._lock:
            latest = self._latest.get(key)
            if latest is None or latest.stamp <= stamp:
                self._latest[key] = computed
            if self._pending.get(key, (None,))[0] == stamp:
                del self._pending[key]
        return computed

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


class StatisticsNotReadyError(NotReadyError):
    """The first pattern of a table is still being computed: ask again shortly (503)."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"this table's suppression pattern is still being computed (waited {waited:g} s); "
            "ask again in a minute",
            retry_after=60,
        )


def _year_of(period: str) -> int:
    text = period.strip()
    valid = (len(text) == 4 and text.isdigit()) or (
        len(text) == 7 and text[:4].isdigit() and text[4:6] == "-Q" and text[6] in "1234"
    )
    if not valid or not 1900 <= int(text[:4]) <= 2100:
        raise InvalidQueryError(f"period is YYYY or YYYY-Qn (n 1-4), not {period[:20]!r}")
    return int(text[:4])


def as_csv(answer: dict[str, Any]) -> str:
    """A table as CSV, one figure a line with what it says: its period, versions and time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "table",
            "group_by",
            "period",
            "group",
            "name",
            "measure",
            "value",
            "suppressed",
            "threshold",
            "register_version",
            "policy_version",
            "computed_at",
        ]
    )
    versions = answer["versions"]
    for row in [*answer["rows"], {**answer["total"], "group": f"total:{answer['total']['group']}"}]:
        for measure, cell in row["cells"].items():
            writer.writerow(
                [
                    answer["table"],
                    answer["group_by"],
                    answer["period"],
                    row["group"],
                    row["name"],
                    measure,
                    "" if cell["value"] is None else cell["value"],
                    "true" if cell.get("suppressed") else "false",
                    answer["threshold"],
                    versions["register"],
                    versions["policy"],
                    answer["computed_at"],
                ]
            )
    return out.getvalue()


class IntakeRegister:
    """`POST /intake`: the prosecutor's decision on one U18 drug case."""

    def __init__(
        self,
        store: StatisticsStore,
        keys: SubjectKeys,
        contracts: SealedApplication,
        new_id: Callable[[], UUID],
    ) -> None:
        self.store, self.keys, self.contracts, self.new_id = store, keys, contracts, new_id

    def record(
        self,
        ctx: Context,
        national_id: str,
        municipality: str,
        offence_date: date,
        age_band: str,
        decision: str,
        reason: str = "",
        contract_id: UUID | None = None,
        decided_on: date | None = None,
        birth_date: date | None = None,
    ) -> dict[str, Any]:
        require(ctx, "record_intake", INTAKE_COMMANDS)
        ctx.register.municipality(municipality)  # an unknown number is refused (422)
        intake_id = str(self.new_id())
        record = IntakeRecord(
            intake_id=intake_id,
            municipality=municipality,
            offence_date=offence_date,
            age_band=AgeBand(age_band),
            decision=IntakeDecision(decision),
            decided_on=decided_on or local_day(ctx.at),
            reason=reason,
            contract_id=str(contract_id) if contract_id else None,
            recorded_by=ctx.sub,
            offence_district=ctx.unit,
        )
        check_intake(record, local_day(ctx.at), birth_date)
        if contract_id is not None:
            self._check_contract(ctx, contract_id)
        self.keys.open_case(intake_id, national_id)  # the youth's key, by the keyed reference
        sealed = self.keys.seal_json(intake_id, record.as_record())
        seq = self.store.add_intake(intake_id, ctx.at.isoformat(), record.decided_on.isoformat(), sealed)
        deadline = u18_decision(record.offence_date, record.decided_on, ctx.rules)
        return {**record.as_record(), "seq": seq, "recorded_at": ctx.at.isoformat(), "u18_deadline": deadline}

    def _check_contract(self, ctx: Context, contract_id: UUID) -> None:
        """The contract exists and the caller's unit may know it (404 otherwise, as everywhere)."""
        viewer = ctx.viewer(self.contracts.track)
        with self.contracts.live.checkout(contract_id) as case:
            if viewer is None or case.view(viewer) is None:
                raise CaseNotFoundError(str(contract_id))

    def expired(self, retention_days: int) -> Callable[[datetime], list[Expired]]:
        """The intake records older than `retention_days` (for services/erasure.py)."""

        def expired(now: datetime) -> list[Expired]:
            out = []
            for intake_id, recorded_at, sealed in self.store.intake_records():
                at = datetime.fromisoformat(recorded_at)
                if sealed is not None and at < now - timedelta(days=retention_days):
                    out.append(Expired(intake_id, "intake", at))
            return out

        return expired

    def export(self, national_id: str) -> list[dict[str, Any]]:
        """The youth's intake records, as their subject-access export shows them."""
        own = set(self.keys.cases_of(national_id))
        out = []
        for intake_id, recorded_at, sealed in self.store.intake_records():
            if intake_id in own:
                data = self.keys.open_json(intake_id, sealed) if sealed is not None else None
                out.append(
                    {"id": intake_id, "recorded_at": recorded_at, "erased": data is None, "record": data}
                )
        return out
