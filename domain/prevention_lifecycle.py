"""The preventive track's lifecycle as a strict state machine (docs/domain.md §6).

A concern is registered; the police offer a concern conversation, which is held or
declined; counselling may then be offered, and is accepted or declined; the case is
closed, and closed is final. Each offer is answered once, and an answer needs its offer
first. A report to child welfare may be made at any point while the case is open (each
report is a fact of its own). The machine is the single statement of this order: the
aggregate asks it before recording a step, and `allowed_actions` is read from it.

Replay never runs the machine's engine: an event's status is read from the definition
(`status_after`). Events recorded before the lifecycle was strict may be out of order
(counselling accepted twice, say); they still replay, to where their step leads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from statemachine import State, StateMachine


class PreventionLifecycle(StateMachine):
    registered = State("Registered", initial=True, value="registered")
    conversation_offered = State("Conversation offered", value="conversation_offered")
    conversation_held = State("Conversation held", value="conversation_held")
    conversation_declined = State("Conversation declined", value="conversation_declined")
    counselling_offered = State("Counselling offered", value="counselling_offered")
    counselling_accepted = State("Counselling accepted", value="counselling_accepted")
    counselling_declined = State("Counselling declined", value="counselling_declined")
    closed = State("Closed", final=True, value="closed")

    offer_conversation = registered.to(conversation_offered)
    hold_conversation = conversation_offered.to(conversation_held)
    decline_conversation = conversation_offered.to(conversation_declined)
    offer_counselling = conversation_held.to(counselling_offered) | conversation_declined.to(
        counselling_offered
    )
    accept_counselling = counselling_offered.to(counselling_accepted)
    decline_counselling = counselling_offered.to(counselling_declined)
    # (`s.to(s, internal=True)`: `s.to.itself` is not annotated, and mypy is strict here.)
    report_to_child_welfare = (
        registered.to(registered, internal=True)
        | conversation_offered.to(conversation_offered, internal=True)
        | conversation_held.to(conversation_held, internal=True)
        | conversation_declined.to(conversation_declined, internal=True)
        | counselling_offered.to(counselling_offered, internal=True)
        | counselling_accepted.to(counselling_accepted, internal=True)
        | counselling_declined.to(counselling_declined, internal=True)
    )
    close = (
        registered.to(closed)
        | conversation_offered.to(closed)
        | conversation_held.to(closed)
        | conversation_declined.to(closed)
        | counselling_offered.to(closed)
        | counselling_accepted.to(closed)
        | counselling_declined.to(closed)
    )


INITIAL = "registered"
# The event each action records (domain/prevention.py), in the lifecycle's order, and back.
EVENT_OF: dict[str, str] = {
    "offer_conversation": "ConversationOffered",
    "hold_conversation": "ConversationHeld",
    "decline_conversation": "ConversationDeclined",
    "offer_counselling": "CounsellingOffered",
    "accept_counselling": "CounsellingAccepted",
    "decline_counselling": "CounsellingDeclined",
    "report_to_child_welfare": "ConcernReportedToChildWelfare",
    "close": "PreventionCaseClosed",
}
ACTION_OF: dict[str, str] = {event: action for action, event in EVENT_OF.items()}
ACTIONS: tuple[str, ...] = tuple(EVENT_OF)  # every event of the machine (a test checks)


@cache
def _targets() -> dict[tuple[str, str], str]:
    """(status, action) -> the status it leads to, from the machine's definition."""
    return {
        (state.value, str(t.event)): t.target.value
        for state in PreventionLifecycle.states
        for t in state.transitions
    }


@cache
def allowed_actions(status: str) -> tuple[str, ...]:
    """What the lifecycle allows next from `status`, in the order the machine declares."""
    return tuple(action for action in ACTIONS if (status, action) in _targets())


def status_after(status: str, event_type: str) -> str:
    """The status an event leaves a case in (replay: no engine, no refusal).

    An event the lifecycle does not allow from `status` can only be one stored before it
    was strict: it leads where its step leads from any status (a report changes nothing).
    """
    action = ACTION_OF.get(event_type)
    if action is None:
        return status
    target = _targets().get((status, action))
    if target is not None:
        return target
    anywhere = {t for (source, a), t in _targets().items() if a == action and t != source}
    return anywhere.pop() if len(anywhere) == 1 else status


# The lifecycle's order of steps, for a case known only by the set of its event types.
_ORDER = [EVENT_OF[a] for a in ACTIONS if a not in ("report_to_child_welfare", "close")] + [
    "PreventionCaseClosed"
]


def status_of(event_types: Iterable[str]) -> str:
    """The status of a case whose events are known only as a set (read models stored
    before the status was kept): its steps taken in the lifecycle's order."""
    seen = set(event_types)
    status = INITIAL
    for event_type in _ORDER:
        if event_type in seen:
            status = status_after(status, event_type)
    return status
