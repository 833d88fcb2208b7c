"""Render the lifecycle diagram from the state machine class itself (`make docs`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pydot
from statemachine.contrib.diagram import DotGraphMachine

from domain.lifecycle import ContractLifecycle


def lifecycle_dot() -> str:
    """The DOT source, with the renderer's object ids replaced so it is stable across runs."""
    source = str(DotGraphMachine(ContractLifecycle)().to_string())
    return re.sub(r"_\d{6,}", "_0", source)


def main(out_dir: str = "docs") -> None:
    dot = lifecycle_dot()
    Path(out_dir, "lifecycle.dot").write_text(dot)
    (graph,) = pydot.graph_from_dot_data(dot)
    graph.write_png(str(Path(out_dir, "lifecycle.png")))


if __name__ == "__main__":
    main(*sys.argv[1:])
