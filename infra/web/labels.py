"""Norwegian (bokmål) words for the codes the service speaks in: what a page shows a person.

Nothing here decides anything; a code without a word is shown as itself, so a new status or
rule from the domain still renders (and a test of the pages names what is missing).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.calendar import OSLO

AGENCY = {
    "prosecution": "påtalemyndigheten",
    "police": "politiet",
    "konfliktrad": "konfliktrådet",
    "municipal_health": "kommunens helsetjeneste",
    "gp": "fastlegen",
    "child_welfare": "barnevernet",
    "school": "skolen",
    "county": "statsforvalteren/fylket",
    "auditor": "revisor",
}

ROLE = {"prevention": "forebyggende enhet", "investigation": "etterforskning"}

# Who answers an evaluation (domain/data/evaluation-forms.json `roles`).
RESPONDENT = {
    "youth": "ungdommen",
    "guardian": "foresatt",
    "coordinator": "koordinator i konfliktrådet",
    "health_service": "helsetjenesten",
}

CATEGORY = {
    "identity": "identitet (navn og fødselsnummer)",
    "offence": "lovbruddet",
    "terms": "avtalevilkår",
    "notes": "samtalenotater",
    "rapid_test": "hurtigtester",
    "lab_test": "laboratoriesvar",
    "breach": "brudd",
    "outcome": "utfall",
    "evaluation": "evalueringer",
    "all": "alt",
}

# The same categories as the object of a sentence: "… kan se testresultater".
CATEGORY_OBJECT = {
    "identity": "navnet og fødselsnummeret ditt",
    "offence": "hva saken gjelder",
    "terms": "avtalen og vilkårene",
    "notes": "notater fra samtaler",
    "rapid_test": "resultater av hurtigtester",
    "lab_test": "testresultater fra laboratoriet",
    "breach": "brudd på avtalen",
    "outcome": "hvordan avtalen endte",
    "evaluation": "evalueringer",
}

STATUS = {
    "offered": "tilbudt",
    "consented": "samtykke gitt",
    "startup_scheduled": "oppstartsmøte berammet",
    "active": "aktiv",
    "breach_review": "bruddvurdering",
    "completed": "fullført",
    "terminated": "avbrutt",
    "returned": "sendt tilbake til påtalemyndigheten",
    "declined": "avslått",
    "lapsed": "bortfalt (ikke svart i tide)",
    # the preventive track
    "registered": "bekymring registrert",
    "conversation_offered": "samtale tilbudt",
    "conversation_held": "samtale holdt",
    "conversation_declined": "samtale avslått",
    "counselling_offered": "oppfølging tilbudt",
    "counselling_accepted": "oppfølging takket ja til",
    "counselling_declined": "oppfølging avslått",
    "closed": "avsluttet",
}

DEADLINE = {
    "offer_answer": "svar på tilbudet",
    "startup_meeting": "oppstartsmøte",
    "next_meeting": "neste oppfølgingssamtale",
    "next_test": "neste test",
    "breach_decision": "avgjørelse om brudd",
    "return_to_prosecution": "tilbakesending til påtalemyndigheten",
    "completion": "registrere at avtalen er fullført",
}

ACTION = {
    "give_consent": "Registrer samtykke",
    "withdraw_consent": "Registrer tilbaketrukket samtykke",
    "add_guardian": "Legg til foresatt",
    "register_gp": "Registrer fastlege",
    "register_school": "Registrer skole",
    "change_residence": "Registrer flytting",
    "add_team_member": "Legg til i teamet",
    "remove_team_member": "Fjern fra teamet",
    "decline": "Registrer avslag",
    "lapse": "Registrer at svarfristen er ute",
    "schedule_startup": "Beram oppstartsmøte",
    "hold_startup": "Oppstartsmøte holdt – avtal plan",
    "fail_startup": "Oppstartsmøtet lyktes ikke",
    "change_stage": "Endre trinn",
    "amend_plan": "Endre planen",
    "schedule_test": "Planlegg test",
    "record_test_result": "Registrer testsvar",
    "hold_meeting": "Registrer samtale eller møte",
    "record_no_show": "Registrer uteblivelse",
    "register_breach": "Registrer brudd",
    "decide_breach": "Avgjør brudd",
    "complete": "Registrer at avtalen er fullført",
    "return_to_prosecution": "Send tilbake til påtalemyndigheten",
    "submit_evaluation": "Lever evaluering",
    "offer": "Tilby ruskontrakt",
    # the preventive track
    "register_concern": "Registrer bekymring",
    "offer_conversation": "Tilby bekymringssamtale",
    "hold_conversation": "Registrer holdt samtale",
    "decline_conversation": "Registrer at samtalen ble avslått",
    "offer_counselling": "Tilby oppfølging",
    "accept_counselling": "Registrer ja til oppfølging",
    "decline_counselling": "Registrer nei til oppfølging",
    "report_to_child_welfare": "Send bekymringsmelding til barnevernet",
    "close": "Avslutt saken",
}

EVENT = {
    "ContractOffered": "Ruskontrakt tilbudt",
    "CaseDisclosed": "Opplysninger delt",
    "ConsentGiven": "Samtykke gitt",
    "ConsentWithdrawn": "Samtykke trukket tilbake",
    "GuardianAdded": "Foresatt lagt til",
    "OfferDeclined": "Tilbudet avslått",
    "OfferLapsed": "Svarfristen gikk ut",
    "StartupMeetingScheduled": "Oppstartsmøte berammet",
    "StartupMeetingHeld": "Oppstartsmøte holdt",
    "PlanAgreed": "Plan avtalt",
    "PlanAmended": "Plan endret",
    "StageChanged": "Trinn endret",
    "TestScheduled": "Test planlagt",
    "RapidTestRecorded": "Hurtigtest registrert",
    "LabResultRecorded": "Laboratoriesvar registrert",
    "MeetingHeld": "Samtale eller møte holdt",
    "NoShowRecorded": "Uteblivelse registrert",
    "BreachRegistered": "Brudd registrert",
    "BreachDecided": "Brudd avgjort",
    "ContractCompleted": "Avtalen fullført",
    "ContractTerminated": "Avtalen avbrutt",
    "ReturnedToProsecution": "Sendt tilbake til påtalemyndigheten",
    "EvaluationSubmitted": "Evaluering levert",
    "GpRegistered": "Fastlege registrert",
    "SchoolRegistered": "Skole registrert",
    "ResidenceChanged": "Flytting registrert",
    "TeamMemberAdded": "Lagt til i teamet",
    "TeamMemberRemoved": "Fjernet fra teamet",
    "DeadlineMissed": "Frist oversittet",
    "CaseEscalated": "Saken løftet til leder",
    "ConcernRegistered": "Bekymring registrert",
    "ConversationOffered": "Bekymringssamtale tilbudt",
    "ConversationHeld": "Bekymringssamtale holdt",
    "ConversationDeclined": "Bekymringssamtale avslått",
    "CounsellingOffered": "Oppfølging tilbudt",
    "CounsellingAccepted": "Ja til oppfølging",
    "CounsellingDeclined": "Nei til oppfølging",
    "ConcernReportedToChildWelfare": "Bekymringsmelding sendt til barnevernet",
    "PreventionCaseClosed": "Forebyggende sak avsluttet",
}

TEST_KIND = {"rapid": "hurtigtest", "lab": "laboratorietest"}
TEST_PURPOSE = {"follow_up": "oppfølging", "sanction": "ved mistanke om brudd"}
MEETING_KIND = {
    "conversation": "oppfølgingssamtale",
    "team": "teammøte",
    "motivational_interview": "motiverende samtale",
    "cessation_programme": "slutteprogram",
}
BREACH_KIND = {
    "positive_test": "positiv test",
    "no_show": "uteblivelse",
    "new_offence": "nytt lovbrudd",
    "other": "annet brudd",
}
BREACH_RESPONSE = {
    "conversation": "bruddsamtale",
    "warning": "advarsel",
    "tightened_conditions": "strengere vilkår",
    "new_plan": "ny plan",
    "dismissed": "henlagt (bruddet ble ikke bekreftet)",
    "terminate": "avbryte avtalen",
}
LEGAL_BASIS = {
    "strpl_71a": "overføring til konfliktrådet (straffeprosessloven § 71 a)",
    "strpl_69": "påtaleunnlatelse med vilkår (straffeprosessloven § 69)",
    "youth_follow_up": "ungdomsoppfølging i konfliktrådet",
}
CONCERN_SOURCE = {
    "police": "politiet",
    "school": "skolen",
    "parents": "foreldre",
    "child_welfare": "barnevernet",
    "health": "helsetjenesten",
    "charged_buyer": "siktet for kjøp",
    "other": "annen kilde",
}
BASIS = {"role": "rollen i saken", "disclosure": "utlevering", "consent": "samtykke"}
TERMINATION = {
    "repeated_breaches": "gjentatte brudd",
    "new_offence": "nytt lovbrudd",
    "plan_not_established": "planen kom ikke i stand",
    "consent_withdrawn": "samtykket ble trukket tilbake",
    "moved_away": "flyttet",
}

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


def word(table: dict[str, str], code: Any) -> str:
    """The word for `code`, or the code itself when there is none."""
    if code is None:
        return "–"
    return table.get(str(code), str(code))


def when(value: Any) -> str:
    """An instant in Oslo's local time, e.g. `10. september 2026 kl. 10.00`."""
    moment = _instant(value)
    if moment is None:
        return "–" if value in (None, "") else str(value)
    local = moment.astimezone(OSLO)
    return f"{local.day}. {MONTHS[local.month - 1]} {local.year} kl. {local:%H.%M}"


