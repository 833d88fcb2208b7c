"""The sealing mapper's cached chain heads: a reader decoding a case's older events (the
projector, an auditor) must not move the head back under a writer that is sealing the
case's next events (`services/sealing.py`)."""

from __future__ import annotations

from uuid import UUID

from domain.values import Actor, Agency, MeetingKind
from infra.bootstrap import Container
from tests.conftest import Api
from tests.integration.flows import activate, offer

COORDINATOR = Actor("k-1", Agency.KONFLIKTRAD)


def test_a_reader_of_old_events_does_not_move_the_chain_head_back_under_a_writer(api: Api) -> None:
    c: Container = api.container
    case_id = UUID(offer(api))
    activate(api, case_id=str(case_id))
    contract = c.contracts.load(case_id)
    for _ in range(3):
        contract.hold_meeting(
            MeetingKind.CONVERSATION, c.clock(), True, "note", COORDINATOR, c.clock(), c.rules
        )
    first, second, third = contract.collect_events()
    mapper, oldest = c.contracts.mapper, c.contracts.stored_events(case_id)[0]

    sealed = [mapper.to_stored_event(first)]
    mapper.to_domain_event(oldest)  # what the projector does meanwhile, in another thread
    sealed += [mapper.to_stored_event(second), mapper.to_stored_event(third)]
    c.contracts.recorder.insert_events(sealed)

    versions = [s.originator_version for s in c.contracts.stored_events(case_id)]
    assert versions == list(range(1, contract.version + 1))
    assert c.contracts.load(case_id).version == contract.version
