"""The forms of the pages: for each command, its fields, and the call of its use case.

A submitted form becomes the very request body the API takes (`infra/api/schemas.py`, with
its validation), and then the same use-case method the API route calls, through the same
`Command` (`infra/api/commands.py`): so a page is refused exactly as the API is, with the
same rule. Nothing is decided here; the fields only say what to ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from domain.calendar import OSLO, local_day
from domain.evaluation_forms import DEFAULT_FORMS
from domain.values import Agency, BreachKind, BreachResponse, MeetingKind, TestKind, TestPurpose
from infra.api import schemas as S
from infra.bootstrap import Container
from infra.web import labels as L
from infra.web.present import consentable_scope, signatories

Options = list[tuple[str, str]]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | datetime | number | select | checkboxes | checkbox
    required: bool = True
    options: Options = field(default_factory=list)
    default: Any = None
    hint: str = ""


@dataclass(frozen=True)
class Call:
    """What a submitted form asks: a use case, its arguments after the case id, and the body."""

    use_case: Callable[..., Any]
    arguments: tuple[Any, ...]
    body: BaseModel | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FormData:
    """A submitted form's values as the request body's types (text stays text)."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = [(k, v) for k, v in items if isinstance(v, str)]

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.many(name)
        return values[0] if values and values[0] != "" else default

    def text(self, name: str) -> str:
        return self.one(name, "") or ""

    def many(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def number(self, name: str) -> int | float | str | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            try:
                return float(value.replace(",", "."))
            except ValueError:
                return value  # the body model names it as invalid

    def flag(self, name: str) -> bool:
        return self.one(name) in ("on", "true", "1", "ja")

    def instant(self, name: str) -> str | None:
        """An `<input type=datetime-local>` value is Oslo time: given its offset there."""
        value = self.one(name)
        if value is None:
            return None
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            return value
        return (local if local.tzinfo else local.replace(tzinfo=OSLO)).isoformat()


def _options(table: dict[str, str], codes: list[str]) -> Options:
    return [(code, L.word(table, code)) for code in codes]


AGENCIES = _options(L.AGENCY, [a.value for a in Agency if a not in (Agency.AUDITOR, Agency.COUNTY)])
TEAM = _options(L.AGENCY, ["konfliktrad", "municipal_health", "police", "child_welfare", "gp", "school"])


def _plan_fields(view: dict[str, Any], container: Container) -> list[Field]:
    trinn = int(view.get("trinn") or 2)
    stage = container.rules.stage(trinn)
    start = local_day(container.clock())
    end = _add_months(start, stage.min_months)
    plan = view.get("plan") if isinstance(view.get("plan"), dict) else {}
    regime = plan.get("test_regime") or {}
    return [
        Field("plan_trinn", "Trinn", "number", default=plan.get("trinn", trinn), hint=f"Trinn {trinn} nå"),
        Field("start_date", "Startdato", "date", default=plan.get("start_date", start.isoformat())),
        Field(
            "end_date",
            "Sluttdato",
            "date",
            default=plan.get("end_date", end.isoformat()),
            hint=f"Trinn {trinn}: {stage.min_months}–{stage.max_months} måneder",
        ),
        Field(
            "test_kind",
            "Testtype",
            "select",
            options=_options(L.TEST_KIND, ["rapid", "lab"]),
            default=regime.get("kind", "rapid"),
        ),
        Field(
            "per_month",
            "Tester per måned",
            "number",
            default=regime.get("per_month", stage.tests_per_month),
        ),
        Field(
            "meeting_frequency_days",
            "Dager mellom samtaler",
            "number",
            default=plan.get("meeting_frequency_days", stage.meeting_frequency_days),
        ),
        Field(
            "team",
            "Teamet",
            "checkboxes",
            options=TEAM,
            default=plan.get("team", ["konfliktrad", "municipal_health"]),
        ),
        Field(
            "conditions",
            "Vilkår (ett per linje)",
            "textarea",
            required=False,
            default="\n".join(plan.get("conditions", [])),
        ),
        Field(
            "deviation_reason",
            "Begrunnelse for avvik fra trinnets standard",
            "textarea",
            required=False,
            hint="Bare når planen avviker fra standarden for trinnet",
        ),
    ]


def _add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return start + timedelta(days=30 * months)


def _plan(form: FormData) -> S.PlanIn:
    conditions = [line.strip() for line in form.text("conditions").splitlines() if line.strip()]
    return S.PlanIn.model_validate(
        {
            "trinn": form.number("plan_trinn"),
            "start_date": form.one("start_date"),
            "end_date": form.one("end_date"),
            "test_regime": {"kind": form.one("test_kind"), "per_month": form.number("per_month")},
            "meeting_frequency_days": form.number("meeting_frequency_days"),
            "team": form.many("team"),
            "conditions": conditions,
            "deviation_reason": form.one("deviation_reason"),
        }
    )


def _signatory_field(view: dict[str, Any]) -> Field:
    return Field("signatory", "Hvem", "select", options=[(s.code, s.who) for s in signatories(view)])


def _open_tests(view: dict[str, Any]) -> Options:
    return [
        (str(t["test_id"]), f"{L.word(L.TEST_KIND, t.get('kind'))} {L.day(t.get('scheduled_for'))}")
        for t in view.get("tests") or []
        if "test_id" in t and "positives" not in t
    ]


def _open_breaches(view: dict[str, Any]) -> Options:
    return [
        (str(b["breach_id"]), L.word(L.BREACH_KIND, b.get("kind")))
        for b in view.get("breaches") or []
        if "breach_id" in b and not b.get("response")
    ]


def _team_members(view: dict[str, Any]) -> Options:
    team = view.get("team") if isinstance(view.get("team"), dict) else {}
    return [
        (member_id, f"{L.word(L.AGENCY, m.get('agency'))} {m.get('unit', '')} {m.get('sub') or ''}".strip())
        for member_id, m in team.items()
    ]


@dataclass(frozen=True)
class Action:
    name: str
    fields: Callable[[dict[str, Any], Container], list[Field]]
    call: Callable[[Container, UUID, FormData], Call]
    danger: bool = False  # ends or turns back the case: shown apart, in red

    @property
    def label(self) -> str:
        return L.word(L.ACTION, self.name)


def _none(view: dict[str, Any], container: Container) -> list[Field]:
    return []


def _note(view: dict[str, Any], container: Container) -> list[Field]:
    return [Field("note", "Merknad", "textarea", required=False)]


def _give_consent(c: Container, case_id: UUID, f: FormData) -> Call:
    scope = [dict(zip(("agency", "category"), item.split("/", 1), strict=True)) for item in f.many("scope")]
    body = S.ConsentBody.model_validate(
        {"signatory": f.one("signatory"), "scope": scope, "booklet_version": f.one("booklet_version")}
    )
    return Call(
        c.contracts.give_consent,
        (body.signatory, body.scope_items(), body.booklet_version, body.booklet_language),
        body,
    )


def _withdraw_consent(c: Container, case_id: UUID, f: FormData) -> Call:
    scope = [dict(zip(("agency", "category"), item.split("/", 1), strict=True)) for item in f.many("scope")]
    body = S.WithdrawBody.model_validate({"signatory": f.one("signatory"), "scope": scope or None})
    return Call(c.contracts.withdraw_consent, (body.signatory, body.scope_items()), body)


def _consent_fields(view: dict[str, Any], container: Container) -> list[Field]:
    return [
        _signatory_field(view),
        Field(
            "scope",
            "Samtykker også til at",
            "checkboxes",
            required=False,
            options=[(f"{a}/{c}", words) for a, c, words in consentable_scope()],
        ),
        Field("booklet_version", "Versjon av informasjonsheftet", default=container.rules.version),
    ]


def _withdraw_fields(view: dict[str, Any], container: Container) -> list[Field]:
    return [
        _signatory_field(view),
        Field(
            "scope",
            "Bare dette (ingen valgt: samtykket til selve avtalen)",
            "checkboxes",
            required=False,
            options=[(f"{a}/{c}", words) for a, c, words in consentable_scope()],
        ),
    ]


def _person(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.PersonIn.model_validate(
        {"name": f.one("name"), "national_id": f.one("national_id"), "birth_date": f.one("birth_date")}
    )
    return Call(c.contracts.add_guardian, (body.value(),), body)


def _schedule_startup(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.StartupBody.model_validate({"at": f.instant("at"), "participants": f.many("participants")})
    return Call(c.contracts.schedule_startup, (body.at, tuple(body.participants)), body)


def _hold_startup(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.StartupHeldBody.model_validate(
        {"plan": _plan(f).model_dump(), "attendees": f.many("attendees"), "notes": f.text("notes")}
    )
    return Call(
        c.contracts.hold_startup,
        (body.plan.value(), tuple(body.attendees), body.notes, body.plan.deviation_reason),
        body,
    )


def _amend_plan(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.PlanAmendBody.model_validate({"plan": _plan(f).model_dump(), "reason": f.text("reason")})
    return Call(c.contracts.amend_plan, (body.plan.value(), body.reason, body.plan.deviation_reason), body)


def _schedule_test(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.TestBody.model_validate(
        {
            "kind": f.one("kind"),
            "purpose": f.one("purpose", "follow_up"),
            "scheduled_for": f.one("scheduled_for"),
            "random": f.flag("random"),
        }
    )
    test_id = str(c.new_id())
    arguments = (
        test_id,
        body.kind,
        body.purpose,
        body.random,
        body.scheduled_for,
        body.confirms_test_id,
        body.result_by,
    )
    return Call(c.contracts.schedule_test, arguments, body, {"test_id": test_id})


def _record_result(c: Container, case_id: UUID, f: FormData) -> Call:
    positives = [p.strip() for p in f.text("positives").split(",") if p.strip()]
    body = S.ResultBody.model_validate(
        {
            "positives": positives,
            "collected_at": f.instant("collected_at"),
            "requisition_code": f.text("requisition_code"),
            "interpretation": f.text("interpretation"),
        }
    )
    arguments = (
        f.text("test_id"),
        tuple(body.positives),
        body.collected_at,
        tuple(body.panel),
        body.requisition_code,
        body.interpretation,
        body.confirms_test_id,
    )
    return Call(c.contracts.record_test_result, arguments, body)


def _hold_meeting(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.MeetingBody.model_validate(
        {
            "kind": f.one("kind"),
            "held_at": f.instant("held_at"),
            "attended": f.flag("attended"),
            "notes": f.text("notes"),
        }
    )
    return Call(c.contracts.hold_meeting, (body.kind, body.held_at, body.attended, body.notes), body)


def _no_show(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.NoShowBody.model_validate({"appointment": f.one("appointment"), "excuse": f.one("excuse")})
    return Call(c.contracts.record_no_show, (body.appointment, body.excuse), body)


def _breach(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.BreachBody.model_validate(
        {"kind": f.one("kind"), "evidence": f.text("evidence"), "test_id": f.one("test_id")}
    )
    breach_id = str(c.new_id())
    return Call(
        c.contracts.register_breach,
        (breach_id, body.kind, body.evidence, body.test_id),
        body,
        {"breach_id": breach_id},
    )


def _decide(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.DecisionBody.model_validate(
        {
            "response": f.one("response"),
            "reason": f.one("reason"),
            "factors": {
                "seriousness": f.one("seriousness"),
                "fault": f.one("fault"),
                "condition_kind": f.one("condition_kind"),
                "motivation": f.one("motivation"),
                "completed_share": f.number("completed_share"),
                "repetition": f.number("repetition"),
            },
        }
    )
    return Call(
        c.contracts.decide_breach,
        (f.text("breach_id"), body.response, body.factors.value(), body.reason, None, None),
        body,
    )


def _stage(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.StageBody.model_validate({"trinn": f.number("trinn"), "reason": f.one("reason")})
    return Call(c.contracts.change_stage, (body.trinn, body.reason), body)


# The evaluation form the page offers: the newest shipped version, the one the contract
# checks the answers against (`Contract.submit_evaluation`). The page shows its roles in
# Norwegian and submits the form's codes (`respondent_role`, the question id `comment`).
EVALUATION_FORM = DEFAULT_FORMS.forms[max(DEFAULT_FORMS.forms)]
COMMENT = "comment"  # the form's free-text question, answered by every role


def _evaluation_fields(view: dict[str, Any], container: Container) -> list[Field]:
    roles = list(EVALUATION_FORM.roles)
    return [
        _select("respondent_role", "Hvem svarer", L.RESPONDENT, roles),
        Field("form_version", "Skjemaversjon", "select", options=[(EVALUATION_FORM.version,) * 2]),
        Field(COMMENT, "Kommentar", "textarea", required=False),
    ]


def _evaluation(c: Container, case_id: UUID, f: FormData) -> Call:
    comment = f.text(COMMENT)
    body = S.EvaluationBody.model_validate(
        {
            "respondent_role": f.one("respondent_role"),
            "form_version": f.one("form_version"),
            "answers": {COMMENT: comment} if comment.strip() else {},
        }
    )
    return Call(c.contracts.submit_evaluation, (body.respondent_role, body.form_version, body.answers), body)


def _noted(use_case: str) -> Callable[[Container, UUID, FormData], Call]:
    def call(c: Container, case_id: UUID, f: FormData) -> Call:
        body = S.NoteBody.model_validate({"note": f.text("note")})
        return Call(getattr(c.contracts, use_case), (body.note,), body)

    return call


def _bare(use_case: str) -> Callable[[Container, UUID, FormData], Call]:
    def call(c: Container, case_id: UUID, f: FormData) -> Call:
        return Call(getattr(c.contracts, use_case), ())

    return call


def _decline(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.DeclineBody.model_validate({"signatory": f.one("signatory", "youth")})
    return Call(c.contracts.decline, (body.signatory,), body)


def _gp(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.GpBody.model_validate({"hpr": f.one("hpr")})
    return Call(c.contracts.register_gp, (body.hpr,), body)


def _school(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.SchoolBody.model_validate({"organisation_number": f.one("organisation_number")})
    return Call(c.contracts.register_school, (body.organisation_number,), body)


def _residence(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.ResidenceBody.model_validate(
        {
            "municipality": f.one("municipality"),
            "registered_municipality": f.one("registered_municipality"),
            "moved_away": f.flag("moved_away"),
        }
    )
    return Call(
        c.contracts.change_residence,
        (body.municipality, body.registered_municipality, body.moved_away),
        body,
    )


def _team_add(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.TeamMemberBody.model_validate(
        {"agency": f.one("agency"), "unit": f.one("unit"), "sub": f.one("sub")}
    )
    return Call(c.contracts.add_team_member, (body.agency, body.unit, body.sub), body)


def _team_remove(c: Container, case_id: UUID, f: FormData) -> Call:
    return Call(c.contracts.remove_team_member, (f.text("member_id"),))


def _select(name: str, label: str, table: dict[str, str], codes: list[str]) -> Field:
    return Field(name, label, "select", options=_options(table, codes))


def _now_local(container: Container) -> str:
    return L.iso_local(container.clock())


CONTRACT_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("give_consent", _consent_fields, _give_consent),
        Action("schedule_startup", lambda v, c: [
            Field("at", "Tidspunkt", "datetime", default=_now_local(c)),
            Field("participants", "Deltakere", "checkboxes", required=False, options=TEAM,
                  default=["konfliktrad", "municipal_health"]),
        ], _schedule_startup),
        Action("hold_startup", lambda v, c: [
            *_plan_fields(v, c),
            Field("attendees", "Til stede", "checkboxes", required=False, options=TEAM),
            Field("notes", "Notat fra møtet", "textarea", required=False),
        ], _hold_startup),
        Action("hold_meeting", lambda v, c: [
            _select("kind", "Type", L.MEETING_KIND, [k.value for k in MeetingKind]),
            Field("held_at", "Tidspunkt", "datetime", default=_now_local(c)),
            Field("attended", "Ungdommen møtte", "checkbox", required=False, default=True),
            Field("notes", "Notat", "textarea", required=False),
        ], _hold_meeting),
        Action("schedule_test", lambda v, c: [
            _select("kind", "Testtype", L.TEST_KIND, [k.value for k in TestKind]),
            _select("purpose", "Formål", L.TEST_PURPOSE, [p.value for p in TestPurpose]),
            Field("scheduled_for", "Dato", "date", default=local_day(c.clock()).isoformat()),
            Field("random", "Uanmeldt", "checkbox", required=False),
        ], _schedule_test),
        Action("record_test_result", lambda v, c: [
            Field("test_id", "Test", "select", options=_open_tests(v)),
            Field("positives", "Positive stoffer (kommaseparert; tomt = negativ)", required=False),
            Field("collected_at", "Prøven tatt", "datetime", default=_now_local(c)),
            Field("requisition_code", "Rekvisisjonskode (laboratorietest)", required=False),
            Field("interpretation", "Tolkning (laboratorietest)", "textarea", required=False),
        ], _record_result),
        Action("record_no_show", lambda v, c: [
            Field("appointment", "Avtalen ungdommen ikke møtte til"),
            Field("excuse", "Gyldig grunn (om noen)", "textarea", required=False),
        ], _no_show),
        Action("register_breach", lambda v, c: [
            _select("kind", "Type brudd", L.BREACH_KIND, [k.value for k in BreachKind]),
            Field("test_id", "Testen bruddet gjelder (positiv test)", "select", required=False,
                  options=[("", "–"), *[(str(t["test_id"]), L.word(L.TEST_KIND, t.get("kind")))
                                        for t in v.get("tests") or [] if t.get("positives")]]),
            Field("evidence", "Hva skjedde", "textarea", required=False),
        ], _breach),
        Action("decide_breach", lambda v, c: [
            Field("breach_id", "Bruddet", "select", options=_open_breaches(v)),
            _select("response", "Reaksjon", L.BREACH_RESPONSE, [r.value for r in BreachResponse]),
            Field("reason", "Begrunnelse", "textarea"),
            Field("seriousness", "Alvorlighet"),
            Field("fault", "Skyld"),
            Field("condition_kind", "Hvilket vilkår"),
            Field("motivation", "Motivasjon"),
            Field("completed_share", "Andel av avtalen gjennomført (0–1)", "number", default="0.5"),
            Field("repetition", "Gjentakelse (antall tidligere brudd)", "number", default="0"),
        ], _decide),
        Action("change_stage", lambda v, c: [
            Field("trinn", "Nytt trinn", "number"),
            Field("reason", "Begrunnelse", "textarea"),
        ], _stage),
        Action("amend_plan", lambda v, c: [
            *_plan_fields(v, c), Field("reason", "Begrunnelse", "textarea", required=False),
        ], _amend_plan),
        Action("submit_evaluation", _evaluation_fields, _evaluation),
        Action("complete", _none, _bare("complete")),
        Action("withdraw_consent", _withdraw_fields, _withdraw_consent),
        Action("add_guardian", lambda v, c: [
            Field("name", "Navn"),
            Field("national_id", "Fødselsnummer", hint="11 siffer"),
            Field("birth_date", "Fødselsdato", "date", required=False),
        ], _person),
        Action("register_gp", lambda v, c: [Field("hpr", "Fastlegens HPR-nummer")], _gp),
        Action("register_school", lambda v, c: [Field("organisation_number", "Skolens organisasjonsnummer")],
               _school),
        Action("change_residence", lambda v, c: [
            Field("municipality", "Ny bostedskommune (kommunenummer)"),
            Field("registered_municipality", "Folkeregistrert kommune (om en annen)", required=False),
            Field("moved_away", "Avtalen kan ikke fortsette der ungdommen flyttet", "checkbox",
                  required=False),
        ], _residence),
        Action("add_team_member", lambda v, c: [
            Field("agency", "Etat", "select", options=AGENCIES),
            Field("unit", "Enhet"),
            Field("sub", "Navngitt person (bruker-id)", required=False),
        ], _team_add),
        Action("remove_team_member", lambda v, c: [
            Field("member_id", "Hvem", "select", options=_team_members(v)),
        ], _team_remove),
        Action("decline", lambda v, c: [_signatory_field(v)], _decline, danger=True),
        Action("lapse", _none, _bare("lapse"), danger=True),
        Action("fail_startup", _note, _noted("fail_startup"), danger=True),
        Action("return_to_prosecution", _note, _noted("return_to_prosecution"), danger=True),
    )
}  # fmt: skip


def _prevention_note(use_case: str) -> Callable[[Container, UUID, FormData], Call]:
    def call(c: Container, case_id: UUID, f: FormData) -> Call:
        body = S.PreventionNoteBody.model_validate({"note": f.text("note")})
        return Call(getattr(c.prevention, use_case), (body.note,), body)

    return call


def _prevention_reason(use_case: str) -> Callable[[Container, UUID, FormData], Call]:
    def call(c: Container, case_id: UUID, f: FormData) -> Call:
        body = S.ReasonBody.model_validate({"reason": f.text("reason")})
        return Call(getattr(c.prevention, use_case), (body.reason,), body)

    return call


def _conversation_held(c: Container, case_id: UUID, f: FormData) -> Call:
    body = S.ConversationHeldBody.model_validate({"held_at": f.instant("held_at"), "notes": f.text("notes")})
    return Call(c.prevention.hold_conversation, (body.held_at, body.notes), body)


def _reason(view: dict[str, Any], container: Container) -> list[Field]:
    return [Field("reason", "Begrunnelse", "textarea", required=False)]


PREVENTION_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("offer_conversation", _note, _prevention_note("offer_conversation")),
        Action("hold_conversation", lambda v, c: [
            Field("held_at", "Tidspunkt", "datetime", default=_now_local(c)),
            Field("notes", "Notat", "textarea", required=False),
        ], _conversation_held),
        Action("decline_conversation", _note, _prevention_note("decline_conversation")),
        Action("offer_counselling", _note, _prevention_note("offer_counselling")),
        Action("accept_counselling", _note, _prevention_note("accept_counselling")),
        Action("decline_counselling", _note, _prevention_note("decline_counselling")),
        Action("report_to_child_welfare", _reason, _prevention_reason("report_to_child_welfare")),
        Action("close", _reason, _prevention_reason("close_case"), danger=True),
    )
}  # fmt: skip


def offer_body(f: FormData) -> S.OfferBody:
    """The prosecutor's offer form as `POST /contracts`'s body."""
    guardians = []
    if f.one("guardian_name") or f.one("guardian_national_id"):
        guardians.append({"name": f.one("guardian_name"), "national_id": f.one("guardian_national_id")})
    replaces: dict[str, Any] = {"kind": f.one("replaces_kind", "fine"), "description": f.text("replaces")}
    if f.one("fine_amount"):
        replaces["amount"] = f.number("fine_amount")
    return S.OfferBody.model_validate(
        {
            "youth": {
                "name": f.one("youth_name"),
                "national_id": f.one("youth_national_id"),
                "birth_date": f.one("youth_birth_date"),
            },
            "guardians": guardians,
            "offence": {
                "code": f.one("offence_code"),
                "substance": f.one("substance"),
                "date": f.one("offence_date"),
                "summary": f.text("summary"),
            },
            "trinn": f.number("trinn"),
            "residence_municipality": f.one("municipality"),
            "registered_municipality": f.one("registered_municipality") or f.one("municipality"),
            "offer_deadline": f.one("offer_deadline"),
            "legal_basis": f.one("legal_basis"),
            "replaces": replaces,
        }
    )


def offer_call(c: Container, body: S.OfferBody) -> Call:
    return Call(
        c.contracts.offer,
        (
            c.new_id(),
            body.youth.value(),
            tuple(g.value() for g in body.guardians),
            body.offence.value(),
            body.trinn,
            body.residence_municipality,
            body.registered_municipality,
            body.offer_deadline,
            body.legal_basis,
            body.replaces.value(),
            body.gp,
            body.school,
        ),
        body,
    )


def concern_body(f: FormData) -> S.ConcernBody:
    return S.ConcernBody.model_validate(
        {
            "person": {
                "name": f.one("name"),
                "national_id": f.one("national_id"),
                "birth_date": f.one("birth_date"),
            },
            "source": f.one("source", "police"),
            "municipality": f.one("municipality"),
            "summary": f.text("summary"),
        }
    )


def concern_call(c: Container, body: S.ConcernBody) -> Call:
    return Call(
        c.prevention.register_concern,
        (c.new_id(), body.person.value(), body.source, body.municipality, body.summary),
        body,
    )
