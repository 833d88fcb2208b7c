"""The subject-access export as a readable HTML document with Norwegian labels."""

from __future__ import annotations

import json
from html import escape
from typing import Any

LABELS = {
    "ContractOffered": "Tilbud om ruskontrakt",
    "CaseDisclosed": "Opplysninger delt",
    "ConsentGiven": "Samtykke gitt",
    "ConsentWithdrawn": "Samtykke trukket",
    "OfferDeclined": "Tilbud avslått",
    "OfferLapsed": "Svarfrist utløpt",
    "StartupMeetingScheduled": "Oppstartsmøte berammet",
    "StartupMeetingHeld": "Oppstartsmøte holdt",
    "PlanAgreed": "Plan avtalt",
    "PlanAmended": "Plan endret",
    "StageChanged": "Trinn endret",
    "TestScheduled": "Test planlagt",
    "RapidTestRecorded": "Hurtigtest registrert",
    "LabResultRecorded": "Laboratoriesvar registrert",
    "MeetingHeld": "Samtale/møte holdt",
    "NoShowRecorded": "Uteblivelse registrert",
    "BreachRegistered": "Brudd registrert",
    "BreachDecided": "Bruddreaksjon besluttet",
    "ContractCompleted": "Kontrakt fullført",
    "ContractTerminated": "Kontrakt avsluttet",
    "ReturnedToProsecution": "Sendt tilbake til påtale",
    "EvaluationSubmitted": "Evaluering levert",
    "ConcernRegistered": "Bekymring registrert",
    "ConversationOffered": "Bekymringssamtale tilbudt",
    "ConversationHeld": "Bekymringssamtale holdt",
    "ConversationDeclined": "Bekymringssamtale avslått",
    "CounsellingOffered": "Rådgivning tilbudt",
    "CounsellingAccepted": "Rådgivning akseptert",
    "CounsellingDeclined": "Rådgivning avslått",
    "ConcernReportedToChildWelfare": "Bekymringsmelding til barnevernet",
    "PreventionCaseClosed": "Forebyggende sak avsluttet",
}
STATUS = {
    "offered": "tilbudt",
    "consented": "samtykket",
    "startup_scheduled": "oppstart berammet",
    "active": "aktiv",
    "breach_review": "bruddvurdering",
    "completed": "fullført",
    "terminated": "avsluttet",
    "returned": "tilbake hos påtalemyndigheten",
    "declined": "avslått",
    "lapsed": "bortfalt",
    None: "–",
}


def _events(events: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{e['version']}</td><td>{escape(e['at'][:16])}</td>"
        f"<td>{escape(LABELS.get(e['type'], e['type']))}</td><td>{escape(e['actor_agency'])}</td>"
        f"<td><pre>{escape(json.dumps(e['payload'], ensure_ascii=False, indent=1))}</pre></td></tr>"
        for e in events
    )
    return (
        "<table><tr><th>Nr.</th><th>Tidspunkt</th><th>Hendelse</th><th>Etat</th>"
        f"<th>Opplysninger</th></tr>{rows}</table>"
    )


def render(export: dict[str, Any]) -> str:
    subject = export["subject"]
    parts = [
        "<!doctype html><html lang='nb'><head><meta charset='utf-8'>",
        "<title>Innsyn – ruskontrakt</title><style>body{font-family:sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;"
        "vertical-align:top}pre{margin:0;white-space:pre-wrap}</style></head><body>",
        "<h1>Innsyn i egne opplysninger</h1>",
        f"<p>Navn: {escape(subject.get('name') or '–')}<br>"
        f"Fødselsnummer: {escape(subject['national_id'])}<br>"
        f"Utskrevet: {escape(export['generated_at'][:16])}</p>",
    ]
    for title, cases in (
        ("Ruskontrakter", export["contracts"]),
        ("Forebyggende saker", export.get("prevention_cases")),
    ):
        if cases is None:
            continue  # an export for a unit: only the contracts it saw
        parts.append(f"<h2>{title}</h2>")
        if not cases:
            parts.append("<p>Ingen.</p>")
        for case in cases:
            note = " (personopplysningene er slettet)" if case.get("erased") else ""
            parts.append(
                f"<h3>Sak {escape(case['id'])} – status: "
                f"{escape(STATUS.get(case['status'], str(case['status'])))}{note}</h3>"
            )
            parts.append(_events(case["events"]))
    if export.get("contracts_as_guardian"):
        parts.append("<h2>Saker der du er registrert som foresatt</h2><ul>")
        parts += [
            f"<li>Sak {escape(c['id'])}: {escape(STATUS.get(c['status'], str(c['status'])))}</li>"
            for c in export["contracts_as_guardian"]
        ]
        parts.append("</ul>")
    if "access_log" not in export:
        parts.append("</body></html>")
        return "".join(parts)
    parts.append(
        "<h2>Hvem har sett opplysningene</h2><table><tr><th>Tidspunkt</th><th>Etat</th>"
        "<th>Bruker</th><th>Hva</th><th>Grunnlag</th></tr>"
    )
    parts += [
        f"<tr><td>{escape(a['at'][:16])}</td><td>{escape(a['agency'])}</td>"
        f"<td>{escape(a['sub'])}</td><td>{escape(', '.join(a['categories']))}</td>"
        f"<td>{escape(json.dumps(a['basis'], ensure_ascii=False))}</td></tr>"
        for a in export["access_log"]
    ]
    parts.append("</table></body></html>")
    return "".join(parts)
