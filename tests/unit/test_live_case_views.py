"""A live case's views (services/live_cases.py) are brought up to date when a unit asks.

A command advances the records of its case; a unit's projection catches up on what
happened since it last asked only when it asks again, so a command pays for the caller's
view and not for those of every unit that once looked at the case (issue 20). Whatever
the order of commands and questions, each view equals a fresh fold of the records.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.policy import Track
from domain.rules import DEFAULT_RULES
from projections.read_model import CaseProjection
from services.live_cases import LiveCase
from tests.unit.test_redaction_property import VIEWERS, Case, contract_cases


class _Aggregate:
    id = "case-1"
    version = 0


def _fresh(case: Case, upto: int, viewer: object) -> object:
    alone = CaseProjection(Track.CONTRACT, "case-1", DEFAULT_RULES, (viewer,))  # type: ignore[arg-type]
    for record in case.records[:upto]:
        alone.apply(record)
    return alone.present(viewer)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(contract_cases(), st.data())
def test_every_unit_s_view_equals_a_fresh_fold_whenever_it_asks(case: Case, data: st.DataObject) -> None:
    live = LiveCase(_Aggregate(), Track.CONTRACT, DEFAULT_RULES, fresh=True)
    done = 0
    while done < len(case.records):
        step = data.draw(st.integers(1, 3))
        live.advance(case.records[done : done + step])
        done = min(len(case.records), done + step)
        for viewer in data.draw(st.lists(st.sampled_from(VIEWERS), max_size=3)):
            assert live.view(viewer) == _fresh(case, done, viewer), (viewer, done)
            seen = live.seen_version(viewer)
            fold = live.projections[viewer].folds.get(viewer)
            assert seen == (int(fold.get("version", done)) if fold else None)


@given(contract_cases())
def test_a_command_advances_no_view_but_the_one_asked_for(case: Case) -> None:
    live = LiveCase(_Aggregate(), Track.CONTRACT, DEFAULT_RULES, fresh=True)
    first, other = VIEWERS[1], VIEWERS[2]
    live.advance(case.records[:1])
    live.view(first), live.view(other)
    live.advance(case.records[1:])
    live.view(first)
    assert live.projections[first].version == len(case.records)
    assert live.projections[other].version == 1  # not asked since: nothing folded for it
    assert live.view(other) == _fresh(case, len(case.records), other)
