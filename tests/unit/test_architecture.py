"""The dependency rule of quality.md: domain is pure; dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_ALLOWED = {"__future__", "eventsourcing", "statemachine", "domain"}
STDLIB_FORBIDDEN = {"os", "sqlite3", "socket", "subprocess", "http", "urllib", "logging"}


def imports_of(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_eventsourcing_domain_and_statemachine(
    path: Path,
) -> None:
    import sys

    for name, line in imports_of(path):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names:
            assert top not in STDLIB_FORBIDDEN, f"{path.name}:{line} imports {name}"
            continue
        assert top in DOMAIN_ALLOWED, f"{path.name}:{line} imports {name}"
        if top == "eventsourcing":
            assert name == "eventsourcing.domain", f"{path.name}:{line} imports {name}"


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: p.name)
def test_the_domain_never_reads_the_environment(path: Path) -> None:
    text = path.read_text()
    assert "environ" not in text and "getenv" not in text, path.name


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", {"services", "projections", "infra"}),
        ("services", {"infra"}),
        ("projections", {"infra", "services"}),
    ],
)
def test_dependencies_point_from_the_edges_to_the_domain(package: str, forbidden: set[str]) -> None:
    for path in modules(package):
        for name, line in imports_of(path):
            assert not any(name == f or name.startswith(f + ".") for f in forbidden), (
                f"{package}/{path.name}:{line} imports {name}"
            )


# The API's routers and the caseworker pages' (infra/web/router.py): the same rules.
ROUTERS = [*modules("infra/api/routers"), ROOT / "infra" / "web" / "router.py"]


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: p.name)
def test_routers_hold_no_lambdas_and_no_decisions_of_their_own(path: Path) -> None:
    """A route calls one use case; permission, visibility and the access log are the
    application's (quality.md 6), so a router never wraps a use case in a lambda, never
    compares the caller's agency and never writes the access log itself."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    lambdas = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
    assert not lambdas, f"{path.name}: lambdas at lines {lambdas}"
    for forbidden in ("Agency.", "access_log.record", "AccessEntry", "ProblemError(403"):
        assert forbidden not in source, f"{path.name} decides for itself: {forbidden}"


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: p.name)
def test_every_route_handler_is_a_few_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in {"get", "post"}
            for d in node.decorator_list
        ):
            body = [
                s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            ]
            assert len(body) <= 3, f"{path.name}:{node.lineno} {node.name} has {len(body)} statements"


WEB = modules("infra/web")
# What would read or write past the use cases: the stores, the read models, the key store,
# the access log, a case's raw events.
PAST_THE_USE_CASES = (
    "infra.db",
    "read_models",
    "stored_view",
    "stored_events",
    ".records(",
    "access_log.record",
    "AccessEntry",
    "c.keys",
    "c.access.",
    "c.database",
    "container.database",
)


@pytest.mark.parametrize("path", WEB, ids=lambda p: p.name)
def test_the_pages_read_and_write_only_through_the_use_cases(path: Path) -> None:
    """A page asks the same use cases as the API (need to know, permission and the access
    log are theirs), never a table, a read model or the key store."""
    source = path.read_text()
    for forbidden in PAST_THE_USE_CASES:
        assert forbidden not in source, f"infra/web/{path.name} goes past the use cases: {forbidden}"
