"""`CaseRelations.viewers_at` remembers its last answer for the interval around the instant
asked in which no relation starts or ends: it must answer as a fresh look at every
relation would, asked at any instant in any order, and after every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.need_to_know import CaseRelations, Viewer
from domain.values import Agency

T0 = datetime(2026, 9, 1, tzinfo=UTC)
VIEWERS = [Viewer(Agency.SCHOOL, f"97400000{n}") for n in range(4)] + [Viewer(Agency.GP, "1234567")]


def _fresh(relations: CaseRelations, at: datetime) -> frozenset[Viewer]:
    return frozenset(r.viewer for r in relations.relations if r.start <= at and (r.end is None or at < r.end))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("start"), st.integers(0, 4), st.integers(0, 40)),
        st.tuples(st.just("end"), st.integers(0, 4), st.integers(0, 40)),
        st.tuples(st.just("ask"), st.integers(0, 4), st.integers(-5, 45)),
    ),
    max_size=40,
)


@given(steps)
def test_viewers_at_answers_as_a_fresh_look_would(script: list[tuple[str, int, int]]) -> None:
    relations = CaseRelations()
    for what, n, day in script:
        at = T0 + timedelta(days=day)
        if what == "start":
            relations._start(VIEWERS[n], f"basis{n}", at)
        elif what == "end":
            relations._end(lambda r, n=n: r.viewer == VIEWERS[n], at)
        assert relations.viewers_at(at) == _fresh(relations, at)
        for other in (at - timedelta(days=1), at + timedelta(seconds=1), T0, T0 + timedelta(days=50)):
            assert relations.viewers_at(other) == _fresh(relations, other)


def test_the_same_answer_is_the_same_object_until_a_relation_changes() -> None:
    relations = CaseRelations()
    relations._start(VIEWERS[0], "school", T0)
    first = relations.viewers_at(T0 + timedelta(days=1))
    assert relations.viewers_at(T0 + timedelta(days=9)) is first  # nothing changed in between
    relations._start(VIEWERS[1], "school", T0 + timedelta(days=10))
    assert relations.viewers_at(T0 + timedelta(days=11)) == {VIEWERS[0], VIEWERS[1]}
    assert relations.viewers_at(T0 + timedelta(days=5)) == {VIEWERS[0]}  # before the new one
