"""Every value the aggregates store comes back from the store as the same type."""

from __future__ import annotations

from datetime import date
from enum import Enum

import pytest
from eventsourcing.persistence import JSONTranscoder

from domain.values import Agency, BreachKind, Category, Plan, ScopeItem, TestKind, TestRegime
from services.transcoding import ENUMS, register_all


@pytest.fixture
def transcoder() -> JSONTranscoder:
    t = JSONTranscoder()
    register_all(t)
    return t


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda e: e.__name__)
def test_every_enum_member_round_trips_as_the_enum_not_a_string(
    transcoder: JSONTranscoder, enum_class: type[Enum]
) -> None:
    for member in enum_class:
        back = transcoder.decode(transcoder.encode({"v": member}))["v"]
        assert back is member


def test_value_objects_and_dates_round_trip_with_their_types(transcoder: JSONTranscoder) -> None:
    plan = Plan(
        2,
        date(2026, 10, 1),
        date(2027, 4, 1),
        TestRegime(TestKind.RAPID, 4),
        30,
        (Agency.KONFLIKTRAD, Agency.POLICE),
        ("no drugs",),
    )
    data = {
        "plan": plan,
        "scope": (ScopeItem(Agency.GP, Category.IDENTITY),),
        "kind": BreachKind.NO_SHOW,
    }
    back = transcoder.decode(transcoder.encode(data))
    assert back["plan"] == plan and isinstance(back["plan"].team[0], Agency)
    assert isinstance(back["plan"].start_date, date)
    assert back["scope"][0] == data["scope"][0] and back["kind"] is BreachKind.NO_SHOW


def test_every_enum_in_the_domain_values_has_a_transcoding() -> None:
    import domain.contract
    import domain.prevention
    import domain.values

    found = {
        obj
        for module in (domain.values, domain.contract, domain.prevention)
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Enum)
        and obj.__module__.startswith("domain")
        and len(obj)  # a base without members (IdentityHashed) is never stored
    }
    assert found <= set(ENUMS), found - set(ENUMS)
