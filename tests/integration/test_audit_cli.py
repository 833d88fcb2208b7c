"""The auditor's command line: verify --all, checkpoint, replay, export, retention."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.bootstrap import build
from infra.cli import app
from infra.settings import Settings
from tests.conftest import Api, Clock
from tests.integration.flows import OFFER, activate, fnr, offer
from tests.integration.stored_rows import delete_version

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/rk.sqlite",
        "JWT_SECRET": "x" * 40,
        "KEY_PEPPER": "cli-pepper",
        "CHECKPOINT_FILE": str(tmp_path / "cp.jsonl"),
        "CHECKPOINT_KEY_FILE": str(tmp_path / "cp.pem"),
        "LOG_LEVEL": "WARNING",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"RUSKONTRAKT_{key}", value)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables at full width
    return tmp_path


def _api_on_cli_database(clock: Clock) -> Api:
    from fastapi.testclient import TestClient

    from infra.api.app import create_app

    container = build(Settings(), clock=clock)
    return Api(TestClient(create_app(container)), container, clock)


def test_verify_all_passes_then_names_the_altered_case_after_tampering(cli_env: Path) -> None:
    api = _api_on_cli_database(Clock(datetime(2026, 9, 10, 8, tzinfo=UTC)))
    case_id = offer(api)
    activate(api, case_id)
    result = runner.invoke(app, ["verify", "--all"])
    assert result.exit_code == 0, result.output
    assert "1 intact, 0 altered" in result.output
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0
    delete_version(api.container, case_id, 6)
    result = runner.invoke(app, ["verify", case_id])
    assert result.exit_code == 1 and "version 6" in result.output


def test_replay_and_export_print_the_case(cli_env: Path) -> None:
    api = _api_on_cli_database(Clock(datetime(2026, 9, 10, 8, tzinfo=UTC)))
    case_id = offer(api)
    replay = runner.invoke(app, ["replay", case_id, "--version", "1"])
    assert replay.exit_code == 0 and "ContractOffered" in replay.output
    html = cli_env / "innsyn.html"
    export = runner.invoke(app, ["export", OFFER["youth"]["national_id"], "--html", str(html)])  # type: ignore[index]
    assert export.exit_code == 0
    assert json.loads(export.output)["contracts"][0]["id"] == case_id
    assert "Innsyn" in html.read_text()


def test_the_clis_replay_and_export_are_logged_like_the_apis_reads(cli_env: Path) -> None:
    api = _api_on_cli_database(Clock(datetime(2026, 9, 10, 8, tzinfo=UTC)))
    case_id = offer(api)
    national_id = str(OFFER["youth"]["national_id"])  # type: ignore[index]
    assert runner.invoke(app, ["replay", case_id, "--operator", "auditor-7"]).exit_code == 0
    assert runner.invoke(app, ["export", national_id]).exit_code == 0

    logged = [e for e in api.container.access_log.query(agency="auditor")]
    subject = api.container.keys.subject_ref(national_id)
    replay = [e for e in logged if e["action"] == "history"]
    assert [(e["sub"], e["case_id"], e["subject_ref"]) for e in replay] == [("auditor-7", case_id, subject)]
    assert replay[0]["basis"] == {"all": "role:auditor"}
    export = [e for e in logged if e["action"] == "subject_export"]
    assert len(export) == 1 and export[0]["sub"].startswith("cli:") and export[0]["subject_ref"] == subject


def test_retention_erases_only_persons_whose_cases_have_all_expired(cli_env: Path) -> None:
    old = _api_on_cli_database(Clock(datetime(2020, 1, 10, 8, tzinfo=UTC)))
    old_case = offer(
        old,
        youth={**OFFER["youth"], "birth_date": "2003-06-01"},  # type: ignore[dict-item]
        offence={**OFFER["offence"], "date": "2020-01-01"},
    )  # type: ignore[dict-item]
    recent = _api_on_cli_database(Clock(datetime.now(UTC)))
    young = {
        **OFFER["youth"],
        "national_id": fnr(date(datetime.now(UTC).year - 16, 1, 1)),  # type: ignore[dict-item]
        "birth_date": f"{datetime.now(UTC).year - 16}-01-01",
    }
    recent_case = offer(recent, youth=young, offer_deadline=None)
    dry = runner.invoke(app, ["retention", "--dry-run"])
    assert dry.exit_code == 0 and old_case in dry.output and recent_case not in dry.output
    assert "1 person(s) would be erased" in dry.output
    assert runner.invoke(app, ["retention"]).exit_code == 0
    fresh = build(Settings())
    assert fresh.keys.key_for_case(old_case) is None
    assert fresh.keys.key_for_case(recent_case) is not None


def test_an_unknown_case_or_a_time_without_zone_is_one_line_and_exit_code_2(cli_env: Path) -> None:
    api = _api_on_cli_database(Clock(datetime(2026, 9, 10, 8, tzinfo=UTC)))
    case_id = offer(api)
    unknown = runner.invoke(app, ["replay", "00000000-0000-4000-8000-000000000000"])
    assert unknown.exit_code == 2 and "no such case" in unknown.output
    assert "Traceback" not in unknown.output and len(unknown.output.strip().splitlines()) == 1
    naive = runner.invoke(app, ["replay", case_id, "--as-of", "2026-09-10T10:00:00"])
    assert naive.exit_code == 2 and "time zone" in naive.output
    aware = runner.invoke(app, ["replay", case_id, "--as-of", "2026-09-10T10:00:00+02:00"])
    assert aware.exit_code == 0 and "ContractOffered" in aware.output


@pytest.mark.parametrize("national_id", ["123", "01120950131", "٠١١٢٠٩٥٠١٣٠", "0112095013O"])
def test_export_or_erase_of_something_that_is_not_a_national_id_is_one_line_and_exit_code_2(
    cli_env: Path, national_id: str
) -> None:
    """Not 11 ASCII digits with valid check digits (issue 14, finding 9; failed before:
    `export 123` printed an empty export and exit 0, and was logged as a subject's read)."""
    for args in (["export", national_id], ["erase", national_id, "--yes"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "not a national id" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert national_id not in result.output, "not echoed: it may be a near-miss of a real id"
    assert not (cli_env / "rk.sqlite").exists(), "refused before anything was opened"
