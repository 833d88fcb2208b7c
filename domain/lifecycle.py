"""The contract lifecycle as a strict state machine (docs/domain.md §5).

This class is the single statement of which action may happen in which status. Guards
are named here and implemented by the model the machine is bound to (the contract's
`ContractGuards`), so each refusal raises an error that names its rule. Actions that
happen *inside* a status (a test, a meeting) are internal self-transitions: the machine
then also answers "what may I do next?" for the API's `allowed_actions`.

Completed, declined, lapsed and returned are final in the domain (no status change ever
leaves them) but are not declared `final=True`: python-statemachine forbids any
transition out of a final state, and an evaluation may still be submitted there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from queue import Empty, SimpleQueue
from typing import Protocol

from statemachine import State, StateMachine
from statemachine.transition_list import TransitionList


def _inside(*states: State) -> TransitionList:
    """An action that may happen inside each of `states`, changing none of them."""
    first, *rest = states
    transitions: TransitionList = first.to.itself(internal=True)
    for state in rest:
        transitions = transitions | state.to.itself(internal=True)
    return transitions


class ContractLifecycle(StateMachine):
    offered = State("Offered", initial=True, value="offered")
    consented = State("Consented", value="consented")
    startup_scheduled = State("Startup scheduled", value="startup_scheduled")
    active = State("Active", value="active")
    breach_review = State("Breach review", value="breach_review")
    completed = State("Completed", value="completed")
    terminated = State("Terminated", value="terminated")
    returned = State("Returned to prosecution", value="returned")
    declined = State("Declined", value="declined")
    lapsed = State("Lapsed", value="lapsed")

    # Validators run before a branch's `cond`, so a validator must ignore a branch not taken.
    # Consent: every ConsentGiven is recorded; the status moves on with the last signatory.
    # Sharing consents may also be given later, while the contract runs.
    give_consent = (
        offered.to(consented, cond="completes_contract_consent")
        | offered.to.itself(internal=True)
        | consented.to.itself(internal=True)
        | startup_scheduled.to.itself(internal=True)
        | active.to.itself(internal=True)
        | breach_review.to.itself(internal=True)
    )
    # A guardian may be registered while the contract has not ended; under 18, their
    # consent is then required too (in `offered`: before the contract is consented).
    add_guardian = _inside(offered, consented, startup_scheduled, active, breach_review)
    # Who the case relates to (docs/domain.md §9): while it has not ended. A move may end
    # the contract (`moved_away`) when the new place cannot carry it on.
    register_gp = _inside(offered, consented, startup_scheduled, active, breach_review)
    register_school = _inside(offered, consented, startup_scheduled, active, breach_review)
    add_team_member = _inside(offered, consented, startup_scheduled, active, breach_review)
    remove_team_member = _inside(offered, consented, startup_scheduled, active, breach_review)
    change_residence = (
        consented.to(terminated, cond="ends_with_move")
        | startup_scheduled.to(terminated, cond="ends_with_move")
        | active.to(terminated, cond="ends_with_move")
        | breach_review.to(terminated, cond="ends_with_move")
        | _inside(offered, consented, startup_scheduled, active, breach_review)
    )
    # What the scheduler records when a deadline is missed (docs/domain.md §11).
    record_missed_deadline = _inside(consented, startup_scheduled, active, breach_review, terminated)
    escalate = _inside(consented, startup_scheduled, active, breach_review, terminated)
    decline = offered.to(declined)
    lapse = offered.to(lapsed, validators="offer_deadline_passed")
    # A reschedule is a new schedule_startup (a meeting is never held before its time).
    schedule_startup = consented.to(startup_scheduled) | startup_scheduled.to.itself(internal=True)
    hold_startup = startup_scheduled.to(
        active, validators=["startup_is_due", "plan_is_complete", "deviation_is_explained"]
    )
    fail_startup = startup_scheduled.to(terminated)
    register_breach = active.to(breach_review, validators="breach_is_well_founded")
    decide_breach = breach_review.to(
        terminated,
        cond="terminates",
        validators=["factors_are_recorded", "termination_is_grounded"],
    ) | breach_review.to(
        active,
        validators=[
            "factors_are_recorded",
            "stage_allows_response",
            "dismissal_is_grounded",
            "response_fits_breach",
            "deviation_is_explained",
        ],
    )
    complete = active.to(completed, validators="end_date_reached")
    withdraw_consent = (
        consented.to(terminated, cond="withdraws_contract_consent")
        | startup_scheduled.to(terminated, cond="withdraws_contract_consent")
        | active.to(terminated, cond="withdraws_contract_consent")
        | breach_review.to(terminated, cond="withdraws_contract_consent")
        | offered.to.itself(internal=True)
        | consented.to.itself(internal=True)
        | startup_scheduled.to.itself(internal=True)
        | active.to.itself(internal=True)
        | breach_review.to.itself(internal=True)
    )
    return_to_prosecution = terminated.to(returned)

    # Inside a status: no status change.
    change_stage = active.to.itself(internal=True, validators="stage_change_is_valid")
    amend_plan = active.to.itself(internal=True, validators=["amendment_is_valid", "deviation_is_explained"])
    # The requisition itself is checked by the aggregate (`check_requisition`), so an
    # everyday test keeps the shortcut past the engine (`unguarded_outcome`).
    schedule_test = active.to.itself(internal=True) | breach_review.to.itself(internal=True)
    record_test_result = active.to.itself(
        internal=True, validators="test_result_is_valid"
    ) | breach_review.to.itself(internal=True, validators="test_result_is_valid")
    hold_meeting = active.to.itself(internal=True) | breach_review.to.itself(internal=True)
    record_no_show = active.to.itself(internal=True) | breach_review.to.itself(internal=True)
    submit_evaluation = (
        active.to.itself(internal=True)
        | breach_review.to.itself(internal=True)
        | completed.to.itself(internal=True)
        | terminated.to.itself(internal=True)
        | returned.to.itself(internal=True)
        | declined.to.itself(internal=True)
        | lapsed.to.itself(internal=True)
    )


ACTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(str(t.event) for state in ContractLifecycle.states for t in state.transitions)
)


@cache
def unguarded_outcome(status: str, action: str) -> str | None:
    """`status` again, when `action` is an action inside `status` that nothing can refuse.

    Such an action (a meeting, a test scheduled) has exactly one transition from the
    status: internal, to the status itself, naming no condition, validator or callback.
    The machine's answer is then known without running it, which spares the everyday
    commands python-statemachine's engine, a large share of their cost. None: the machine
    must judge (`Contract._judge`). `tests/unit/test_lifecycle_shortcut.py` checks the
    answer against the machine's own.
    """
    state = next(s for s in ContractLifecycle.states if s.value == status)
    matching = [t for t in state.transitions if t.match(action)]
    if len(matching) != 1 or not (matching[0].internal and matching[0].target is state):
        return None
    transition = matching[0]
    groups = (transition.cond, transition.validators, transition.before, transition.on, transition.after)
    if any(not spec.is_convention for group in groups for spec in group):
        return None
    return status


class Forgetful(Protocol):
    """A machine's model that can let go of the command it judged."""

    def forget(self) -> None: ...


class LifecyclePool:
    """Idle lifecycle machines, lent to one judgement at a time.

    Building a python-statemachine machine costs several times what judging with it does,
    so machines are reused. A machine stays bound to the model it was built with; the
    model is told each command and must forget it when the machine comes back, so no
    idle machine holds a youth's data. A machine is never lent twice at once, so threads
    never share one; the pool grows to the number of judgements running at the same time.
    """

    def __init__(self, new_model: Callable[[], Forgetful]) -> None:
        self._new_model = new_model
        self._idle: SimpleQueue[ContractLifecycle] = SimpleQueue()

    @contextmanager
    def judging(self, status: str) -> Iterator[ContractLifecycle]:
        """A machine in `status`, whose model the caller binds to its command."""
        try:
            machine = self._idle.get_nowait()
        except Empty:
            machine = ContractLifecycle(model=self._new_model(), start_value=status)
        else:
            machine.current_state_value = status
        try:
            yield machine
        finally:
            machine.model.forget()
            self._idle.put(machine)
