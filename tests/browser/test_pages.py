"""The caseworker pages in a real browser: each walk only through the pages, as a person
would; axe-core on every page; the network off throughout (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, Visit
from tests.integration.flows import OFFER

YOUTH = OFFER["youth"]  # type: ignore[index]
GUARDIAN = OFFER["guardians"][0]  # type: ignore[index]
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def offered(site: Site) -> str:
    """A contract offered through the API, whose free text names the (masked) guardian."""
    body = {**OFFER, "offence": {**OFFER["offence"], "summary": "Kari Nordmann ringte politiet"}}  # type: ignore[dict-item]
    answer = httpx.post(
        f"{site.url}/contracts", json=body, headers={"Authorization": f"Bearer {site.token('prosecution')}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _act(visit: Visit, action: str, fill: dict[str, Any] | None = None) -> Any:
    """Open an action's form on the case page, fill it, send it; the response of the POST."""
    page = visit.page
    box = page.locator(f"#handling-{action}")
    box.locator("summary").click()
    # The form is clicked only once its <details> is open and done opening (Designsystemet
    # animates the content's height; a click on a form still opening may send nothing).
    expect(box).to_have_attribute("open", "")
    box.evaluate("d => Promise.all(d.getAnimations({subtree: true}).map(a => a.finished))")
    for label, value in (fill or {}).items():
        field = box.get_by_label(label)
        if value is True:
            field.check()
        elif isinstance(value, str) and field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(str(value))
    # Wait for this form's own answer and for the page it leads to, not for a request event:
    # `requestfinished` of a document POST that the browser follows (303) or replaces (409)
    # is the loading of a navigation's first hop, which a loaded machine was seen to miss, and
    # `wait_for_load_state()` right after a click returns at once for the page being left.
    # The navigation is the new one the click starts (the URL may not change: a second
    # consent lands on the same `?utfort=give_consent`), so the next step sees the new page.
    submit = box.locator("button[type=submit]")
    expect(submit).to_be_enabled()
    posted = f"/handling/{action}"
    with (
        page.expect_navigation(wait_until="load"),  # left only once the new page has loaded
        page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(posted)) as answered,
    ):
        submit.click()
    return answered.value


