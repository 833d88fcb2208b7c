"""What a page shows of a use case's answer: pure functions from the answer to rows and words.

The answer is the caller's view as the use case gave it (the same document `GET
/contracts/{id}` returns), so a page can never show more than the unit may see; these
functions only arrange it. Fields that other work adds later (`deadlines`,
`consents_missing`, `next_deadline_rule`, `escalated`, ...) are read with `.get`, so the
pages show them once they are there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from domain.policy import CURRENT_POLICY, Access
from domain.values import Agency, Category
from infra.web import labels as L


@dataclass(frozen=True)
class Signatory:
    code: str  # youth | guardian:<index>
    who: str  # "Ola Nordmann (ungdommen)"


@dataclass
class ConsentRow:
    signatory: Signatory
    contract: bool | None  # consented to the contract itself now (None: not known to the unit)
    scope: list[str] = field(default_factory=list)  # "fastlegen kan se laboratoriesvar"


def signatories(view: dict[str, Any]) -> list[Signatory]:
    """Who may sign for this case: the youth and every registered guardian, named when the
    unit may see their names."""
    youth = view.get("youth") if isinstance(view.get("youth"), dict) else {}
    people = [Signatory("youth", _named(youth.get("name"), "ungdommen"))]
    for index, guardian in enumerate(view.get("guardians") or []):
        name = guardian.get("name") if isinstance(guardian, dict) else None
        people.append(Signatory(f"guardian:{index}", _named(name, f"foresatt {index + 1}")))
    return people


def _named(name: Any, role: str) -> str:
    return f"{name} ({role})" if isinstance(name, str) and name else role.capitalize()


def scope_text(item: dict[str, Any]) -> str:
    return f"{L.word(L.AGENCY, item.get('agency'))} kan se {L.word(L.CATEGORY_OBJECT, item.get('category'))}"


def consent_status(view: dict[str, Any]) -> list[ConsentRow]:
    """Who has and has not consented, to the contract and to which sharing (from the view:
    `contract_consent`, `consents`, `consent_withdrawals`, and `consents_missing` while offered)."""
    given = view.get("contract_consent")
    missing = {m.get("signatory") for m in view.get("consents_missing") or [] if isinstance(m, dict)}
    rows = []
    for person in signatories(view):
        if isinstance(given, dict) and person.code in given:
            contract: bool | None = bool(given[person.code])
        elif "consents_missing" in view:
            contract = person.code not in missing
        else:
            contract = None
        scope: dict[tuple[str, str], bool] = {}
        events = [(c, True) for c in view.get("consents") or []]
        events += [(w, False) for w in view.get("consent_withdrawals") or []]
        # consents and withdrawals in the order recorded (ids end with the version: .../v7)
        for entry, on in sorted(events, key=lambda e: _version_of(e[0])):
            if entry.get("signatory") != person.code:
                continue
            for item in entry.get("scope") or []:
                scope[(str(item.get("agency")), str(item.get("category")))] = on
        rows.append(
            ConsentRow(
                person,
                contract,
                [scope_text({"agency": a, "category": c}) for (a, c), on in scope.items() if on],
            )
        )
    return rows


def _version_of(entry: dict[str, Any]) -> int:
    text = str(entry.get("consent_id") or "")
    tail = text.rsplit("/v", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def consentable_scope() -> list[tuple[str, str, str]]:
    """The sharing a consent can open (the policy's consent cells): (agency, category, words)."""
    cells = []
    for agency in Agency:
        if agency in (Agency.AUDITOR, Agency.COUNTY):
            continue
        for category in Category:
            if CURRENT_POLICY.access(agency, category) is Access.CONSENT:
                cells.append(
                    (
                        agency.value,
                        category.value,
                        scope_text({"agency": agency.value, "category": category.value}),
                    )
                )
    return cells


@dataclass(frozen=True)
class Moment:
    at: str  # ISO instant or day, sorted as text within a kind
    title: str
    detail: str = ""


def timeline(view: dict[str, Any]) -> list[Moment]:
    """What happened on the case, newest first, from the sections of the view the unit sees."""
    moments = [
        Moment(at, f"Status: {L.word(L.STATUS, status)}")
        for status, at in (view.get("entered") or {}).items()
    ]
    for consent in view.get("consents") or []:
        who = _signatory_name(view, consent.get("signatory"))
        scope = ", ".join(scope_text(i) for i in consent.get("scope") or [])
        moments.append(Moment(_at_of(view, consent), f"Samtykke fra {who}", scope))
    for meeting in view.get("meetings") or []:
        attended = "møtte" if meeting.get("attended") else "møtte ikke"
        moments.append(
            Moment(
                str(meeting.get("held_at", "")),
                f"{L.word(L.MEETING_KIND, meeting.get('kind')).capitalize()} ({attended})",
                str(meeting.get("notes") or ""),
            )
        )
    for test in view.get("tests") or []:
        result = _test_result(test)
        moments.append(
            Moment(
                str(test.get("collected_at") or test.get("scheduled_for") or ""),
                f"{L.word(L.TEST_KIND, test.get('kind')).capitalize()} {result}",
                str(test.get("interpretation") or ""),
            )
        )
    for breach in view.get("breaches") or []:
        decided = breach.get("response")
        title = f"Brudd: {L.word(L.BREACH_KIND, breach.get('kind'))}"
        if decided:
            title += f" – avgjort: {L.word(L.BREACH_RESPONSE, decided)}"
        detail = str(breach.get("reason") or breach.get("evidence") or "")
        moments.append(
            Moment(str(breach.get("decided_at") or breach.get("registered_at") or ""), title, detail)
        )
    for change in view.get("stage_changes") or []:
        moments.append(
            Moment(
                str(change.get("at", "")),
                f"Trinn endret til {change.get('to_trinn', '–')}",
                str(change.get("reason") or ""),
            )
        )
    for no_show in view.get("no_shows") or []:
        moments.append(
            Moment(
                str(no_show.get("recorded_at", "")),
                f"Uteblivelse: {no_show.get('appointment', '')}",
                str(no_show.get("excuse") or ""),
            )
        )
    meeting = view.get("startup_meeting")
    if isinstance(meeting, dict) and meeting.get("meeting_at"):
        moments.append(Moment(str(meeting["meeting_at"]), "Oppstartsmøte berammet"))
    for event in view.get("events") or []:
        moments.append(Moment(str(event.get("at", "")), L.word(L.EVENT, event.get("type"))))
    # newest first; what the view gives no time goes last, in the order recorded
    return sorted(reversed(moments), key=lambda m: m.at, reverse=True)


def _at_of(view: dict[str, Any], entry: dict[str, Any]) -> str:
    return str(entry.get("at") or entry.get("given_at") or "")  # a consent's time is not in the view


def _signatory_name(view: dict[str, Any], code: Any) -> str:
    for person in signatories(view):
        if person.code == code:
            return person.who
    return str(code)


def _test_result(test: dict[str, Any]) -> str:
    if "positives" not in test:
        return f"planlagt {L.day(test.get('scheduled_for'))}"
    positives = test.get("positives") or []
    return "positiv for " + ", ".join(map(str, positives)) if positives else "negativ"


@dataclass(frozen=True)
class Refusal:
    status: int
    title: str
    detail: str
    allowed: list[str]
    fields: list[str]
    rule: str | None


# The refusals a caseworker meets most, in Norwegian; any other keeps the service's own words.
REFUSAL_WORDS = {
    "action-not-allowed": "Det kan ikke gjøres nå, i sakens nåværende status.",
    "end-date-not-reached": "Avtalen kan først registreres som fullført når planens sluttdato er nådd.",
    "startup-meeting-not-due": "Oppstartsmøtet kan ikke registreres som holdt før det berammede tidspunktet.",
    "consent-already-given": "Denne personen har allerede samtykket til dette.",
    "consent-not-given": "Denne personen har ikke gitt samtykket som skal trekkes tilbake.",
    "unknown-signatory": "Den som samtykker må være ungdommen eller en registrert foresatt.",
    "booklet-unknown": "Ukjent versjon av informasjonsheftet.",
    "plan-too-long": "Planens sluttdato må være etter startdatoen og høyst 12 måneder etter.",
    "plan-deviation-reason-required": "Planen avviker fra trinnets standard og må begrunnes.",
    "held-in-future": "Et møte kan ikke registreres før det er holdt.",
    "collected-in-future": "En prøve kan ikke være tatt senere enn nå.",
    "stage-invalid": "Trinnet må være et annet enn dagens.",
    "offer-deadline-not-passed": "Svarfristen er ikke ute ennå.",
}

STATUS_WORDS = {
    401: "Du er ikke logget inn (eller innloggingen er utløpt).",
    403: "Du har ikke tilgang til å gjøre dette.",
    404: "Fant ikke saken. Den finnes ikke, eller enheten din har ikke tjenstlig behov for å se den.",
    409: "Handlingen ble avvist.",
    410: "Personopplysningene i saken er slettet.",
    412: "Saken er endret siden du åpnet den. Se over og prøv igjen.",
    422: "Noen felt mangler eller er ugyldige.",
    429: "For mange forespørsler. Vent litt og prøv igjen.",
    503: "Tallene regnes ut nå (skjuling av små celler). Last siden på nytt om litt.",
}


def refusal(status: int, body: dict[str, Any]) -> Refusal:
    """A problem document (the API's very answer) in words for the page."""
    rule = body.get("rule")
    title = REFUSAL_WORDS.get(str(rule), "") or STATUS_WORDS.get(status, str(body.get("title", "")))
    fields = [
        f"{'.'.join(str(p) for p in e.get('loc', []) if p != 'body')}: {e.get('msg', '')}"
        for e in body.get("errors") or []
    ]
    return Refusal(
        status,
        title,
        str(body.get("detail") or body.get("title") or ""),  # the service's own words
        [str(a) for a in body.get("allowed_actions") or []],
        fields,
        str(rule) if rule else None,
    )


def problem_body(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
