"""The case page from a view alone (infra/web/templates/case.html): whose consent is missing,
the deadlines, and an action the view says is blocked shown with its reason, not as a form."""

from __future__ import annotations

from infra.web import present
from infra.web.pages import TEMPLATES

VIEW = {
    "id": "c1",
    "version": 3,
    "status": "active",
    "trinn": 2,
    "youth": {"name": "Ola Nordmann", "birth_date": "2009-12-01"},
    "guardians": [{"name": "Kari Nordmann"}],
    "contract_consent": {"youth": True, "guardian:0": True},
    "consents": [
        {"signatory": "youth", "scope": [{"agency": "gp", "category": "rapid_test"}], "consent_id": "c1/v2"}
    ],
    "deadlines": [
        {"rule": "completion", "due": "2027-04-26", "who": "konfliktrad", "moved_from": "2027-04-24",
         "moved_because": ["2027-04-24 lørdag"]}
    ],
    "allowed_actions": ["complete", "hold_meeting"],
    "blocked_actions": [{"action": "complete", "rule": "end-date-not-reached"}],
    "categories": ["identity", "terms"],
}  # fmt: skip


def _render(view: dict[str, object], blocked: list[tuple[str, str]]) -> str:
    return TEMPLATES.env.get_template("case.html").render(
        view=view,
        consent=present.consent_status(view),
        timeline=present.timeline(view),
        municipality="Trondheim (5001)",
        actions=[],
        danger_actions=[],
        blocked=blocked,
        refusal=None,
        failed_action=None,
        submitted=None,
        done=None,
        base="/ui/saker/c1",
        csrf="x",
        user=None,
        menu=[],
        path="/ui/saker/c1",
        title="Sak",
    )


def test_consent_deadlines_and_a_blocked_action_read_as_words() -> None:
    html = _render(
        VIEW, [("Registrer at avtalen er fullført", present.REFUSAL_WORDS["end-date-not-reached"])]
    )
    assert "fastlegen kan se resultater av hurtigtester" in html
    assert "registrere at avtalen er fullført" in html and "26. april 2027" in html
    assert "24. april 2027 er lørdag" in html
    assert "Ikke mulig ennå" in html and "planens sluttdato er nådd" in html


def test_whose_consent_is_missing_is_named() -> None:
    offered = {**VIEW, "status": "offered", "contract_consent": {"youth": True},
               "consents_missing": [{"signatory": "guardian:0", "name": "Kari Nordmann"}]}  # fmt: skip
    html = _render(offered, [])
    assert "Venter på samtykke" in html and "Kari Nordmann (foresatt)" in html
    rows = present.consent_status(offered)
    assert [(r.signatory.code, r.contract) for r in rows] == [("youth", True), ("guardian:0", False)]
