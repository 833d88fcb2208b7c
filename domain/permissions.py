"""Who may do what: every command and every query of both tracks, as data.

The "who" column of docs/api.md. The applications look every use case up here before
they touch a case (`services/sealed_application.py`), whichever edge asked; what a permitted agency
then sees of a case is the access policy's decision (`domain/policy.py`).
"""

from __future__ import annotations

from domain.values import Agency

P, POL, K, H, GP, CW, SCHOOL, COUNTY, AUDITOR = (
    Agency.PROSECUTION,
    Agency.POLICE,
    Agency.KONFLIKTRAD,
    Agency.MUNICIPAL_HEALTH,
    Agency.GP,
    Agency.CHILD_WELFARE,
    Agency.SCHOOL,
    Agency.COUNTY,
    Agency.AUDITOR,
)
EVERYONE = frozenset(Agency)

Table = dict[str, frozenset[Agency]]

CONTRACT_COMMANDS: Table = {
    "offer": frozenset({P}),
    "give_consent": frozenset({P, K}),
    "add_guardian": frozenset({P, K}),
    # Whom the case relates to (docs/domain.md §9): the Conflict Council's coordinator.
    "register_gp": frozenset({K}),
    "register_school": frozenset({K}),
    "change_residence": frozenset({K}),
    "add_team_member": frozenset({K}),
    "remove_team_member": frozenset({K}),
    "withdraw_consent": frozenset({P, K}),
    "decline": frozenset({P}),
    "lapse": frozenset({P, K}),
    "schedule_startup": frozenset({K}),
    "hold_startup": frozenset({K}),
    "fail_startup": frozenset({K}),
    "change_stage": frozenset({K}),
    "amend_plan": frozenset({K}),
    "schedule_test": frozenset({K, H, GP}),
    # The test's kind and purpose narrow this further (ContractGuards.test_result_is_valid).
    "record_test_result": frozenset({H, GP, P}),
    "hold_meeting": frozenset({K, H, POL, CW}),
    "record_no_show": frozenset({K, H}),
    "register_breach": frozenset({K, H, POL}),
    "decide_breach": frozenset({K}),
    "complete": frozenset({K}),
    "return_to_prosecution": frozenset({K}),
    "submit_evaluation": frozenset({K, H}),
    # The deadline scheduler records these on behalf of the Conflict Council office of the
    # case (docs/domain.md §11; services/scheduler.py).
    "record_missed_deadline": frozenset({K}),
    "escalate": frozenset({K}),
}

# The county sees aggregated statistics only, never a case.
CONTRACT_QUERIES: Table = {
    "worklist": EVERYONE - {COUNTY},
    "case_view": EVERYONE - {COUNTY},
    "history": frozenset({AUDITOR}),
    "agency_view": frozenset({AUDITOR}),
    "verify": frozenset({AUDITOR}),
    # Explicit access (docs/domain.md §9): any agency with case views may ask; the auditor reviews.
    "access_request": EVERYONE - {COUNTY, AUDITOR},
    "access_requests": frozenset({AUDITOR}),
}

# The preventive track belongs to the police; the agencies it is disclosed to may record
# their part. The prosecution never appears here (docs/domain.md §6).
PREVENTION_COMMANDS: Table = {
    "register_concern": frozenset({POL}),
    "offer_conversation": frozenset({POL}),
    "hold_conversation": frozenset({POL}),
    "decline_conversation": frozenset({POL}),
    "offer_counselling": frozenset({POL}),
    "accept_counselling": frozenset({POL, H}),
    "decline_counselling": frozenset({POL, H}),
    "report_to_child_welfare": frozenset({POL}),
    "close": frozenset({POL}),
}

PREVENTION_QUERIES: Table = {
    "worklist": EVERYONE - {P},
    "case_view": EVERYONE - {P},
}

# Equal-practice statistics (docs/domain.md §10, docs/api.md "Statistics"): aggregated
# counts only, never a case; the county sees its own municipalities (services/statistics.py).
STATISTICS_QUERIES: Table = {
    "equal_practice": frozenset({COUNTY, AUDITOR, K}),
    "prevention_funnel": frozenset({COUNTY, AUDITOR, K}),
    "evaluations": frozenset({COUNTY, AUDITOR, K}),
}

# The intake register: every U18 drug case the prosecutor decides (docs/domain.md §10).
INTAKE_COMMANDS: Table = {
    "record_intake": frozenset({P}),
}

# About a person rather than a case: the right of access, erasure, the access log.
SUBJECT_QUERIES: Table = {
    "subject_export": frozenset({AUDITOR, K}),
    "erase": frozenset({AUDITOR}),
    "access_log": frozenset({AUDITOR}),
    "retention": frozenset({AUDITOR}),
    "checkpoint": frozenset({AUDITOR}),
}


def may(agency: Agency, action: str, table: Table = CONTRACT_COMMANDS) -> bool:
    return agency in table.get(action, frozenset())


def on_the_track(agency: Agency, *tables: Table) -> bool:
    """Whether any command or query of these tables is the agency's at all."""
    return any(agency in allowed for table in tables for allowed in table.values())


def who_may(action: str, table: Table) -> list[Agency]:
    """The agencies that may, in a stable order (for the refusal's message)."""
    return [a for a in Agency if a in table.get(action, frozenset())]
