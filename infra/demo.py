"""`ruskontrakt demo`: realistic cases loaded through the public API, as each agency.

Trøndelag municipalities, all three stages, consents with and without sharing scopes,
breaches answered with warnings, a confirmed lab positive ending in termination,
completed and declined contracts, and prevention cases at different points of the funnel.

It reads its own writes: every read passes the position of the last command's answer
(`X-Min-Position`), so with Kafka a read waits for the projector instead of finding a case
not projected yet. Whatever goes wrong (no service at the URL, a refused command) ends it
with one line (`DemoError`).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from rich.progress import track
from stdnum.no import fodselsnummer

from domain.calendar import add_months, local_day
from domain.municipalities import DEFAULT_REGISTER
from domain.values import Agency
from infra.auth import TokenService
from infra.settings import Settings

log = logging.getLogger("ruskontrakt.demo")
MUNICIPALITIES = ["5001", "5006", "5007", "5035", "5028", "5025"]
FIRST = ["Ola", "Emma", "Jakob", "Nora", "Filip", "Sara", "Lukas", "Ingrid", "Henrik", "Maja"]


def _national_id(birth: date, serial: int = 0) -> str:
    """The `serial`-th valid fødselsnummer of a birth date in 1900-2039 (individual numbers
    000-499 before 2000, 500-999 from then on; those whose check digits would be 10 skipped)."""
    first = 500 if birth.year >= 2000 else 0
    valid = []
    for individual in range(first, first + 500):
        digits = f"{birth:%d%m%y}{individual:03d}"
        check1 = fodselsnummer.calc_check_digit1(digits)
        check2 = fodselsnummer.calc_check_digit2(digits + check1)
        if len(check1 + check2) == 2:
            valid.append(digits + check1 + check2)
    return valid[serial]


class DemoError(Exception):
    """The demo cannot go on; the message is one line for the operator."""


def default_url(settings: Settings) -> str:
    """Where `ruskontrakt serve` listens with these settings (`RUSKONTRAKT_HOST`, `_PORT`); a
    service on every address (0.0.0.0, ::) is reached on loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


# The demo's users are of the units related to its cases (docs/domain.md §9): every case is
# in Trøndelag (one police district and Conflict Council office), and a municipal service
# acts on the cases of its own municipality.
MUNICIPAL = (Agency.MUNICIPAL_HEALTH, Agency.CHILD_WELFARE)
DEMO_GP, DEMO_SCHOOL = "9144900", "974760673"  # the youths' GP and school (HPR, organisation number)
CASE_ID = re.compile(r"^/(?:contracts|prevention-cases)/([0-9a-f-]{36})")


