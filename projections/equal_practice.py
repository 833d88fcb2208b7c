"""The equal-practice statistics of one case, advanced one event at a time (docs/domain.md §10).

Pure: no SQL. The projector (services/projector.py, through services/statistics.py) feeds
each applied record of a case to `CaseStatistics.apply`; the intake register feeds its
records to `intake_contributions`. What a case contributes is a set of counts in ONE
cohort cell — the quarter and municipality of the prosecutor's decision and the trinn
offered — so every table is additive: a youth counts once per measure, in one
municipality, county, office, trinn and quarter, whatever happens later (a move to another
municipality, a change of trinn). An event changes the case's contributions; the
projector stores the difference (`delta`), so a table is a sum of stored counts and never
a scan of cases.

Counts (value 1 per case): decided, offered, accepted (every signatory consented), started
(plan agreed), completed, terminated and terminated:<reason>, plan_deviations (a plan that
departs from its trinn's defaults), breach:<response> (a breach of the case answered so at
least once). Durations are histograms of whole calendar days between Norwegian dates
(bucket = days), so medians and p90 come from counts too: days_offence_to_decision,
days_offence_to_offer, days_offer_to_consent, days_consent_to_startup. Activity, for the
rates per active month: tests (results recorded), conversations (meetings held and
attended, team meetings not counted), active_days (closed periods in active or
breach_review), active_open and active_open_from (an open period: how many, and the sum
of their first days as ordinals; the days up to "now" are added when a table is read).

Evaluations (kind "evaluation"): per form version and respondent role the latest answers
of each case: eval|<form>|<role>|respondents and eval|<form>|<role>|<question>|<answer>
(free text never), plus the scale answers' sum for their mean.

The preventive track (kind "prevention") is a funnel by the concern's quarter and
municipality: concerns, conversation_offered, conversation_held, conversation_declined,
counselling_offered, counselling_accepted, counselling_declined,
reported_to_child_welfare, closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from domain.calendar import local_day
from domain.evaluation_forms import DEFAULT_FORMS, AnswerType, EvaluationForms
from domain.intake import IntakeDecision, IntakeRecord
from domain.policy import EventRecord, Track

CONTRACT, PREVENTION, EVALUATION = "contract", "prevention", "evaluation"
NO_TRINN = "none"  # a decision without a contract: no trinn was offered
ACTIVE = ("active", "breach_review")
COUNTED_MEETINGS = ("conversation", "motivational_interview", "cessation_programme")
FUNNEL_EVENTS = {
    "ConversationOffered": "conversation_offered",
    "ConversationHeld": "conversation_held",
    "ConversationDeclined": "conversation_declined",
    "CounsellingOffered": "counselling_offered",
    "CounsellingAccepted": "counselling_accepted",
    "CounsellingDeclined": "counselling_declined",
    "ConcernReportedToChildWelfare": "reported_to_child_welfare",
    "PreventionCaseClosed": "closed",
}

# (kind, quarter "YYYY-Qn", municipality, trinn, measure, bucket) -> count
Key = tuple[str, str, str, str, str, int]
Contributions = dict[Key, int]


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def days_between(start: str | None, end: str | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, (date.fromisoformat(end) - date.fromisoformat(start)).days)


class CaseStatistics:
    """One case's statistical state (plain JSON data, stored between batches)."""

    def __init__(
        self, state: Mapping[str, Any] | None = None, forms: EvaluationForms = DEFAULT_FORMS
    ) -> None:
        self.state: dict[str, Any] = dict(state or {"v": 0})
        self.forms = forms

    @property
    def version(self) -> int:
        return int(self.state.get("v", 0))

    def apply(self, record: EventRecord) -> Contributions:
        """Advance by one record; the change of the case's contributions (new minus old)."""
        before = self.contributions()
        self.state["v"] = record.version
        if record.payload.get("erased"):
            return {}  # an erased person's event: nothing can be read, nothing changes
        if record.version == 1:
            self._start(record)
        elif "cohort" not in self.state:
            return {}  # a case first seen after its start (its person erased meanwhile)
        elif record.track is Track.PREVENTION:
            self._prevention(record)
        else:
            self._contract(record)
        return delta(before, self.contributions())

    # --- the folds ---------------------------------------------------------------------------

    def _start(self, record: EventRecord) -> None:
        p, day = record.payload, local_day(record.at)
        if record.track is Track.PREVENTION:
            if record.type != "ConcernRegistered":
                return
            self.state.update(kind=PREVENTION, cohort=[quarter_of(day), str(p["municipality"]), NO_TRINN])
            self.state["steps"] = []
            return
        if record.type != "ContractOffered":
            return
        offence = p.get("offence") or {}
        self.state.update(
            kind=CONTRACT,
            cohort=[quarter_of(day), str(p["residence_municipality"]), str(p["trinn"])],
            offence=offence.get("date"),
            offered=day.isoformat(),
            status=record.status,
            breaches=[],
            tests=0,
            conversations=0,
            active_days=0,
            evals={},
        )

    def _prevention(self, record: EventRecord) -> None:
        step = FUNNEL_EVENTS.get(record.type)
        if step is not None and step not in self.state["steps"]:
            self.state["steps"].append(step)

    def _contract(self, record: EventRecord) -> None:
        s, p, day = self.state, record.payload, local_day(record.at)
        status = record.status or s.get("status")
        if status == "consented" and s.get("consented") is None:
            s["consented"] = day.isoformat()
        if record.type == "PlanAgreed" and s.get("started") is None:
            s["started"] = day.isoformat()
        if record.type in ("PlanAgreed", "PlanAmended", "BreachDecided") and p.get("deviations"):
            s["deviation"] = True
        if record.type == "BreachDecided" and p.get("response") not in s["breaches"]:
            s["breaches"] = sorted({*s["breaches"], str(p.get("response"))})
        if record.type in ("RapidTestRecorded", "LabResultRecorded"):
            s["tests"] += 1
        if record.type == "MeetingHeld" and p.get("attended") and p.get("kind") in COUNTED_MEETINGS:
            s["conversations"] += 1
        if record.type == "ContractCompleted":
            s["completed"] = True
        if record.type == "ContractTerminated":
            s["terminated"] = str(p.get("reason"))
        if record.type == "EvaluationSubmitted":
            self._evaluation(p)
        # Active time: from the day the case entered active (or breach review) to the day it left.
        if status in ACTIVE and s.get("active_since") is None:
            s["active_since"] = day.toordinal()
        elif status not in ACTIVE and s.get("active_since") is not None:
            s["active_days"] += max(0, day.toordinal() - s["active_since"])
            s["active_since"] = None
        s["status"] = status

    def _evaluation(self, p: Mapping[str, Any]) -> None:
        version, role = str(p.get("form_version")), str(p.get("respondent_role"))
        form = self.forms.get(version)
        if form is None:
            return  # recorded before forms were data: not counted
        try:
            answers = form.validate(role, p.get("answers") or {})
        except Exception:  # an answer stored before validation existed: not counted
            return
        counted = {}
        for question_id, answer in answers.items():
            question = form.question(question_id)
            if question is not None and question.aggregated:
                counted[question_id] = answer
        self.state["evals"].setdefault(version, {})[role] = counted  # the latest per role

    # --- what the case contributes ----------------------------------------------------------

    def contributions(self) -> Contributions:
        s = self.state
        if "cohort" not in s:
            return {}
        quarter, municipality, trinn = s["cohort"]
        out: Contributions = {}

        def add(measure: str, bucket: int = 0, n: int = 1, kind: str = s["kind"]) -> None:
            if n:
                key = (kind, quarter, municipality, trinn, measure, bucket)
                out[key] = out.get(key, 0) + n

        if s["kind"] == PREVENTION:
            add("concerns")
            for step in s["steps"]:
                add(step)
            return out
        add("decided")
        add("offered")
        for measure, days in (
            ("days_offence_to_decision", days_between(s.get("offence"), s["offered"])),
            ("days_offence_to_offer", days_between(s.get("offence"), s["offered"])),
        ):
            if days is not None:
                add(measure, days)
        if s.get("consented") is not None:
            add("accepted")
            add("days_offer_to_consent", days_between(s["offered"], s["consented"]) or 0)
        if s.get("started") is not None:
            add("started")
            startup = days_between(s.get("consented"), s["started"])
            if startup is not None:
                add("days_consent_to_startup", startup)
            if s.get("deviation"):
                add("plan_deviations")
            for response in s["breaches"]:
                add(f"breach:{response}")
            add("tests", n=s["tests"])
            add("conversations", n=s["conversations"])
            add("active_days", n=s["active_days"])
            if s.get("active_since") is not None:
                add("active_open")
                add("active_open_from", n=s["active_since"])
        if s.get("completed"):
            add("completed")
        if s.get("terminated"):
            add("terminated")
            add(f"terminated:{s['terminated']}")
        for version, by_role in s["evals"].items():
            form = self.forms.get(version)
            if form is None:
                continue
            for role, answers in by_role.items():
                add(f"eval|{version}|{role}|respondents", kind=EVALUATION)
                for question_id, answer in answers.items():
                    question = form.question(question_id)
                    category = question.category_of(answer) if question else None
                    if question is None or category is None:
                        continue
                    add(f"eval|{version}|{role}|{question_id}|{category}", kind=EVALUATION)
                    if question.type is AnswerType.SCALE:
                        add(f"eval|{version}|{role}|{question_id}|sum", n=int(answer), kind=EVALUATION)
        return out


def intake_contributions(record: IntakeRecord) -> Contributions:
    """What an intake record adds: a decided case without a contract. A record of a
    contract offered is the register's link to that contract, which counts for itself."""
    if record.decision is IntakeDecision.CONTRACT_OFFERED:
        return {}
    base = (CONTRACT, quarter_of(record.decided_on), record.municipality, NO_TRINN)
    days = max(0, (record.decided_on - record.offence_date).days)
    return {
        (*base, "decided", 0): 1,
        (*base, f"decision:{record.decision.value}", 0): 1,
        (*base, "days_offence_to_decision", days): 1,
    }


def delta(before: Contributions, after: Contributions) -> Contributions:
    out = {k: after.get(k, 0) - before.get(k, 0) for k in {*before, *after}}
    return {k: v for k, v in out.items() if v}


def merge(into: Contributions, changes: Iterable[tuple[Key, int]]) -> None:
    for key, n in changes:
        total = into.get(key, 0) + n
        if total:
            into[key] = total
        else:
            into.pop(key, None)
