"""Auditor commands: replay, verify, checkpoint, export, erase, retention.

Each calls the same use case as the API (`c.audit`, `c.subjects`), as the auditor named
by `--operator` (default: the operating-system user), so what the CLI reads is logged
and permitted exactly like an API read.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from domain.policy import Track
from domain.values import Agency
from infra.api.schemas import NATIONAL_ID_PATTERN
from infra.api.schemas import national_id as valid_national_id
from infra.auth import Principal
from infra.bootstrap import Container, build
from infra.settings import Settings
from services.context import Context
from services.errors import AccessDeniedError, CaseErasedError, CaseNotFoundError

console = Console()
Operator = Annotated[
    str | None, typer.Option(help="Who runs this, as the access log names them (default: cli:<OS user>)")
]


def _container() -> Container:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return build(settings)


def _instant(text: str | None) -> datetime | None:
    """An ISO 8601 time with its offset: a time without one could be read two ways."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no time zone; write e.g. {text}+02:00 or {text}Z")
    return at


class NotANationalIdError(ValueError):
    """The argument is not a national id; the message does not repeat it (a near-miss of a
    real id is personal data too)."""


def _national_id(text: str) -> str:
    """The id as the API takes it (`infra/api/schemas.py national_id`): 11 ASCII digits, a
    fødselsnummer or D-number with valid check digits. Checked before anything is opened."""
    try:
        if re.fullmatch(NATIONAL_ID_PATTERN, text) is None:
            raise ValueError("not 11 ASCII digits")
        return valid_national_id(text)
    except ValueError:
        raise NotANationalIdError("give 11 ASCII digits with valid check digits") from None


def one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """What an operator gets wrong (an unknown or erased case, a refused action, something
    that is not a national id) is one line and exit code 2, not a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except NotANationalIdError as error:
            console.print(f"[red]not a national id:[/red] {error}")
            raise typer.Exit(2) from None
        except CaseNotFoundError as error:
            console.print(f"[red]no such case:[/red] {error}")
            raise typer.Exit(2) from None
        except CaseErasedError as error:
            console.print(f"[red]erased:[/red] case {error}: its personal data was erased")
            raise typer.Exit(2) from None
        except AccessDeniedError as error:
            console.print(f"[red]not permitted:[/red] {error}")
            raise typer.Exit(2) from None

    return run


def _as_auditor(c: Container, operator: str | None) -> Context:
    return c.context(Principal(operator or f"cli:{getpass.getuser()}", Agency.AUDITOR))


def replay(
    contract_id: Annotated[UUID, typer.Argument(help="The contract's id")],
    as_of: Annotated[str | None, typer.Option(help="State at this time (ISO 8601 with offset)")] = None,
    version: Annotated[int | None, typer.Option(help="State at this version")] = None,
    operator: Operator = None,
) -> None:
    """Show every event of a contract in order, unredacted, and its state at that point."""
    c = _container()
    result = c.audit.history(contract_id, _as_auditor(c, operator), _instant(as_of), version)
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
    operator: Operator = None,
) -> None:
    """Recompute hash chains (against signed checkpoints); exit 1 if anything was altered."""
    c = _container()
    ctx = _as_auditor(c, operator)
    if contract_id is None and not all_cases:
        raise typer.BadParameter("give a CONTRACT_ID or --all")
    targets = [(Track.CONTRACT, contract_id)] if contract_id else c.audit.every_case(ctx)
    bad = 0
    for case_track, case_id in track(targets, description="verifying", disable=len(targets) < 2):
        result = c.audit.verify(case_id, ctx, case_track)
        if not result.valid:
            bad += 1
            console.print(f"[red]{case_id}[/red]: version {result.first_invalid_version} {result.reason}")
    console.print(f"{len(targets) - bad} intact, {bad} altered")
    raise typer.Exit(1 if bad else 0)


def checkpoint(operator: Operator = None) -> None:
    """Sign and append the current chain head of every intact case to the checkpoint log."""
    c = _container()
    published = c.audit.checkpoint(_as_auditor(c, operator))
    console.print(f"{published} checkpoints appended to {c.settings.checkpoint_file}")


def export(
    national_id: Annotated[str, typer.Argument(help="The person's national id (11 digits)")],
    html: Annotated[Path | None, typer.Option(help="Also write a readable HTML document here")] = None,
    operator: Operator = None,
) -> None:
    """Everything stored about a person (subject-access request), as JSON on stdout."""
    from infra.export_html import render

    national_id = _national_id(national_id)
    c = _container()
    result = c.subjects.export(national_id, _as_auditor(c, operator))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if html:
        html.write_text(render(result))


def erase(
    national_id: Annotated[str, typer.Argument(help="The person's national id (11 digits)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    operator: Operator = None,
) -> None:
    """Crypto-shred a person's personal data everywhere; the history stays verifiable."""
    national_id = _national_id(national_id)
    if not yes:
        typer.confirm("Erase this person's personal data for ever?", abort=True)
    c = _container()
    cases = c.subjects.erase(national_id, _as_auditor(c, operator))
    console.print(f"erased: {len(cases)} case(s)")


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List only; erase nothing")] = False,
    operator: Operator = None,
) -> None:
    """Erase persons all of whose cases have passed their track's retention period."""
    c = _container()
    ctx = _as_auditor(c, operator)
    for case in c.subjects.expired_cases(ctx):
        console.print(f"{case.track:10} {case.case_id}  last event {case.last_event:%Y-%m-%d}")
    due = c.subjects.retention_due(ctx)
    if dry_run:
        console.print(f"dry run: {len(due)} person(s) would be erased")
        return
    for ref in track(list(due), description="erasing", disable=not due):
        c.subjects.erase_expired(ref, ctx)
    console.print(f"{len(due)} person(s) erased")


def register(app: typer.Typer) -> None:
    for command in (replay, verify, checkpoint, export, erase, retention):
        app.command()(one_line_errors(command))
