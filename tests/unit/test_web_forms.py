"""The evaluation form of the case page shows Norwegian words and submits form 2026-1's codes
(infra/web/forms.py): every role it offers, with a comment, is an evaluation the contract takes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

import pytest

from domain.evaluation_forms import DEFAULT_FORMS
from infra.bootstrap import Container
from infra.web.forms import CONTRACT_ACTIONS, FormData

ACTION = CONTRACT_ACTIONS["submit_evaluation"]
CONTAINER = cast(Container, SimpleNamespace(contracts=SimpleNamespace(submit_evaluation=lambda *a: None)))


def _fields() -> dict[str, Any]:
    return {f.name: f for f in ACTION.fields({}, CONTAINER)}


def test_the_roles_are_the_forms_codes_shown_in_norwegian() -> None:
    roles = _fields()["respondent_role"]
    assert roles.kind == "select"
    assert [code for code, _ in roles.options] == list(DEFAULT_FORMS.form("2026-1").roles)
    words = dict(roles.options)
    assert words["coordinator"] == "koordinator i konfliktrådet" and words["guardian"] == "foresatt"
    assert _fields()["form_version"].options == [("2026-1", "2026-1")]


@pytest.mark.parametrize("role", DEFAULT_FORMS.form("2026-1").roles)
def test_each_offered_role_with_a_comment_is_an_evaluation_form_2026_1_accepts(role: str) -> None:
    form = FormData([("respondent_role", role), ("form_version", "2026-1"), ("comment", "Godt samarbeid")])
    call = ACTION.call(CONTAINER, uuid4(), form)
    role_code, version, answers = call.arguments
    assert (role_code, version, answers) == (role, "2026-1", {"comment": "Godt samarbeid"})
    assert DEFAULT_FORMS.validate(version, role_code, answers) == answers  # refuses nothing


def test_an_empty_comment_is_left_out_rather_than_answered_blank() -> None:
    form = FormData([("respondent_role", "coordinator"), ("form_version", "2026-1"), ("comment", "  ")])
    assert ACTION.call(CONTAINER, uuid4(), form).arguments[2] == {}
