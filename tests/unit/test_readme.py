"""The README documents every setting, and the committed lifecycle diagram is current."""

from __future__ import annotations

from pathlib import Path

from infra.diagram import lifecycle_dot
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings:begin -->")[1].split("<!-- settings:end -->")[0]
    for name, field in Settings.model_fields.items():
        assert f"`RUSKONTRAKT_{name.upper()}`" in table, name
        assert field.description, f"{name} has no description"


def test_the_readme_starts_with_exactly_two_set_up_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Set-up: two commands")[1].split("```sh")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make serve", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_committed_lifecycle_diagram_matches_the_state_machine() -> None:
    assert (ROOT / "docs" / "lifecycle.dot").read_text() == lifecycle_dot()
