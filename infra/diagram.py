"""Render the lifecycle diagram from the state machine class itself (`make docs`)."""

from __future__ import annotations

import sys
from pathlib import Path

from statemachine.contrib.diagram import DotGraphMachine

from domain.lifecycle import ContractLifecycle


def lifecycle_dot() -> str:
    return str(DotGraphMachine(ContractLifecycle)().to_string())


def main(out_dir: str = "docs") -> None:
    graph = DotGraphMachine(ContractLifecycle)()
    Path(out_dir, "lifecycle.dot").write_text(lifecycle_dot())
    graph.write_png(str(Path(out_dir, "lifecycle.png")))


if __name__ == "__main__":
    main(*sys.argv[1:])
