"""The subject-access export in plain Norwegian: one sentence per event, local dates and times.

Written for the youth (and their parent) who asked to see what is stored about them: no
JSON, no English keys, no agency codes, no case ids or UUIDs, no UTC times. The export
(`services/subject_access.py`) has masked other persons already, in their own fields and in
free text (their names replaced by "[annen person]"); this module only puts it in words.
`render` gives a printable page of its own (`GET /subjects/{id}/export?format=html`); the
caseworker pages show the same sections (`/ui/innsyn`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from infra.web import labels as L

TEMPLATES = Path(__file__).parent / "web" / "templates"
_ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
_ENV.filters.update(when=L.when, day=L.day)


def _agency(code: Any) -> str:
    return L.word(L.AGENCY, code)


def _Agency(code: Any) -> str:  # capitalised: the sentence's first word
    text = _agency(code)
    return text[:1].upper() + text[1:]


def _list(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def _signatory(code: Any, you: bool) -> str:
    if code == "youth":
        return "Du" if you else "Ungdommen"
    return "En foresatt" if you else f"Foresatt {_guardian_number(code)}"


def _guardian_number(code: Any) -> str:
    text = str(code)
    tail = text.split(":", 1)[-1]
    return str(int(tail) + 1) if tail.isdigit() else text


def _scope(scope: Any, you: bool) -> str:
    if not isinstance(scope, list):
        return ""
    return _list(
        [
            f"{_agency(i.get('agency'))} kan se {L.word(L.CATEGORY_OBJECT, i.get('category'))}"
            for i in scope
            if isinstance(i, dict)
        ]
    )


def _plan(plan: Any) -> list[str]:
    if not isinstance(plan, dict):
        return []
    regime = plan.get("test_regime") or {}
    lines = [
        f"Planen gjelder trinn {plan.get('trinn', '–')} fra {L.day(plan.get('start_date'))} "
        f"til {L.day(plan.get('end_date'))}.",
    ]
    if regime:
        lines.append(
            f"{regime.get('per_month', '–')} {L.word(L.TEST_KIND, regime.get('kind'))}er i måneden, "
            f"og en samtale hver {plan.get('meeting_frequency_days', '–')}. dag."
        )
    if plan.get("team"):
        lines.append("Med i teamet: " + _list([_agency(a) for a in plan["team"]]) + ".")
    if plan.get("conditions"):
        lines.append("Vilkår: " + _list([str(c) for c in plan["conditions"]]) + ".")
    return lines


def facts(
    event: dict[str, Any], you: bool = False, municipality: Callable[[str], str] | None = None
) -> list[str]:
    """What one event says, in sentences (`you`: spoken to the youth)."""
    p = event.get("payload") or {}
    kind = event.get("type")
    actor = _Agency(event.get("actor_agency"))
    place = municipality or (lambda n: f"kommune {n}")
    subject = "du" if you else "ungdommen"
    Subject = subject.capitalize()
    note = [f"Notat: «{p['notes']}»"] if p.get("notes") else []
    if kind in ("ContractOffered", "CaseDisclosed"):
        offence = p.get("offence") or {}
        lines = [
            f"{actor} tilbød {'deg' if you else 'ungdommen'} en ruskontrakt"
            + (f" etter en sak om {offence.get('substance')}" if offence.get("substance") else "")
            + (f" den {L.day(offence.get('date'))}" if offence.get("date") else "")
            + "."
        ]
        if p.get("trinn"):
            lines.append(f"Tilbudet gjaldt trinn {p['trinn']}.")
        if p.get("offer_deadline"):
            lines.append(f"Svarfristen var {L.day(p['offer_deadline'])}.")
        if p.get("legal_basis"):
            lines.append(f"Grunnlag: {L.word(L.LEGAL_BASIS, p['legal_basis'])}.")
        replaces = p.get("replaces") or {}
        if replaces.get("kind") == "fine" and replaces.get("amount"):
            lines.append(f"Avtalen erstatter et forelegg på {replaces['amount']} kroner.")
        if p.get("residence_municipality"):
            lines.append(f"Bostedskommune: {place(str(p['residence_municipality']))}.")
        if offence.get("summary"):
            lines.append(f"Beskrivelse: «{offence['summary']}»")
        lines += _plan(p.get("plan"))
        return lines
    if kind == "ConsentGiven":
        scope = _scope(p.get("scope"), you)
        who = _signatory(p.get("signatory"), you)
        lines = [f"{who} samtykket til ruskontrakten."]
        if scope:
            lines.append(f"{who} samtykket også til at {scope}.")
        return lines
    if kind == "ConsentWithdrawn":
        who = _signatory(p.get("signatory"), you)
        scope = _scope(p.get("scope"), you)
        if scope:
            return [f"{who} trakk tilbake samtykket til at {scope}."]
        return [f"{who} trakk tilbake samtykket til ruskontrakten."]
    if kind == "GuardianAdded":
        return ["En foresatt ble registrert i saken."]
    if kind == "OfferDeclined":
        return [f"{_signatory(p.get('signatory', 'youth'), you)} takket nei til tilbudet."]
    if kind == "OfferLapsed":
        return ["Tilbudet falt bort fordi det ikke kom svar innen fristen."]
    if kind == "StartupMeetingScheduled":
        return [f"{actor} satte opp et oppstartsmøte {L.when(p.get('meeting_at'))}."]
    if kind == "StartupMeetingHeld":
        return ["Oppstartsmøtet ble holdt.", *note]
    if kind == "PlanAgreed":
        return ["Dere ble enige om en plan." if you else "En plan ble avtalt.", *_plan(p.get("plan"))]
    if kind == "PlanAmended":
        reason = [f"Begrunnelse: «{p['reason']}»"] if p.get("reason") else []
        return ["Planen ble endret.", *_plan(p.get("plan")), *reason]
    if kind == "StageChanged":
        reason = [f"Begrunnelse: «{p['reason']}»"] if p.get("reason") else []
        return [
            f"Avtalen ble flyttet fra trinn {p.get('from_trinn', '–')} til trinn {p.get('to_trinn', '–')}.",
            *reason,
        ]
    if kind == "TestScheduled":
        test = L.word(L.TEST_KIND, p.get("kind")) + (" uanmeldt" if p.get("random") else "")
        return [f"Det ble planlagt en {test} {L.day(p.get('scheduled_for'))}."]
    if kind in ("RapidTestRecorded", "LabResultRecorded"):
        test = "hurtigtest" if kind == "RapidTestRecorded" else "laboratorietest"
        positives = p.get("positives") or []
        result = "positiv for " + _list([str(x) for x in positives]) if positives else "negativ"
        lines = [f"En {test} tatt {L.when(p.get('collected_at'))} var {result}."]
        if p.get("interpretation"):
            lines.append(f"Vurdering: «{p['interpretation']}»")
        return lines
    if kind == "MeetingHeld":
        meeting = L.word(L.MEETING_KIND, p.get("kind"))
        if p.get("attended") is False:
            return [f"{Subject} møtte ikke til {meeting} {L.when(p.get('held_at'))}.", *note]
        return [
            f"{Subject} hadde {meeting} med {_agency(event.get('actor_agency'))} {L.when(p.get('held_at'))}.",
            *note,
        ]
    if kind == "NoShowRecorded":
        excuse = [f"Grunn: «{p['excuse']}»"] if p.get("excuse") else []
        return [f"{Subject} møtte ikke til «{p.get('appointment', '')}».", *excuse]
    if kind == "BreachRegistered":
        evidence = [f"Hva som skjedde: «{p['evidence']}»"] if p.get("evidence") else []
        return [
            f"{actor} registrerte et brudd på avtalen: {L.word(L.BREACH_KIND, p.get('kind'))}.",
            *evidence,
        ]
    if kind == "BreachDecided":
        reason = [f"Begrunnelse: «{p['reason']}»"] if p.get("reason") else []
        return [
            f"Bruddet ble avgjort med {L.word(L.BREACH_RESPONSE, p.get('response'))}.",
            *reason,
            *_plan(p.get("plan")),
        ]
    if kind == "ContractCompleted":
        return [f"Avtalen ble fullført {L.day(p.get('completion_date'))}."]
    if kind == "ContractTerminated":
        return [f"Avtalen ble avbrutt: {L.word(L.TERMINATION, p.get('reason'))}."]
    if kind == "ReturnedToProsecution":
        return [
            "Saken ble sendt tilbake til påtalemyndigheten.",
            *([f"Merknad: «{p['note']}»"] if p.get("note") else []),
        ]
    if kind == "EvaluationSubmitted":
        return [f"{actor} leverte en evaluering av avtalen."]
    if kind == "GpRegistered":
        return [f"{'Fastlegen din' if you else 'Fastlegen'} ble registrert i saken."]
    if kind == "SchoolRegistered":
        return [f"{'Skolen din' if you else 'Skolen'} ble registrert i saken."]
    if kind == "ResidenceChanged":
        return [f"Det ble registrert at {subject} bor i {place(str(p.get('municipality', '')))}."]
    if kind == "TeamMemberAdded":
        return [f"{_Agency(p.get('agency'))} ble med i teamet rundt avtalen."]
    if kind == "TeamMemberRemoved":
        return ["En i teamet rundt avtalen gikk ut av det."]
    if kind == "DeadlineMissed":
        return [f"En frist gikk ut uten at noe ble registrert: {L.word(L.DEADLINE, p.get('rule'))}."]
    if kind == "CaseEscalated":
        return ["Saken ble løftet til en leder fordi en frist var gått ut."]
    if kind == "ConcernRegistered":
        source = L.word(L.CONCERN_SOURCE, p.get("source"))
        summary = [f"Beskrivelse: «{p['summary']}»"] if p.get("summary") else []
        return [
            f"Politiet registrerte en bekymring for {'deg' if you else 'ungdommen'} (meldt av {source}).",
            *summary,
        ]
    if kind == "ConversationOffered":
        return [f"Politiet tilbød {'deg' if you else 'ungdommen'} en bekymringssamtale."]
    if kind == "ConversationHeld":
        return [f"Bekymringssamtalen ble holdt {L.when(p.get('held_at'))}.", *note]
    if kind == "ConversationDeclined":
        return ["Bekymringssamtalen ble avslått."]
    if kind == "CounsellingOffered":
        return [f"{Subject} ble tilbudt oppfølging fra kommunen."]
    if kind == "CounsellingAccepted":
        return [f"{Subject} takket ja til oppfølging."]
    if kind == "CounsellingDeclined":
        return [f"{Subject} takket nei til oppfølging."]
    if kind == "ConcernReportedToChildWelfare":
        return ["Politiet sendte en bekymringsmelding til barnevernet."]
    if kind == "PreventionCaseClosed":
        return ["Den forebyggende saken ble avsluttet."]
    return [L.word(L.EVENT, kind) + "."]


ACCESS_ACTIONS = {
    "case_view": "så saken",
    "worklist": "så saken i arbeidslisten",
    "history": "så hele historikken (revisjon)",
    "subject_export": "hentet ut innsyn",
    "access_log": "så tilgangsloggen",
    "prevention_case_view": "så den forebyggende saken",
    "prevention_worklist": "så den forebyggende saken i arbeidslisten",
    "erase": "slettet personopplysninger",
}


def _access_action(action: str) -> str:
    if action.startswith("command:"):
        return "registrerte: " + L.word(L.ACTION, action.removeprefix("command:")).lower()
    if action.startswith("replay:"):
        return "fikk vist et svar på nytt"
    if action.startswith("agency_view:"):
        return f"så hva {_agency(action.split(':', 1)[1])} kunne se (revisjon)"
    if action.startswith("stream"):
        return "fikk saken i sin hendelsesstrøm"
    return ACCESS_ACTIONS.get(action, "så opplysninger")


GROUNDS = {
    "role": "rollen i saken",
    "disclosure": "utlevering",
    "auditor": "revisjon",
    "offence": "lovbruddet hørte til distriktet",
    "municipality": "ungdommen bor i kommunen",
    "gp": "fastlegen til ungdommen",
    "school": "skolen til ungdommen",
}


def _ground(text: str) -> str:
    if text.startswith("consent"):
        return "samtykke"
    if text.startswith("role:"):
        return "revisjon" if text == "role:auditor" else "rollen i saken"
    if text.startswith("team:"):
        return "med i teamet rundt avtalen"
    if text.startswith("explicit"):
        return "særskilt tilgang med begrunnelse"
    return GROUNDS.get(text, "annet grunnlag")


def _grounds(basis: Any) -> str:
    if not isinstance(basis, dict):
        return ""
    words = set()
    for key, grounds in basis.items():
        if key == "unit":  # who read: named in the "who" column
            continue
        for ground in grounds if isinstance(grounds, list) else [grounds]:
            words |= {_ground(part) for part in str(ground).split(",") if part}
    return _list(sorted(words))


def access_row(entry: dict[str, Any]) -> dict[str, str]:
    """One access-log entry in words: when, who, what they did, what they saw, and why."""
    categories = [L.word(L.CATEGORY, c) for c in entry.get("categories") or []]
    basis = entry.get("basis") if isinstance(entry.get("basis"), dict) else {}
    unit = f" {basis['unit']}" if basis.get("unit") else ""
    return {
        "when": L.when(entry.get("at")),
        "who": f"{_Agency(entry.get('agency'))}{unit} ({entry.get('sub', '')})",
        "what": _access_action(str(entry.get("action", ""))),
        "seen": _list(categories) or "–",
        "why": _grounds(basis) or "–",
        "as_guardian": "ja" if entry.get("subject_role") == "guardian" else "",
    }


# What the prosecutor decided on a case, in words (domain/intake.py `IntakeDecision`).
INTAKE_DECISION = {
    "contract_offered": "Du fikk tilbud om ruskontrakt.",
    "fine": "Saken ble avgjort med bot (forelegg).",
    "waiver": "Saken ble avgjort med påtaleunnlatelse.",
    "other": "Saken ble avgjort med en annen reaksjon.",
    "dropped": "Saken ble henlagt.",
}


def intake_facts(found: dict[str, Any], municipality: Callable[[str], str] | None = None) -> dict[str, Any]:
    """One intake record (the prosecutor's decision) in words, as the export shows it."""
    record = found.get("record")
    if record is None:
        return {"when": L.when(found.get("recorded_at")), "erased": True, "lines": []}
    place = municipality or (lambda n: f"kommune {n}")
    lines = [
        INTAKE_DECISION.get(str(record.get("decision")), "Saken ble avgjort."),
        f"Avgjort {L.day(record.get('decided_on'))}, for et forhold {L.day(record.get('offence_date'))}.",
        f"Kommune: {place(str(record.get('municipality', '')))}. Alder: {record.get('age_band')} år.",
    ]
    if record.get("reason"):
        lines.append(f"Begrunnelse: {record['reason']}")
    return {"when": L.when(found.get("recorded_at")), "erased": False, "lines": lines}


def sections(export: dict[str, Any], municipality: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The export arranged for reading: the person, each case with its events in words, the
    cases that name them as guardian, and who has seen what."""
    subject = export.get("subject") or {}

    def cases(items: list[dict[str, Any]] | None, title: str) -> list[dict[str, Any]]:
        out = []
        for number, case in enumerate(items or [], start=1):
            events = case.get("events") or []
            started = events[0].get("at") if events else None
            out.append(
                {
                    "title": f"{title} {number}" + (f", fra {L.day(started)}" if started else ""),
                    "status": L.word(L.STATUS, case.get("status")),
                    "erased": bool(case.get("erased")),
                    "events": [
                        {
                            "when": L.when(e.get("at")),
                            "what": L.word(L.EVENT, e.get("type")),
                            "lines": facts(e, you=True, municipality=municipality),
                        }
                        for e in events
                    ],
                }
            )
        return out

    return {
        "name": subject.get("name") or _name_in(export),
        "national_id": subject.get("national_id"),
        "generated": L.when(export.get("generated_at")),
        "for_unit": "redacted_for" in export,
        "contracts": cases(export.get("contracts"), "Ruskontrakt"),
        "prevention": cases(export.get("prevention_cases"), "Forebyggende sak")
        if "prevention_cases" in export
        else None,
        "intake": [intake_facts(r, municipality) for r in export["intake_records"]]
        if "intake_records" in export
        else None,
        "as_guardian": [
            {"status": L.word(L.STATUS, c.get("status")), "erased": bool(c.get("erased"))}
            for c in export.get("contracts_as_guardian") or []
        ],
        "access": [access_row(a) for a in export["access_log"]] if "access_log" in export else None,
    }


def _name_in(export: dict[str, Any]) -> str | None:
    """The person's name as the cases record it (a unit's export names only the national id)."""
    national_id = (export.get("subject") or {}).get("national_id")
    for case in export.get("contracts") or []:
        for event in case.get("events") or []:
            for person in (
                (event.get("payload") or {}).get("youth"),
                (event.get("payload") or {}).get("person"),
            ):
                if (
                    isinstance(person, dict)
                    and person.get("national_id") == national_id
                    and person.get("name")
                ):
                    return str(person["name"])
    return None


def render(export: dict[str, Any], municipality: Callable[[str], str] | None = None) -> str:
    """A printable page of its own (inline styles, no scripts, nothing fetched)."""
    return _ENV.get_template("export_document.html").render(export=sections(export, municipality))
