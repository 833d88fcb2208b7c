"""`ConsentRegister.required_signatories` compares against the instant the youth turns 18
instead of computing the Norwegian calendar day of every instant: the answer must be the
same as the definition by age on the local day, around every birthday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import local_day
from domain.consent import ADULT_AGE, YOUTH, ConsentRegister
from domain.values import Person

BIRTHS = st.dates(min_value=date(1990, 1, 1), max_value=date(2020, 12, 31))


def _by_age(register: ConsentRegister, at: datetime) -> list[str]:
    youth = Person("youth", "", register.birth_date)
    return [YOUTH] if youth.age_on(local_day(at)) >= ADULT_AGE else register.signatories()


@given(
    birth=BIRTHS,
    minutes=st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60),
    guardians=st.integers(min_value=0, max_value=2),
)
def test_the_guardians_stop_being_required_exactly_when_the_youth_turns_18_in_norway(
    birth: date, minutes: int, guardians: int
) -> None:
    register = ConsentRegister(birth, guardians)
    eighteenth = (
        date(birth.year + ADULT_AGE, 3, 1)
        if (birth.month, birth.day) == (2, 29)
        else (birth.replace(year=birth.year + ADULT_AGE))
    )
    at = datetime.combine(eighteenth, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=minutes)
    assert register.required_signatories(at) == _by_age(register, at)


def test_one_born_on_29_february_comes_of_age_on_1_march_in_a_common_year() -> None:
    register = ConsentRegister(date(2008, 2, 29), 1)
    assert register.required_signatories(datetime(2026, 2, 28, 22, 59, tzinfo=UTC)) == [YOUTH, "guardian:0"]
    assert register.required_signatories(datetime(2026, 2, 28, 23, 0, tzinfo=UTC)) == [YOUTH]  # 00:00 Oslo