def day(value: Any) -> str:
    """A calendar day, e.g. `1. oktober 2026`."""
    if isinstance(value, datetime):
        value = value.astimezone(OSLO).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10]) if len(value) <= 10 else _instant(value)
        except ValueError:
            return value
        if isinstance(value, datetime):
            value = value.astimezone(OSLO).date()
    if not isinstance(value, date):
        return "–" if value is None else str(value)
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def short_when(value: Any) -> str:
    """An instant as `10.09.2026 10.00` in Oslo time (tables)."""
    moment = _instant(value)
    if moment is None:
        return "–" if value in (None, "") else str(value)
    return f"{moment.astimezone(OSLO):%d.%m.%Y %H.%M}"


def iso_local(value: Any) -> str:
    """An instant in Oslo time as an `<input type=datetime-local>` value."""
    moment = _instant(value)
    return f"{moment.astimezone(OSLO):%Y-%m-%dT%H:%M}" if moment else ""


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=OSLO)
    return None


def moved(reason: Any) -> str:
    """Why a deadline moved, e.g. `2026-10-10 lørdag` -> `10. oktober 2026 er lørdag`."""
    text = str(reason)
    head, _, rest = text.partition(" ")
    try:
        return f"{day(date.fromisoformat(head))} er {rest}" if rest else day(date.fromisoformat(head))
    except ValueError:
        return text
