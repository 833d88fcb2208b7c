"""The `ruskontrakt` command line."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer

from domain.need_to_know import POLICE_ROLES, UnitFormatError, check_unit
from domain.values import Agency
from infra import cli_asyncapi, cli_audit, cli_streams
from infra.settings import ConfigurationError, Settings

# Everything the service writes (databases, keys, checkpoints, exports) is for its own user only.
PRIVATE_UMASK = 0o077


class _Cli(typer.Typer):
    """Every command: files created private, and a setting that makes the service unsafe
    (a development secret off loopback, a short secret) ends it with one line, exit code 2."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        os.umask(PRIVATE_UMASK)
        try:
            return super().__call__(*args, **kwargs)
        except ConfigurationError as error:
            print(f"ruskontrakt: {error}", file=sys.stderr)
            raise SystemExit(2) from None


app = _Cli(help="ruskontrakt: case management for youth drug contracts.", no_args_is_help=True)


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Override RUSKONTRAKT_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Override RUSKONTRAKT_PORT")] = None,
) -> None:
    """Run the HTTP API (embedded default: SQLite under ./var, no Kafka needed)."""
    from infra import serving
    from infra.api.app import create_app
    from infra.bootstrap import build

    overrides = {"host": host, "port": port}
    # Before anything is built: whether the development secret may be used depends on the host.
    settings = Settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    _logging(settings)
    container = build(settings)
    serving.run(create_app(container), container, settings, settings.host, settings.port)


@app.command()
def token(
    agency: Annotated[Agency, typer.Option(help="The agency claim")],
    sub: Annotated[str, typer.Option(help="The user id claim")],
    unit: Annotated[
        str | None,
        typer.Option(
            help="The user's office: municipality number, police district or Conflict Council office "
            "code, HPR number, organisation number or county number (codes: GET /register/municipalities); "
            "required for every agency but auditor"
        ),
    ] = None,
    role: Annotated[str | None, typer.Option(help="police only: prevention | investigation")] = None,
    ttl: Annotated[int, typer.Option(help="Seconds until the token expires")] = 3600,
) -> None:
    """Print a bearer token signed with the configured secret (development and tests)."""
    from infra.auth import TokenService

    settings = Settings()
    logging.basicConfig(level="ERROR")
    if ttl > settings.jwt_max_ttl_seconds:
        raise typer.BadParameter(
            f"at most {settings.jwt_max_ttl_seconds} s (RUSKONTRAKT_JWT_MAX_TTL_SECONDS)", param_hint="--ttl"
        )
    try:
        check_unit(agency, unit)
    except UnitFormatError as error:
        raise typer.BadParameter(str(error), param_hint="--unit") from None
    if agency is Agency.POLICE and role not in POLICE_ROLES:
        raise typer.BadParameter(f"a police user has one of {', '.join(POLICE_ROLES)}", param_hint="--role")
    typer.echo(
        TokenService(settings).issue(agency, sub, unit, role if agency is Agency.POLICE else None, ttl)
    )


@app.command()
def demo(
    url: Annotated[
        str | None,
        typer.Option(help="Base URL of the running service (default: from RUSKONTRAKT_HOST and _PORT)"),
    ] = None,
) -> None:
    """Load a realistic set of cases into the running service, through its API."""
    from infra.demo import DemoError, default_url, load_demo

    settings = Settings()
    _logging(settings)
    try:
        load_demo(url or default_url(settings), settings)
    except DemoError as error:
        print(f"ruskontrakt demo: {error}", file=sys.stderr)
        raise SystemExit(1) from None


@app.command("settings")
def show_settings(
    markdown: Annotated[
        bool, typer.Option(help="The README's table: every variable, its default and meaning")
    ] = False,
) -> None:
    """List every setting with the value in effect here (secrets masked), where it comes from
    (environment or default) and its meaning."""
    from pydantic import ValidationError

    from infra.settings import effective, variable

    if markdown:  # documentation: the defaults, whatever this environment sets
        for name, field in Settings.model_fields.items():
            typer.echo(f"| `{variable(name)}` | `{field.default}` | {field.description} |")
        return
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = variable(str(problem["loc"][0])) if problem["loc"] else "settings"
            print(f"ruskontrakt: {where}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
    for shown in effective(settings):
        typer.echo(f"{shown.variable}={shown.value}  ({shown.source})\n    {shown.description}")


# Command groups that live in their own modules register themselves here.
cli_audit.register(app)
cli_streams.register(app)
cli_asyncapi.register(app)

if __name__ == "__main__":
    app()
