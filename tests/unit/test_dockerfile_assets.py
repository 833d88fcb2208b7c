"""The image carries the web assets the service serves (docs/web.md "Assets and /docs"): an npm
stage installs infra/web/package-lock.json, and the final stage copies its node_modules to
where the installed package looks for them (infra/web/__init__.py `NODE_MODULES`). No Docker
engine is needed: the Dockerfile is read as text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra import web

REPO = Path(__file__).resolve().parents[2]


def _stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by its name (`final` for the last)."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            words = line.split()
            current = stages.setdefault(words[3] if len(words) > 3 else "final", [line])
            continue
        current.append(line)
    return stages


def test_an_npm_stage_installs_exactly_the_lock_without_scripts_or_dev_packages() -> None:
    assets = _stages()["assets"]
    assert assets[0].split()[1].startswith("node:"), assets[0]
    assert any(
        i.startswith("COPY ") and "infra/web/package-lock.json" in i and "infra/web/package.json" in i
        for i in assets
    )
    install = next(i for i in assets if i.startswith("RUN ") and "npm" in i)
    assert "npm ci" in install and "--ignore-scripts" in install and "--omit=dev" in install


def test_the_final_image_puts_node_modules_where_the_installed_package_serves_them_from() -> None:
    final = _stages()["final"]
    python = re.match(r"FROM python:(\d+\.\d+)", final[0])
    assert python, final[0]
    site_packages = f"/opt/venv/lib/python{python.group(1)}/site-packages"
    served_from = web.NODE_MODULES.relative_to(REPO)  # infra/web/node_modules in the package
    copies = [i.split() for i in final if i.startswith("COPY --from=assets ")]
    assert [c[2:] for c in copies] == [["/assets/node_modules", f"{site_packages}/{served_from}"]]


@pytest.mark.parametrize("prefix", [p for p, d in web.ASSETS.items() if web.NODE_MODULES in d.parents])
def test_every_served_npm_folder_is_a_runtime_dependency_the_image_installs(prefix: str) -> None:
    folder = web.ASSETS[prefix].relative_to(web.NODE_MODULES)
    package = "/".join(folder.parts[:2]) if folder.parts[0].startswith("@") else folder.parts[0]
    manifest = json.loads((REPO / "infra" / "web" / "package.json").read_text())
    assert package in manifest["dependencies"], f"{prefix}: {package} is not installed with --omit=dev"


def test_the_build_context_holds_the_npm_manifests_but_not_a_local_node_modules() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "infra/web/node_modules" in ignored
    assert not any(p in ("infra", "infra/web", "*.json", "**/*.json", "infra/web/*.json") for p in ignored)
