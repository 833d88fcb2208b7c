"""`ruskontrakt asyncapi`: the agency topics' AsyncAPI document and message schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def asyncapi(
    write: Annotated[
        Path | None,
        typer.Option(help="Write asyncapi.yaml and schemas/agency/v<N>/*.schema.json under this folder"),
    ] = None,
    check: Annotated[
        bool, typer.Option(help="With --write: change nothing, exit 1 if a file is not as generated")
    ] = False,
) -> None:
    """The AsyncAPI 3 document of the agency topics, generated from the code (JSON on
    standard output, or the committed files with --write docs)."""
    from infra import asyncapi as generator

    if write is None:
        typer.echo(json.dumps(generator.asyncapi_document(), indent=2, ensure_ascii=False))
        return
    if check:
        stale = [
            relative
            for relative, content in generator.generated_files().items()
            if not (write / relative).is_file() or (write / relative).read_text() != content
        ]
        for relative in stale:
            typer.echo(f"not as generated: {write / relative} (make asyncapi)", err=True)
        raise typer.Exit(1 if stale else 0)
    for path in generator.write(write):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(asyncapi)
