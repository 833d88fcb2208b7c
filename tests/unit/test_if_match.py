"""`If-Match` carries the case version the command expects; anything else is 422, never a crash."""

from __future__ import annotations

import pytest

from infra.api.commands import parse_if_match
from infra.api.problems import ProblemError


def test_if_match_reads_the_version_with_or_without_quotes_and_weak_prefix() -> None:
    assert [parse_if_match(v) for v in ('"3"', "3", 'W/"12"', None)] == [3, 3, 12, None]


@pytest.mark.parametrize("value", ["²", "٣", '"3a"', "*", "", "-1", "3.0"])
def test_if_match_that_is_not_ascii_digits_is_refused_as_invalid_input(value: str) -> None:
    with pytest.raises(ProblemError) as refusal:
        parse_if_match(value)
    assert refusal.value.status == 422
