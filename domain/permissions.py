"""Which agency may give which command (the "who" column of api.md), as data."""

from __future__ import annotations

from domain.values import Agency

P, POL, K, H, GP, CW = (
    Agency.PROSECUTION,
    Agency.POLICE,
    Agency.KONFLIKTRAD,
    Agency.MUNICIPAL_HEALTH,
    Agency.GP,
    Agency.CHILD_WELFARE,
)

CONTRACT_COMMANDS: dict[str, frozenset[Agency]] = {
    "offer": frozenset({P}),
    "give_consent": frozenset({P, K}),
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
}

# The preventive track belongs to the police; the agencies it is disclosed to may record
# their part. The prosecution never appears here (domain.md §6).
PREVENTION_COMMANDS: dict[str, frozenset[Agency]] = {
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


def may(agency: Agency, action: str, table: dict[str, frozenset[Agency]] = CONTRACT_COMMANDS) -> bool:
    return agency in table.get(action, frozenset())
