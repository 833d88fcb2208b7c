"""`RUSKONTRAKT_EVALUATION_FORMS`: another forms file replaces the shipped forms, answers are
checked against it, the statistics describe it; a bad file stops start-up with one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.api.app import create_app
from infra.bootstrap import build
from infra.forms_file import FormsFileError, load_forms
from infra.settings import ConfigurationError
from tests.conftest import Api, Clock, settings_for_tests
from tests.integration.flows import activate, offer, ok

FORM: dict[str, Any] = {
    "version": "2027-1",
    "title": "Evaluering, prøveskjema",
    "roles": ["youth"],
    "questions": [
        {"id": "fair", "text": "Ble du behandlet rettferdig?", "type": "yes_no", "roles": ["youth"]},
        {"id": "note", "text": "Kommentar", "type": "text", "max_length": 50, "roles": ["youth"]},
    ],
}


def _file(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "forms.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def forms_api(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    settings = settings_for_tests(
        f"sqlite:///{tmp_path}/ruskontrakt.sqlite",
        tmp_path,
        evaluation_forms=_file(tmp_path, {"forms": [FORM]}),
    )
    container = build(settings, clock=clock)
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def test_answers_are_checked_against_the_configured_forms(forms_api: Api) -> None:
    api = forms_api
    case_id = offer(api)
    activate(api, case_id)
    answers = {"respondent_role": "youth", "form_version": "2027-1", "answers": {"fair": True}}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/evaluations", answers))
    wrong = api.post("konfliktrad", f"/contracts/{case_id}/evaluations", {**answers, "answers": {"fair": 3}})
    assert wrong.status_code == 422 and "fair" in wrong.text
    shipped = api.post(
        "konfliktrad",
        f"/contracts/{case_id}/evaluations",
        {"respondent_role": "youth", "form_version": "2026-1", "answers": {"helpful": 4}},
    )
    assert shipped.status_code == 422 and "2026-1" in shipped.text, "the file replaces the shipped forms"
    described: list[dict[str, Any]] = ok(api.get("auditor", "/statistics/evaluation-forms"))  # type: ignore[assignment]
    assert [f["version"] for f in described] == ["2027-1"]
    table = ok(api.get("auditor", "/statistics/evaluations?form_version=2027-1&group_by=county&period=2026"))
    measures = {m["name"] for m in table["measures"]}
    assert "youth.fair.yes_share" in measures and not any("note" in m for m in measures)


def test_a_missing_or_invalid_forms_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(FormsFileError, match="RUSKONTRAKT_EVALUATION_FORMS: no evaluation forms file"):
        load_forms(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FormsFileError, match=r"broken\.json: not an evaluation form document"):
        load_forms(tmp_path / "broken.json")
    bad = {"forms": [{**FORM, "questions": [{**FORM["questions"][1], "max_length": 0}]}]}
    with pytest.raises(FormsFileError, match="note of form 2027-1: free text needs a max_length"):
        load_forms(_file(tmp_path, bad))
    with pytest.raises(FormsFileError, match="holds no form"):
        load_forms(_file(tmp_path, {"forms": []}))
    assert issubclass(FormsFileError, ConfigurationError), "the CLI prints it as one line, exit code 2"
    settings = settings_for_tests(
        f"sqlite:///{tmp_path}/x.sqlite", tmp_path, evaluation_forms=tmp_path / "absent.json"
    )
    with pytest.raises(FormsFileError):
        build(settings)
