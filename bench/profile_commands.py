"""Where a command's time goes: pyinstrument on the command path, in-process.

Runs the real route function of `POST /contracts/{id}/meetings` (`hold_meeting` with the
bearer token verified and the body validated as the dependencies do) on PostgreSQL, one
command at a time, under pyinstrument (wall clock: waiting for PostgreSQL shows up as
psycopg's `wait`). What it leaves out is the HTTP stack itself (uvicorn, h11, Starlette
middleware), whose cost is the no-op POST of bench_commands.

Reports the time per phase of the command, the time per layer (by the file each sampled
frame's self time is in), the top functions by self time, and the SQL statements per
command (counted in a separate, unprofiled run). `--history N` profiles commands on a
case with N events instead of fresh ones. Writes the full profile to bench/results/.

    .venv/bin/python -m bench.profile_commands [--commands 300] [--history 0]
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from pyinstrument import Profiler
from pyinstrument.frame import Frame

from bench.common import (
    MEETING_JSON,
    REPO,
    bench_database,
    bench_parser,
    create_active_contracts,
    grow_history,
    log,
    unit_of,
)
from bench.streams import kafka_up, topic_prefix
from domain.values import Agency
from infra.api.routers.contracts import hold_meeting
from infra.api.schemas import MeetingBody
from infra.bootstrap import Container

RESULTS = REPO / "bench" / "results"

# (phase, frame name, required ancestor, forbidden ancestor); outermost match only.
PHASES: list[tuple[str, str, str | None, str | None]] = [
    ("authenticate (JWT verify, remembered per token)", "TokenService.verify", None, None),
    ("the case from memory (checkout; loaded from the store on a miss)", "LiveCases.checkout", None, None),
    ("domain command (state machine + event)", "Contract.hold_meeting", None, None),
    ("the record kept and the views of the agencies that asked advanced", "LiveCase.advance", None, None),
    (
        "save: seal, then one statement with the answer's access-log entry (shared by concurrent commands)",
        "ContractsApplication._commit",
        None,
        None,
    ),
    ("response rendering (JSON)", "JSONResponse.__init__", None, None),
]
REST = "rest (route, CommandRunner, logging, response rendering)"
LAYERS = [
    ("psycopg (PostgreSQL client; includes waiting for the server)", ("psycopg",)),
    ("eventsourcing library", ("eventsourcing",)),
    ("python-statemachine", ("statemachine",)),
    ("cryptography (AES-GCM)", ("cryptography",)),
    ("pydantic", ("pydantic",)),
    ("json (stdlib)", ("json/",)),
    ("typing (isinstance against runtime-checkable Protocols)", ("/typing.py",)),
    ("threading (locks, thread pool)", ("/threading.py", "/concurrent/")),
    ("logging (stdlib)", ("logging/",)),
    ("fastapi / starlette", ("fastapi", "starlette")),
    ("project: domain/", ("/domain/",)),
    ("project: services/", ("/services/",)),
    ("project: projections/", ("/projections/",)),
    ("project: infra/", ("/infra/",)),
]


def name(frame: Frame) -> str:
    return f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function


def matches(frame_name: str, wanted: str) -> bool:
    """`load` matches `ContractsApplication.load` (the class is the aggregate's or app's own)."""
    return frame_name == wanted or ("." not in wanted and frame_name.endswith("." + wanted))


def layer(frame: Frame) -> str:
    path = (frame.file_path or "").replace("\\", "/")
    for label, needles in LAYERS:
        if any(n in path for n in needles):
            return label
    return "other (stdlib, threads, ...)"


def walk(root: Frame) -> Iterator[tuple[Frame, tuple[str, ...], float]]:
    """(frame, names of its ancestors, its self time); iterative, the trees are deep."""
    stack: list[tuple[Frame, tuple[str, ...]]] = [(root, ())]
    while stack:
        frame, ancestors = stack.pop()
        self_time = frame.time - sum(c.time for c in frame.children if not c.is_synthetic)
        yield frame, ancestors, self_time
        here = (*ancestors, name(frame))
        stack.extend((c, here) for c in frame.children if not c.is_synthetic)


def analyse(root: Frame, commands: int) -> dict[str, Any]:
    total = root.time
    phases: defaultdict[str, float] = defaultdict(float)
    layers: defaultdict[str, float] = defaultdict(float)
    selfs: defaultdict[str, float] = defaultdict(float)
    for frame, ancestors, self_time in walk(root):
        frame_name = name(frame)
        for phase, wanted, under, not_under in PHASES:
            if not matches(frame_name, wanted) or any(matches(a, wanted) for a in ancestors):
                continue  # not this phase, or an inner call of it (counted in the outer one)
            if (under is None or under in ancestors) and (not_under is None or not_under not in ancestors):
                phases[phase] += frame.time
        layers[layer(frame)] += self_time
        selfs[f"{frame_name} ({frame.file_path_short}:{frame.line_no})"] += self_time

    def row(what: str, seconds: float) -> dict[str, Any]:
        return {
            "what": what,
            "percent": round(100 * seconds / total, 1),
            "ms_per_command": round(1000 * seconds / commands, 3),
        }

    ordered = {p: phases[p] for p, *_ in PHASES if p in phases}
    ordered[REST] = total - sum(ordered.values())

    def by_time(d: dict[str, float]) -> list[tuple[str, float]]:
        return sorted(d.items(), key=lambda kv: -kv[1])

    return {
        "total_s": round(total, 3),
        "ms_per_command": round(1000 * total / commands, 2),
        "phases": [row(k, v) for k, v in ordered.items()],
        "layers": [row(k, v) for k, v in by_time(layers)],
        "top_self": [row(k, v) for k, v in by_time(selfs)[:15]],
    }


def _sql_text(query: Any) -> str:
    if isinstance(query, str | bytes):  # bytes: a statement rendered once (infra/db/event_store.py)
        return query.decode() if isinstance(query, bytes) else query
    try:
        return str(query.as_string(None))
    except Exception:
        return str(query)


@contextmanager
def count_sql() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    originals = {m: getattr(psycopg.Cursor, m) for m in ("execute", "executemany")}

    def counting(method: str) -> Callable[..., Any]:
        original = originals[method]

        def wrapper(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = _sql_text(query)
            counts[" ".join(text.split()[:1]).upper() or "?"] += 1
            return original(self, query, *args, **kwargs)

        return wrapper

    for method in originals:
        setattr(psycopg.Cursor, method, counting(method))
    try:
        yield counts
    finally:
        for method, original in originals.items():
            setattr(psycopg.Cursor, method, original)


def one_command(c: Container, token: str) -> Callable[[Any], int]:
    def run(case_id: Any) -> int:
        principal = c.tokens.verify(token)  # what PrincipalDep does
        body = MeetingBody.model_validate_json(MEETING_JSON)  # what FastAPI does with the body
        return hold_meeting(case_id, body, c, principal).status_code

    return run


def profile(commands: int = 300, history: int = 0, write: bool = True) -> dict[str, Any]:
    label = f"history{history}" if history else "fresh"
    # As bench_commands: the API process in its production role (Kafka mode), no projection.
    kafka = {"kafka_bootstrap": kafka_up(), "kafka_topic_prefix": topic_prefix("profile")}
    with bench_database(f"profile_{label}", **kafka) as (_url, _workdir, c):
        ids = create_active_contracts(c, 100 if not history else 1)
        if history:
            grow_history(c, ids[0], history)
        token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD))
        command = one_command(c, token)
        cases = itertools.cycle(ids)
        for _ in range(min(50, commands)):  # warm: projection of the set-up, caches, pools
            assert command(next(cases)) == 200
        with count_sql() as sql:
            counted = min(50, commands)
            for _ in range(counted):
                command(next(cases))
        cpu_start = time.process_time()
        for _ in range(commands):  # unprofiled: what a command costs in CPU, all threads
            command(next(cases))
        cpu_ms = 1000 * (time.process_time() - cpu_start) / commands
        profiler = Profiler(interval=0.001)
        start = time.perf_counter()
        profiler.start()
        for _ in range(commands):
            status = command(next(cases))
            assert status == 200, status
        profiler.stop()
        wall = time.perf_counter() - start
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None, "pyinstrument recorded no samples"
    out = analyse(root, commands)
    out.update(
        {
            "commands": commands,
            "history_events": history,
            "wall_s": round(wall, 3),
            "cpu_ms_per_command_unprofiled": round(cpu_ms, 3),
            "sql_per_command": {k: round(v / counted, 2) for k, v in sql.most_common()},
            "sql_total_per_command": round(sum(sql.values()) / counted, 2),
        }
    )
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"profile-commands-{label}.txt").write_text(
            profiler.output_text(unicode=True, show_all=False)
        )
        (RESULTS / f"profile-commands-{label}.html").write_text(profiler.output_html())
        (RESULTS / f"profile-commands-{label}.json").write_text(json.dumps(out, indent=2))
    return out


def print_summary(out: dict[str, Any]) -> None:
    what = f"on a case with {out['history_events']} events" if out["history_events"] else "on fresh cases"
    print(
        f"command path {what}: {out['ms_per_command']} ms per command in-process (profiled, wall), "
        f"{out['cpu_ms_per_command_unprofiled']} ms CPU unprofiled, "
        f"{out['sql_total_per_command']} SQL statements per command"
    )
    for row in out["phases"]:
        print(f"  {row['percent']:5.1f}%  {row['ms_per_command']:7.2f} ms  {row['what']}")
    print("  top self time:")
    for row in out["top_self"][:8]:
        print(f"  {row['percent']:5.1f}%  {row['what']}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = bench_parser(__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--history", type=int, default=0)
    args = parser.parse_args(argv)
    out = profile(min(args.commands, 2000), min(args.history, 5000))
    print_summary(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    log(f"profile written to {RESULTS}")
    return out


if __name__ == "__main__":
    main()