class Client:
    def __init__(self, url: str, tokens: TokenService, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30, transport=transport)
        self.tokens = tokens
        self.homes: dict[str, str] = {}  # case id -> the municipality whose services act on it
        self._headers: dict[tuple[Agency, str | None], dict[str, str]] = {}
        # Per track (each has its own positions): the last command's; a read of the track
        # waits until the read models have applied it.
        self.positions: dict[str, int] = {}

    def headers(self, agency: Agency, path: str) -> dict[str, str]:
        """A token of the unit of `agency` related to the case `path` names."""
        found = CASE_ID.match(path)
        home = self.homes.get(found.group(1), "5001") if found else "5001"
        unit = DEFAULT_REGISTER.units(home).get(agency) if agency is not Agency.AUDITOR else None
        if agency in (Agency.GP, Agency.SCHOOL):
            unit = DEMO_GP if agency is Agency.GP else DEMO_SCHOOL
        elif agency not in MUNICIPAL and agency is not Agency.AUDITOR:
            unit = DEFAULT_REGISTER.units("5001")[agency]  # the same in every demo municipality
        if (agency, unit) not in self._headers:
            role = "prevention" if agency is Agency.POLICE else None
            token = self.tokens.issue(agency, f"demo-{agency.value}", unit, role)
            self._headers[agency, unit] = {"Authorization": f"Bearer {token}"}
        return self._headers[agency, unit]

    def post(self, agency: Agency, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._send("POST", agency, path, json=body or {})
        if "X-Position" in response.headers:
            track = _track(path)
            self.positions[track] = max(self.positions.get(track, 0), int(response.headers["X-Position"]))
        result: dict[str, Any] = response.json()
        return result

    def get(self, agency: Agency, path: str) -> dict[str, Any]:
        """A read of what the demo wrote: at least as new as its last command."""
        position = self.positions.get(_track(path))
        headers = {"X-Min-Position": str(position)} if position is not None else {}
        result: dict[str, Any] = self._send("GET", agency, path, headers=headers).json()
        return result

    def check(self) -> None:
        """That a service answers at the URL, before anything is sent."""
        self._send("GET", None, "/health")

    def _send(self, method: str, agency: Agency | None, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**(self.headers(agency, path) if agency else {}), **kwargs.pop("headers", {})}
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise DemoError(
                f"no service answers at {self.url} ({type(error).__name__}): start it with "
                "`ruskontrakt serve`, or give its address with --url"
            ) from None
        if response.status_code >= 400:
            who = f"{agency.value} " if agency else ""
            raise DemoError(f"{who}{method} {path}: {response.status_code} {_problem(response)}")
        return response


def _track(path: str) -> str:
    return "prevention" if path.startswith("/prevention-cases") else "contracts"


def _problem(response: httpx.Response) -> str:
    """The refusal in one line: a problem's title and detail, or the start of the body."""
    try:
        problem = response.json()
        text = f"{problem.get('title', '')}: {problem.get('detail', '')}"
    except (ValueError, AttributeError):
        text = response.text
    return " ".join(text.split())[:300]


def _offer(client: Client, i: int, trinn: int, today: date) -> str:
    municipality = MUNICIPALITIES[i % len(MUNICIPALITIES)]
    registered = MUNICIPALITIES[(i + 1) % len(MUNICIPALITIES)] if i % 5 == 0 else municipality
    birth = date(today.year - 16, 1 + i % 12, 1 + i % 27)
    body = {
        "youth": {
            "name": f"{FIRST[i % 10]} Demo{i}",
            "national_id": _national_id(birth),
            "birth_date": birth.isoformat(),
        },
        "guardians": [{"name": f"Foresatt Demo{i}", "national_id": _national_id(date(1975, 3, 1 + i % 28))}],
        "offence": {
            "code": "NARK-BRUK",
            "substance": "cannabis" if i % 3 else "MDMA",
            "date": (today - timedelta(days=40)).isoformat(),
            "summary": "Demo case",
        },
        "trinn": trinn,
        "residence_municipality": municipality,
        "registered_municipality": registered,
        "legal_basis": "strpl_71a",
        "replaces": {"kind": "fine", "amount": 3000, "description": "forelegg"},
        "gp": DEMO_GP,
        "school": DEMO_SCHOOL,
    }
    case_id = str(client.post(Agency.PROSECUTION, "/contracts", body)["id"])
    client.homes[case_id] = municipality
    return case_id


def _activate(client: Client, case_id: str, trinn: int, start: date, months: int) -> None:
    k = Agency.KONFLIKTRAD
    consent_scope = [
        {"agency": "school", "category": "outcome"},
        {"agency": "gp", "category": "identity"},
    ]
    for signatory in ("youth", "guardian:0"):
        client.post(
            k,
            f"/contracts/{case_id}/consents",
            {"signatory": signatory, "scope": consent_scope, "booklet_version": "2026-1"},
        )
    client.post(
        k,
        f"/contracts/{case_id}/startup-meeting",
        {
            "at": f"{start.isoformat()}T10:00:00+01:00",
            "participants": ["konfliktrad", "municipal_health", "police"],
        },
    )
    view = client.get(k, f"/contracts/{case_id}")  # as new as the schedule just sent
    end = add_months(start, months)  # the trinn's default length: no deviation to explain
    plan = {
        "trinn": trinn,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "test_regime": {"kind": "rapid", "per_month": 4 if trinn > 1 else 2},
        "meeting_frequency_days": 14 if trinn != 2 else 30,
        "team": ["konfliktrad", "municipal_health", "police"],
        "conditions": ["no drug use", "attend conversations"],
        "residence_municipality": view["residence_municipality"],
        "registered_municipality": view["registered_municipality"],
    }
    client.post(
        k,
        f"/contracts/{case_id}/startup-meeting/held",
        {"plan": plan, "attendees": ["konfliktrad", "municipal_health"], "notes": "Plan agreed."},
    )


def _rapid_test(client: Client, case_id: str, day: date, positives: list[str]) -> str:
    test = client.post(
        Agency.MUNICIPAL_HEALTH,
        f"/contracts/{case_id}/tests",
        {"kind": "rapid", "purpose": "follow_up", "scheduled_for": day.isoformat(), "random": True},
    )
    client.post(
        Agency.MUNICIPAL_HEALTH,
        f"/contracts/{case_id}/tests/{test['test_id']}/result",
        {"positives": positives, "collected_at": f"{day.isoformat()}T09:00:00+01:00"},
    )
    return str(test["test_id"])


FACTORS = {
    "seriousness": "low",
    "fault": "admits use",
    "condition_kind": "drug-free",
    "motivation": "good",
    "completed_share": 0.3,
    "repetition": 1,
}


def load_demo(url: str, settings: Settings) -> None:
    client = Client(url, TokenService(settings))
    client.check()
    today = local_day(datetime.now(UTC))  # Norway's day, which the server judges by
    k, h = Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH
    for i in track(range(12), description="contracts"):
        trinn = 1 + i % 3
        case_id = _offer(client, i, trinn, today)
        if i == 10:
            client.post(Agency.PROSECUTION, f"/contracts/{case_id}/decline", {"signatory": "youth"})
            continue
        if i == 11:
            continue  # stays offered: answer pending
        finished = i in (0, 3)
        start = today - timedelta(days=200) if finished else today - timedelta(days=20)
        _activate(client, case_id, trinn, start, 3 if trinn == 1 else 6)
        client.post(
            h,
            f"/contracts/{case_id}/meetings",
            {
                "kind": "conversation",
                "held_at": f"{start.isoformat()}T14:00:00+01:00",
                "attended": True,
                "notes": "Motivational conversation.",
            },
        )
        test_id = _rapid_test(client, case_id, start + timedelta(days=7), ["THC"] if i % 4 == 1 else [])
        if i % 4 == 1:
            breach = client.post(
                k,
                f"/contracts/{case_id}/breaches",
                {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"},
            )
            client.post(
                k,
                f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision",
                {"response": "warning", "reason": "First positive test", "factors": FACTORS},
            )
        if i == 5:  # a confirmed lab positive and a second breach end the contract
            lab = client.post(
                Agency.GP,
                f"/contracts/{case_id}/tests",
                {"kind": "lab", "purpose": "follow_up", "scheduled_for": today.isoformat()},
            )
            client.post(
                Agency.GP,
                f"/contracts/{case_id}/tests/{lab['test_id']}/result",
                {
                    "positives": ["THC"],
                    "collected_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                    "requisition_code": "LAB-1",
                    "interpretation": "confirmed use",
                },
            )
            breach = client.post(
                k,
                f"/contracts/{case_id}/breaches",
                {"kind": "positive_test", "test_id": lab["test_id"], "evidence": "lab"},
            )
            client.post(
                k,
                f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision",
                {"response": "terminate", "reason": "Confirmed use", "factors": FACTORS},
            )
            client.post(k, f"/contracts/{case_id}/return-to-prosecution", {"note": "New decision"})
        if finished:
            client.post(k, f"/contracts/{case_id}/complete")
            client.post(
                k,
                f"/contracts/{case_id}/evaluations",
                {
                    "respondent_role": "youth",
                    "form_version": "2026-1",
                    "answers": {"helpful": 4, "understood_consent": True, "comment": "Demo"},
                },
            )
    contracts = list(client.homes)
    _prevention(client, today)
    _intake_and_evaluations(client, today, contracts)
    log.info("demo data loaded into %s", url)


# The intake register's other decisions (docs/domain.md §10): the denominators of equal
# practice, in every demo municipality.
INTAKE_DECISIONS = ["fine", "waiver", "fine", "other", "dropped", "fine"]
EVALUATION_ANSWERS = [
    ("youth", {"helpful": 4, "understood_consent": True, "informed": 4, "most_useful": "conversations"}),
    ("guardian", {"understood_consent": True, "informed": 5, "followed_up": True}),
    ("coordinator", {"followed_up": True, "team_cooperation": 4}),
    ("health_service", {"followed_up": False, "team_cooperation": 3}),
]


def _intake_and_evaluations(client: Client, today: date, cases: list[str]) -> None:
    for i in track(range(24), description="intake"):
        birth = date(today.year - 16, 1 + i % 12, 1 + i % 27)
        client.post(
            Agency.PROSECUTION,
            "/intake",
            {
                "national_id": _national_id(birth, 100 + i),
                "birth_date": birth.isoformat(),
                "municipality": MUNICIPALITIES[i % len(MUNICIPALITIES)],
                "offence_date": (today - timedelta(days=30 + i)).isoformat(),
                "age_band": str(_age(birth, today - timedelta(days=30 + i))),
                "decision": INTAKE_DECISIONS[i % len(INTAKE_DECISIONS)],
                "reason": "Demo: førstegangs bruk",
            },
        )
    for case_id in cases:
        view = client.get(Agency.KONFLIKTRAD, f"/contracts/{case_id}")
        if view.get("status") not in ("active", "completed", "terminated", "returned", "breach_review"):
            continue
        for role, answers in EVALUATION_ANSWERS:
            client.post(
                Agency.KONFLIKTRAD,
                f"/contracts/{case_id}/evaluations",
                {"respondent_role": role, "form_version": "2026-1", "answers": answers},
            )


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _prevention(client: Client, today: date) -> None:
    police = Agency.POLICE
    for i in track(range(6), description="prevention"):
        case = client.post(
            police,
            "/prevention-cases",
            {
                "person": {
                    "name": f"Forebygging Demo{i}",
                    "national_id": _national_id(date(today.year - 15, 1, 15), i),
                    "birth_date": date(today.year - 15, 1, 15).isoformat(),
                },
                "source": "charged_buyer" if i % 2 else "school",
                "municipality": MUNICIPALITIES[i % len(MUNICIPALITIES)],
                "summary": "Concern",
            },
        )
        client.homes[case["id"]] = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        path = f"/prevention-cases/{case['id']}"
        client.post(police, f"{path}/conversation-offered")
        if i == 5:
            client.post(police, f"{path}/conversation-declined")
            continue
        client.post(
            police,
            f"{path}/conversation-held",
            {"held_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "notes": "Talk held"},
        )
        client.post(police, f"{path}/counselling-offered")
        if i % 4 == 0:
            client.post(police, f"{path}/counselling-accepted")
        else:
            client.post(police, f"{path}/counselling-declined")
        if i == 3:
            client.post(police, f"{path}/reported-to-child-welfare", {"reason": "Home situation"})
        if i in (1, 2):
            client.post(police, f"{path}/close", {"reason": "Follow-up finished"})
