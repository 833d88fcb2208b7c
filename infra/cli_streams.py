"""Event-stream commands: `relay`, `router`, `project`, `rebuild-projections`, `grant-unit`,
and the deadline scheduler `deadlines`.

`ruskontrakt relay` runs the relay AND the redaction router in one process (two
threads) by default, so one service feeds both the internal and the agency topics;
`--no-router` plus `ruskontrakt router` split them when they should scale apart.
"""

from __future__ import annotations

import gc
import logging
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from domain.need_to_know import PREVENTION_UNIT, UnitFormatError, Viewer, check_unit
from domain.values import Agency
from infra.bootstrap import Container, build
from infra.settings import Settings

log = logging.getLogger("ruskontrakt")


def _container(need_kafka: bool = True) -> Container:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if need_kafka and not settings.kafka_bootstrap:
        typer.echo(
            "RUSKONTRAKT_KAFKA_BOOTSTRAP is not set: in embedded mode the API process "
            "distributes events itself.",
            err=True,
        )
        raise typer.Exit(2)
    return build(settings)


def _run(loops: list[Callable[[Container, threading.Event], None]]) -> None:
    """Run the loops in threads until SIGTERM/SIGINT; exit non-zero if one of them fails,
    so a supervisor restarts the process (positions make a restart safe)."""
    container = _container()
    # As `serve` does (infra/serving.py): what start-up built lives as long as the process;
    # left out of full collections, it no longer adds their pauses to the latency tail.
    gc.freeze()
    stop = threading.Event()
    failed: list[BaseException] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def guard(loop: Callable[[Container, threading.Event], None]) -> None:
        try:
            loop(container, stop)
        except BaseException as error:
            log.exception("%s failed", loop.__name__)
            failed.append(error)
            stop.set()

    threads = [threading.Thread(target=guard, args=(loop,), name=loop.__name__) for loop in loops]
    for thread in threads:
        thread.start()
    while not stop.wait(0.5):
        pass
    for thread in threads:
        thread.join(timeout=30)
    container.close()
    if failed:
        sys.exit(1)


def relay(
    router: Annotated[bool, typer.Option(help="Also run the redaction router")] = True,
) -> None:
    """Publish every stored event to Kafka (and, by default, route the agency topics)."""
    from infra.kafka.runners import run_relay, run_router

    _run([run_relay, run_router] if router else [run_relay])


def router() -> None:
    """Publish each agency's redacted topic from the internal topics (if not run by `relay`)."""
    from infra.kafka.runners import run_router

    _run([run_router])


def project() -> None:
    """Build the per-agency read models from the internal topics."""
    from infra.kafka.runners import run_projector

    _run([run_projector])


# A rebuild rewrites each case's documents and rows once per transaction it appears in;
# with the log interleaving many cases, larger transactions mean fewer rewrites of the same
# case (bench/bench_rebuild.py: 20,000 took a third less time than 5,000 on 18,000 events
# of 300 cases). A batch of 20,000 events holds some tens of MB in memory.
REBUILD_BATCH = 20_000


def rebuild_projections(
    batch: Annotated[int, typer.Option(help="Events per SQL transaction")] = REBUILD_BATCH,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help=(
                "Processes sharing the rebuild by case (default on PostgreSQL: every core but "
                "the one counting the statistics; 1 on SQLite)"
            ),
        ),
    ] = None,
) -> None:
    """Empty the read models and the statistics projection and rebuild them from the event store
    (and the intake register), with a progress bar."""
    from infra.rebuild import default_workers, rebuild

    container = _container(need_kafka=False)
    settings = container.settings
    total = sum(app.recorder.max_notification_id() or 0 for app in container.apps)
    container.close()
    workers = workers or default_workers(settings)
    columns = (
        TextColumn(f"[bold]rebuilding read models ({workers} processes)"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task("rebuild", total=total)
        try:
            done = rebuild(settings, workers, batch, progress=lambda n: progress.advance(task, n))
        except RuntimeError as error:
            typer.echo(f"rebuild failed: {error}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"rebuilt from {done} events")


def grant_unit(
    agency: Annotated[Agency, typer.Option(help="The unit's agency")],
    unit: Annotated[str, typer.Option(help="The unit: municipality number, district code, HPR, ...")],
    password_file: Annotated[
        typer.FileText | None,
        typer.Option(help="Read the principal's password from this file (default: generate one)"),
    ] = None,
) -> None:
    """Give a unit's own system its Kafka principal (SCRAM-SHA-512) and the ACLs to read its
    unit topic and consumer group, nothing else; prints the principal, topic and password."""
    from infra.kafka import clients

    try:  # a police district's prevention unit has a topic of its own: `<district>.prevention`
        check_unit(agency, unit.removesuffix(PREVENTION_UNIT) if agency is Agency.POLICE else unit)
    except UnitFormatError as error:
        raise typer.BadParameter(str(error), param_hint="--unit") from None
    if agency in (Agency.AUDITOR, Agency.COUNTY):
        raise typer.BadParameter("the auditor's principal is made at deployment; the county has no stream")
    settings = Settings()
    if not settings.kafka_bootstrap:
        typer.echo("RUSKONTRAKT_KAFKA_BOOTSTRAP is not set: there are no unit topics to grant.", err=True)
        raise typer.Exit(2)
    password = password_file.read().strip() if password_file else secrets.token_urlsafe(24)
    viewer = Viewer(agency, unit)
    principal = clients.grant_unit(settings, viewer, password)
    typer.echo(f"principal: {principal}")
    typer.echo(f"topic and consumer group: {clients.agency_topic(settings, viewer)}")
    if password_file is None:
        typer.echo(f"password: {password}")


def deadlines(
    once: Annotated[bool, typer.Option(help="One pass, then exit (cron); default: pass after pass")] = False,
) -> None:
    """The deadline scheduler: records every missed deadline once (OfferLapsed, DeadlineMissed,
    CaseEscalated) through the contracts application. Safe to run twice at once."""
    container = _container(need_kafka=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if once:
            done = container.deadlines.run_once()
            typer.echo(f"recorded {len(done)} deadline(s); {done.refused} asked again and refused")
        else:
            container.deadlines.run(stop, container.settings.deadline_interval_seconds or 60)
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    app.command()(deadlines)
    app.command("grant-unit")(grant_unit)
    app.command()(relay)
    app.command()(router)
    app.command()(project)
    app.command("rebuild-projections")(rebuild_projections)