def test_a_coordinator_walks_a_contract_from_offer_to_completion_only_through_the_pages(
    visit: Any, site: Site
) -> None:
    prosecutor = visit("prosecution", sub="aktor-1")
    prosecutor.go("/ui/saker/ny")
    page = prosecutor.page
    for field, value in {
        "#youth_name": "Ola Nordmann",
        "#youth_national_id": YOUTH["national_id"],
        "#youth_birth_date": YOUTH["birth_date"],
        "#guardian_name": GUARDIAN["name"],
        "#guardian_national_id": GUARDIAN["national_id"],
        "#substance": "cannabis",
        "#offence_date": "2026-09-01",
        "#fine_amount": "3000",
        "#municipality": "5001",
        "#offer_deadline": "2026-10-01",
    }.items():
        page.fill(field, value)
    prosecutor.accessible("offer-form")
    page.get_by_role("button", name="Tilby ruskontrakt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ola Nordmann")
    case_path = page.url.split("?")[0].removeprefix(site.url)

    coordinator = visit("konfliktrad", sub="koordinator-1")
    page = coordinator.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeidsliste")
    coordinator.accessible("worklist")
    coordinator.shot("readme-worklist", full_page=False)
    page.locator(f"a[href='{case_path}']").click()
    expect(page.get_by_text("Venter på samtykke")).to_be_visible()
    expect(page.locator(".ds-alert", has_text="Venter på samtykke")).to_contain_text(
        "Kari Nordmann (foresatt)"
    )
    coordinator.accessible("case-offered")

    _act(coordinator, "give_consent", {"Hvem": "youth", "fastlegen kan se resultater av hurtigtester": True})
    expect(page.get_by_role("status")).to_contain_text("Registrert: Registrer samtykke")
    _act(coordinator, "give_consent", {"Hvem": "guardian:0"})
    consent = page.locator("section", has=page.get_by_role("heading", name="Samtykke"))
    expect(consent).to_contain_text("fastlegen kan se resultater av hurtigtester")
    expect(page.get_by_text("Venter på samtykke")).to_have_count(0)

    _act(coordinator, "schedule_startup")
    expect(page.locator(".case-meta")).to_contain_text("oppstartsmøte berammet")
    coordinator.accessible("case-startup-scheduled")
    _act(coordinator, "hold_startup", {"Vilkår (ett per linje)": "ingen rusbruk\nmøte til samtaler"})
    expect(page.locator(".case-meta")).to_contain_text("aktiv")
    expect(page.locator("section", has_text="Frister")).to_contain_text("neste oppfølgingssamtale")

    # The plan's end date is months away: no form to complete it (the API would answer 409
    # end-date-not-reached), but the reason, from the view's blocked_actions.
    expect(page.locator("#handling-complete")).to_have_count(0)
    not_yet = page.locator("section", has=page.get_by_role("heading", name="Ikke mulig ennå"))
    expect(not_yet).to_contain_text("planens sluttdato er nådd")
    coordinator.accessible("case-active")
    coordinator.shot("readme-case", full_page=False)

    started = site.clock.now
    site.clock.advance(days=200)  # past the plan's end
    try:
        coordinator.go(case_path)
        _act(coordinator, "complete")
    finally:
        site.clock.now = started  # the other tests' offers are made on the first day
    expect(page.locator(".case-meta")).to_contain_text("fullført")
    expect(page.locator(".timeline")).to_contain_text("Status: fullført")
    coordinator.accessible("case-completed")

    coordinator.go("/ui/saker")  # the filters swap the table in place (htmx) and keep the URL
    page.get_by_label("Status").select_option("completed")
    expect(page.locator(f"#arbeidsliste a[href='{case_path}']")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=completed"))
    page.get_by_label("Status").select_option("active")
    expect(page.locator("#arbeidsliste")).to_contain_text("Ingen saker.")
    assert not prosecutor.outside and not coordinator.outside, "the pages asked the network"


def test_a_counsellor_in_another_municipality_sees_404_and_the_home_one_the_case(
    visit: Any, offered: str
) -> None:
    elsewhere = visit("municipal_health", sub="radgiver-oslo", unit="0301")
    response = elsewhere.go(f"/ui/saker/{offered}")
    assert response.status == 404
    expect(elsewhere.page.get_by_role("heading", level=1)).to_have_text("Fant ikke saken")
    assert "Ola" not in elsewhere.page.content()
    elsewhere.accessible("not-found")
    home = visit("municipal_health", sub="radgiver-trondheim")
    assert home.go(f"/ui/saker/{offered}").status == 200


def test_an_auditor_opens_a_history_and_an_export_in_plain_norwegian(visit: Any, offered: str) -> None:
    auditor = visit("auditor", sub="revisor-1")
    page = auditor.page
    auditor.accessible("audit")
    page.get_by_label("Saks-id").fill(offered)
    page.get_by_role("button", name="Åpne historikken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historikk")
    page.get_by_role("button", name="Kontroller hash-kjeden").click()  # htmx: the result in place
    expect(page.locator("#kontroll")).to_contain_text("Hash-kjeden er hel")
    auditor.accessible("history")

    auditor.go("/ui/revisjon/tilgangslogg")
    expect(page.locator("table")).to_contain_text("Revisor (revisor-1)")
    auditor.accessible("access-log")

    auditor.go("/ui/innsyn")
    page.get_by_label("Fødselsnummer").fill(YOUTH["national_id"])
    page.get_by_role("button", name="Vis innsyn").click()
    export = page.locator("article.export")
    expect(export).to_contain_text("Innsyn i egne opplysninger")
    expect(export).to_contain_text("Påtalemyndigheten tilbød deg en ruskontrakt")
    expect(export).to_contain_text("[annen person] ringte politiet")  # free text masked too
    text = export.inner_text()
    assert "Kari" not in text and "guardian:" not in text and not UUID_TEXT.search(text)
    assert "konfliktrad" not in text and "+00:00" not in text and "{" not in text
    auditor.accessible("export")
    auditor.shot("readme-export", full_page=False)


def test_docs_renders_with_the_network_off(visit: Any) -> None:
    reader = visit()
    reader.go("/docs")
    expect(reader.page.locator(".swagger-ui .info .title")).to_contain_text("ruskontrakt")
    expect(reader.page.locator(".opblock").first).to_be_visible()
    reader.shot("docs")
    assert not reader.outside, reader.outside


def test_the_police_prevention_unit_registers_a_concern_and_offers_a_conversation(visit: Any) -> None:
    officer = visit("police", sub="forebygger-1", role="prevention")
    page = officer.page
    officer.go("/ui/forebygging")
    officer.accessible("prevention-list")
    page.get_by_role("link", name="Registrer bekymring").click()
    page.get_by_label("Navn").fill("Per Ung")
    page.get_by_label("Fødselsnummer").fill("15011050260")
    page.get_by_label("Fødselsdato").fill("2010-01-15")
    page.get_by_label("Kommune (kommunenummer)").fill("5001")
    page.get_by_role("button", name="Registrer bekymring").click()
    expect(page.locator(".case-meta")).to_contain_text("bekymring registrert")
    _act(officer, "offer_conversation")
    expect(page.locator(".case-meta")).to_contain_text("samtale tilbudt")
    officer.accessible("prevention-case")


def test_the_sign_in_page_takes_a_token_and_a_form_without_its_csrf_token_is_refused(
    visit: Any, site: Site
) -> None:
    stranger = visit()
    stranger.go("/ui/saker")
    expect(stranger.page.get_by_role("heading", level=1)).to_have_text("Logg inn")
    stranger.accessible("sign-in")
    cookies = {c["name"]: c for c in stranger.page.context.cookies()}
    assert cookies["rk_csrf"]["httpOnly"] and cookies["rk_csrf"]["sameSite"] == "Strict"
    stranger.sign_in("konfliktrad")
    token = {c["name"]: c for c in stranger.page.context.cookies()}["rk_token"]
    assert token["httpOnly"] and token["sameSite"] == "Strict"
    forged = stranger.page.request.post(f"{site.url}/ui/logg-ut", form={"csrf": "forged"})
    assert forged.status == 403


def test_the_county_dashboard_shows_suppressed_cells_as_suppressed(visit: Any, offered: str) -> None:
    """Trøndelag's project lead (unit 50) lands on the dashboard; per county, this year's few
    offers (the module's, all in Trondheim) are fewer than 5: suppressed, never 0."""
    lead = visit("county", sub="prosjektleder-1", unit="50")
    page = lead.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Likebehandling")
    page.get_by_label("Gruppert etter").select_option("county")  # one row: a small table to protect
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Vis").click()
    table = page.locator("table.ds-table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr", has_text="Trøndelag")
    offered_cell = row.locator("td").nth(headers.index("tilbudt") - 1)
    expect(offered_cell).to_have_text("skjult (færre enn 5)")
    expect(offered_cell).to_have_class("suppressed")
    chart = page.get_by_role("img", name="Tilbudt", exact=True)
    expect(chart).to_contain_text("skjult (færre enn 5)")
    expect(chart.locator("rect")).to_have_count(0)  # no bar for a suppressed cell
    lead.accessible("statistics")
    lead.shot("readme-statistics", full_page=False)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Last ned tabellen som CSV").click()
    download = downloading.value
    assert (
        download.suggested_filename
        == f"likebehandling-county-{page.get_by_label('Periode').input_value()}.csv"
    )
    lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    offered_line = next(line for line in lines if line.split(",")[3] == "50" and ",offered," in line)
    assert ",offered,,true," in offered_line, offered_line  # suppressed: no value, not 0
    assert not lead.outside, lead.outside
