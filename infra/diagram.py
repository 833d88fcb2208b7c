"""Render the lifecycle diagrams from the state machine classes themselves (`make docs`):
the contract's (`docs/lifecycle.*`) and the preventive track's (`docs/lifecycle.prevention.*`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pydot
from statemachine import StateMachine
from statemachine.contrib.diagram import DotGraphMachine

from domain.lifecycle import ContractLifecycle
from domain.prevention_lifecycle import PreventionLifecycle


def _dot(machine: type[StateMachine]) -> str:
    """The DOT source, with the renderer's object ids replaced so it is stable across runs."""
    source = str(DotGraphMachine(machine)().to_string())
    return re.sub(r"_\d{6,}", "_0", source)


def lifecycle_dot() -> str:
    return _dot(ContractLifecycle)


def prevention_lifecycle_dot() -> str:
    return _dot(PreventionLifecycle)


def main(out_dir: str = "docs") -> None:
    for name, dot in (("lifecycle", lifecycle_dot()), ("lifecycle.prevention", prevention_lifecycle_dot())):
        Path(out_dir, f"{name}.dot").write_text(dot)
        (graph,) = pydot.graph_from_dot_data(dot)
        graph.write_png(str(Path(out_dir, f"{name}.png")))


if __name__ == "__main__":
    main(*sys.argv[1:])
