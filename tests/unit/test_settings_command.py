"""`ruskontrakt settings` shows the configuration in effect, not the defaults as if they were
it (issue 14, finding 9; failed before: it printed every default, whatever was set): each
variable's value here, where it comes from, and no secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.settings import MASK, Settings, mask_url

runner = CliRunner()
SECRET = "a-jwt-secret-that-is-long-enough-for-hs256-0123456789"
DB_PASSWORD = "pg-password-not-to-be-shown"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"RUSKONTRAKT_{name.upper()}", raising=False)


def _lines(output: str) -> dict[str, str]:
    """variable -> its line (`NAME=value  (source)`), the description lines dropped."""
    return {line.split("=")[0]: line for line in output.splitlines() if line.startswith("RUSKONTRAKT_")}


def test_settings_shows_each_value_in_effect_and_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSKONTRAKT_PORT", "8123")
    monkeypatch.setenv("RUSKONTRAKT_JWT_SECRET", SECRET)
    monkeypatch.setenv("RUSKONTRAKT_KAFKA_PASSWORD", "kafka-password-not-to-be-shown")
    monkeypatch.setenv("RUSKONTRAKT_DATABASE_URL", f"postgresql://rk:{DB_PASSWORD}@db.example:5432/rk")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert set(lines) == {f"RUSKONTRAKT_{name.upper()}" for name in Settings.model_fields}
    assert lines["RUSKONTRAKT_PORT"] == "RUSKONTRAKT_PORT=8123  (environment)"
    assert lines["RUSKONTRAKT_HOST"] == "RUSKONTRAKT_HOST=127.0.0.1  (default)"
    assert lines["RUSKONTRAKT_JWT_SECRET"] == f"RUSKONTRAKT_JWT_SECRET={MASK}  (environment)"
    assert lines["RUSKONTRAKT_KAFKA_PASSWORD"] == f"RUSKONTRAKT_KAFKA_PASSWORD={MASK}  (environment)"
    assert lines["RUSKONTRAKT_DATABASE_URL"] == (
        f"RUSKONTRAKT_DATABASE_URL=postgresql://rk:{MASK}@db.example:5432/rk  (environment)"
    )
    for secret in (SECRET, DB_PASSWORD, "kafka-password-not-to-be-shown", "ruskontrakt-secret"):
        assert secret not in result.output
    # Not in development (PostgreSQL): an unset pepper stops start-up, and says so.
    assert lines["RUSKONTRAKT_KEY_PEPPER"] == "RUSKONTRAKT_KEY_PEPPER=(unset: start-up stops)  (default)"


def test_an_unset_secret_in_development_says_the_development_value_stands_in() -> None:
    lines = _lines(runner.invoke(app, ["settings"]).output)
    assert "built-in development value" in lines["RUSKONTRAKT_JWT_SECRET"]
    assert lines["RUSKONTRAKT_KAFKA_PASSWORD"] == f"RUSKONTRAKT_KAFKA_PASSWORD={MASK}  (default)"


def test_an_invalid_value_is_one_line_naming_the_variable_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUSKONTRAKT_PORT", "eighty")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("ruskontrakt: RUSKONTRAKT_PORT:"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_the_markdown_table_for_the_readme_lists_the_defaults_whatever_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUSKONTRAKT_PORT", "8123")
    table = runner.invoke(app, ["settings", "--markdown"]).output
    assert "| `RUSKONTRAKT_PORT` | `8000` |" in table


def test_a_url_password_is_masked_and_a_url_without_one_is_kept() -> None:
    assert mask_url("postgresql://u:p@h:1/d") == f"postgresql://u:{MASK}@h:1/d"
    assert mask_url("sqlite:///var/ruskontrakt.sqlite") == "sqlite:///var/ruskontrakt.sqlite"
    assert mask_url("postgresql://u@h/d") == "postgresql://u@h/d"
