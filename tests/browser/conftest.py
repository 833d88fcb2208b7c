"""Browser tests: the pages in Debian's chromium, driven by Playwright for Python.

The service runs in this process (uvicorn in a thread, on a loopback port) over SQLite in a
temporary directory, on a clock the tests move, so a contract's six months pass in a line.
Chromium is Debian's (`make chromium` installs it; Playwright downloads no browser) and is
told to resolve no host but this one: the pages must work with the network off. axe-core
(npm, `make assets`) is injected into each page and must find no serious violation.
Screenshots of every page go to `var/screenshots/` (`make screenshots` copies the README's).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container, build
from tests.conftest import Clock, settings_for_tests
from tests.servers import free_port
from tests.units import role_of, unit_of

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "infra" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"
SERIOUS = ("serious", "critical")


def _chromium() -> str:
    found = os.environ.get("RUSKONTRAKT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no chromium: `make chromium` installs Debian's (the browser tests never skip)")
    return found


@dataclass
class Site:
    url: str
    container: Container
    clock: Clock

    def token(
        self, agency: str, sub: str | None = None, unit: str | None = None, role: str | None = None
    ) -> str:
        a = Agency(agency)
        return self.container.tokens.issue(a, sub or f"{agency}-1", unit or unit_of(a), role or role_of(a))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make assets` installs the web assets")
    tmp = tmp_path_factory.mktemp("site")
    clock = Clock(datetime(2026, 9, 10, 8, 0, tzinfo=UTC))
    container = build(settings_for_tests(f"sqlite:///{tmp}/ruskontrakt.sqlite", tmp), clock=clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(container), "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", container, clock)
    finally:
        server.should_exit = True
        thread.join(10)
        container.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=_chromium(),
            # No name resolves but the loopback the service listens on: a page that wanted a
            # CDN would fail here. --no-sandbox: CI runs as root, where chromium's sandbox cannot.
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        yield launched
        launched.close()


class Visit:
    """One user's browser: sign-in, pages, and what was asked of the network."""

    def __init__(self, page: Page, site: Site) -> None:
        self.page, self.site = page, site
        self.outside: list[str] = []
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.site.url) and not request.url.startswith(("data:", "about:")):
            self.outside.append(request.url)

    def sign_in(self, agency: str, **claims: str) -> None:
        self.page.goto(f"{self.site.url}/ui/logg-inn")
        self.page.get_by_label("Token").fill(self.site.token(agency, **claims))
        # The page the sign-in leads to, loaded (`wait_for_load_state()` after the click
        # would return at once: the sign-in page being left is loaded already).
        with self.page.expect_navigation(wait_until="load"):
            self.page.get_by_role("button", name="Logg inn").click()

    def go(self, path: str) -> Any:
        return self.page.goto(f"{self.site.url}{path}")

    def shot(self, name: str, full_page: bool = True) -> Path:
        """The page as a PNG in var/screenshots/ (`full_page=False`: the window, for the README)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def accessible(self, name: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation; a screenshot."""
        self.shot(name)
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        serious = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v.get("impact") in SERIOUS
        ]
        assert not serious, f"{name}: {json.dumps(serious, ensure_ascii=False, indent=1)}"


@pytest.fixture
def visit(browser: Browser, site: Site) -> Iterator[Any]:
    contexts = []

    def open_as(agency: str | None = None, **claims: str) -> Visit:
        # Reduced motion: Designsystemet opens a <details> over 0.4 s (its ::details-content
        # grows from 0 with overflow hidden); a click on a form still opening was seen to send
        # nothing on a loaded machine. The pages do not depend on the animation.
        context = browser.new_context(
            locale="nb-NO",
            timezone_id="Europe/Oslo",
            viewport={"width": 1280, "height": 900},
            reduced_motion="reduce",
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(45_000)  # a loaded CI machine: the first POST of a run has taken > 15 s
        opened = Visit(page, site)
        if agency is not None:
            opened.sign_in(agency, **claims)
        return opened

    yield open_as
    for context in contexts:
        context.close()
