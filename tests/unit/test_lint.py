"""The tree's own checks, part of the suite: ruff (check and format) over the whole tree,
mypy --strict over domain/, and requirements.lock pinning everything pyproject.toml asks for."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_format_would_change_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict_finds_nothing_in_the_domain() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "domain"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_lock_pins_every_requirement_of_pyproject() -> None:
    """Runtime, dev and build requirements; a dependency added to pyproject.toml without
    `make lock` would otherwise be missing from every lock-based install."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lock = (ROOT / "requirements.lock").read_text()
    # "name==version ; marker \" (universal lock): only the entries that apply here count
    locked = {
        canonicalize_name(name): version
        for name, version, marker in re.findall(
            r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?: ; ([^\\\n]+?))?\s*\\?$", lock, re.MULTILINE
        )
        if not marker or Marker(marker).evaluate()
    }
    wanted = [
        *pyproject["project"]["dependencies"],
        *pyproject["project"]["optional-dependencies"]["dev"],
        *pyproject["build-system"]["requires"],
    ]
    behind = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        version = locked.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            behind.append(f"{line} (locked: {version})")
    assert not behind, f"requirements.lock is behind pyproject.toml, run `make lock`: {behind}"


def test_mypy_strict_finds_nothing_in_the_services() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "services"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
