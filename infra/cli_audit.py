"""Auditor commands: replay, verify, checkpoint, export, erase, retention."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from infra.bootstrap import Container, build
from infra.settings import Settings

console = Console()


def _container() -> Container:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return build(settings)


def replay(
    contract_id: Annotated[UUID, typer.Argument(help="The contract's id")],
    as_of: Annotated[datetime | None, typer.Option(help="State at this time (ISO 8601)")] = None,
    version: Annotated[int | None, typer.Option(help="State at this version")] = None,
) -> None:
    """Show every event of a contract in order, unredacted, and its state at that point."""
    from services.audit import history

    c = _container()
    result = history(c.contracts, contract_id, as_of, version)
    table = Table("v", "time", "event", "agency", "actor", "status")
    for e in result["events"]:
        table.add_row(
            str(e["version"]), e["at"][:19], e["type"], e["actor_agency"], e["actor"], e["status"] or ""
        )
    console.print(table)
    console.print_json(json.dumps(result["state"], ensure_ascii=False))


def verify(
    contract_id: Annotated[UUID | None, typer.Argument(help="One contract, or --all")] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="Every contract and prevention case")] = False,
) -> None:
    """Recompute hash chains (against signed checkpoints); exit 1 if anything was altered."""
    from services.audit import verify as verify_case
    from services.case_index import case_ids_of

    c = _container()
    if contract_id is None and not all_cases:
        raise typer.BadParameter("give a CONTRACT_ID or --all")
    targets = (
        [(c.contracts, contract_id)]
        if contract_id
        else [(app, case_id) for app in (c.contracts, c.prevention) for case_id in case_ids_of(app)]
    )
    bad = 0
    for app, case_id in track(targets, description="verifying", disable=len(targets) < 2):
        assert case_id is not None
        result = verify_case(app, case_id, c.checkpoints)
        if not result.valid:
            bad += 1
            console.print(f"[red]{case_id}[/red]: version {result.first_invalid_version} {result.reason}")
    console.print(f"{len(targets) - bad} intact, {bad} altered")
    raise typer.Exit(1 if bad else 0)


def checkpoint() -> None:
    """Sign and append the current chain head of every intact case to the checkpoint log."""
    from services.audit import heads
    from services.case_index import case_ids_of

    c = _container()
    published = sum(
        c.checkpoints.publish(heads(app, case_ids_of(app)), c.clock()) for app in (c.contracts, c.prevention)
    )
    console.print(f"{published} checkpoints appended to {c.settings.checkpoint_file}")


def export(
    national_id: Annotated[str, typer.Argument(help="The person's national id (11 digits)")],
    html: Annotated[Path | None, typer.Option(help="Also write a readable HTML document here")] = None,
) -> None:
    """Everything stored about a person (subject-access request), as JSON on stdout."""
    from infra.export_html import render
    from services.subject_access import subject_export

    c = _container()
    ref = c.keys.subject_ref(national_id)
    result = subject_export(
        national_id, c.contracts, c.prevention, c.keys, c.access_log.query(subject_ref=ref), c.clock()
    )
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if html:
        html.write_text(render(result))


def erase(
    national_id: Annotated[str, typer.Argument(help="The person's national id (11 digits)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Crypto-shred a person's personal data everywhere; the history stays verifiable."""
    from infra.erasure import erase_person

    if not yes:
        typer.confirm("Erase this person's personal data for ever?", abort=True)
    cases = erase_person(_container(), national_id)
    console.print(f"erased: {len(cases)} case(s)")


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List only; erase nothing")] = False,
) -> None:
    """Erase persons all of whose cases have passed their track's retention period."""
    from infra.erasure import erase_subject_ref, expired_cases, subjects_due

    c = _container()
    now = c.clock()
    for case in expired_cases(c, now):
        console.print(f"{case.track:10} {case.case_id}  last event {case.last_event:%Y-%m-%d}")
    due = subjects_due(c, now)
    if dry_run:
        console.print(f"dry run: {len(due)} person(s) would be erased")
        return
    for ref in track(list(due), description="erasing", disable=not due):
        erase_subject_ref(c, ref)
    console.print(f"{len(due)} person(s) erased")


def register(app: typer.Typer) -> None:
    for command in (replay, verify, checkpoint, export, erase, retention):
        app.command()(command)
