"""Where a read's time goes: pyinstrument on `GET /contracts/{id}` and a worklist page.

Runs the real route functions (`get_contract`, `list_contracts` with the bearer token
verified and the worklist parameters as the dependencies give them) on PostgreSQL in
embedded mode (as `ruskontrakt serve` without Kafka, and as bench_reads and
bench_worklist run the server), one read at a time, under pyinstrument (wall clock:
waiting for PostgreSQL shows up as psycopg's `wait`). The HTTP stack itself (uvicorn,
h11, Starlette) is left out: its cost is the no-op GET of bench_reads.

Reports, per path, the time per phase, per layer and the top functions by self time,
the CPU per read (unprofiled) and the SQL statements per read. Writes the full profiles
to bench/results/.

    .venv/bin/python -m bench.profile_reads [--reads 300] [--cases 200]
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from bench import profile_commands
from bench.common import (
    REPO,
    bench_database,
    bench_parser,
    create_active_contracts,
    log,
    offer_contract,
    unit_of,
)
from domain.values import Agency
from infra.api.routers.contract_queries import get_contract, list_contracts
from infra.bootstrap import Container
from services.queries import WorklistQuery

RESULTS = REPO / "bench" / "results"

PHASES: list[tuple[str, str, str | None, str | None]] = [
    ("authenticate (JWT verify, remembered per token)", "TokenService.verify", None, None),
    ("read models made current (embedded: a look at the log's last id)", "Freshness.ensure", None, None),
    ("the stored document read", "ReadModels.view", None, None),
    ("the page's rows read", "ReadModels.rows", None, None),
    ("the case's key (cache, or the key store)", "SubjectKeys.key_for_case", None, "OpenedNames.name"),
    ("the document opened (AES-GCM + JSON)", "open_json", None, "OpenedNames.name"),
    ("the document presented for the agency", "present", None, None),
    ("names opened (or found opened)", "OpenedNames.name", None, None),
    ("access-log entries made durable", "AccessRecorder.shown", None, None),
    ("response rendering (JSON)", "render", None, None),
]


def case_read(c: Container, token: str, ids: list[Any]) -> Callable[[], int]:
    cases = itertools.cycle(ids)

    def run() -> int:
        principal = c.tokens.verify(token)  # what PrincipalDep does
        return get_contract(next(cases), c, principal).status_code

    return run


def worklist_page(c: Container, token: str) -> Callable[[], int]:
    from starlette.datastructures import URL

    class _Request:  # what worklist_response reads of the request: the URL for the Link header
        url = URL("http://bench/contracts?limit=50")

    def run() -> int:
        principal = c.tokens.verify(token)
        return list_contracts(_Request(), WorklistQuery(limit=50), c, principal).status_code  # type: ignore[arg-type]

    return run


def profile_one(label: str, read: Callable[[], int], reads: int, write: bool) -> dict[str, Any]:
    for _ in range(min(50, reads)):  # warm: caches, pools, the first catch-up
        assert read() == 200
    with profile_commands.count_sql() as sql:
        counted = min(50, reads)
        for _ in range(counted):
            read()
    cpu_start = time.process_time()
    for _ in range(reads):
        read()
    cpu_ms = 1000 * (time.process_time() - cpu_start) / reads
    profiler = Profiler(interval=0.001)
    start = time.perf_counter()
    profiler.start()
    for _ in range(reads):
        status = read()
        assert status == 200, status
    profiler.stop()
    wall = time.perf_counter() - start
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None, "pyinstrument recorded no samples"
    saved, profile_commands.PHASES = profile_commands.PHASES, PHASES
    try:
        out = profile_commands.analyse(root, reads)
    finally:
        profile_commands.PHASES = saved
    out = {"ms_per_read" if k == "ms_per_command" else k: v for k, v in out.items()}
    out.update(
        {
            "path": label,
            "reads": reads,
            "wall_s": round(wall, 3),
            "cpu_ms_per_read_unprofiled": round(cpu_ms, 3),
            "sql_per_read": {k: round(v / counted, 2) for k, v in sql.most_common()},
            "sql_total_per_read": round(sum(sql.values()) / counted, 2),
        }
    )
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"profile-reads-{label}.txt").write_text(
            profiler.output_text(unicode=True, show_all=False)
        )
        (RESULTS / f"profile-reads-{label}.json").write_text(json.dumps(out, indent=2))
    return out


def profile(reads: int = 300, cases: int = 200, write: bool = True) -> dict[str, dict[str, Any]]:
    with bench_database("profile_reads") as (_url, _workdir, c):
        ids = create_active_contracts(c, cases // 2)  # read as bench_reads reads them
        [offer_contract(c, n) for n in range(cases, cases + cases // 2)]  # the worklist's offers too
        assert c.projection is not None
        c.projection.catch_up()
        token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD))
        return {
            "case_view": profile_one("case_view", case_read(c, token, ids), reads, write),
            "worklist": profile_one("worklist", worklist_page(c, token), max(reads // 5, 20), write),
        }


def print_summary(out: dict[str, dict[str, Any]]) -> None:
    for label, one in out.items():
        print(
            f"{label}: {one['ms_per_read']} ms per read in-process (profiled, wall), "
            f"{one['cpu_ms_per_read_unprofiled']} ms CPU unprofiled, "
            f"{one['sql_total_per_read']} SQL statements per read {one['sql_per_read']}"
        )
        for row in one["phases"]:
            print(f"  {row['percent']:5.1f}%  {row['ms_per_command']:7.3f} ms  {row['what']}")
        print("  top self time:")
        for row in one["top_self"][:10]:
            print(f"  {row['percent']:5.1f}%  {row['what']}")


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args(argv)
    out = profile(min(args.reads, 5000), min(args.cases, 2000))
    print_summary(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    log(f"profiles written to {RESULTS}")
    return out


if __name__ == "__main__":
    main()
