"""Equal-practice statistics: one table over 20,000 cases vs the same table over 1,000.

quality.md: one table (here `GET /statistics/equal-practice?group_by=municipality&period=2026`
as the county of Trøndelag asks it, through the use case the route calls) with 20,000
cases in the projection costs >= 0.8x the same table with 1,000: a table is computed from
stored counts (cohort cells), never by reading cases, and its suppression pattern is kept
until the counts move on. The counts are what the projection (projections/equal_practice.py)
stores for that many cases spread over Trøndelag's 38 municipalities and 2026's quarters,
written straight into its table (the projection's own write path, `StatisticsWriter.add`).
Also reported: the first table after the counts moved (the suppression computed: its cost
follows the number of small cells, which 1,000 cases have more of than 20,000), and that
first table for `--sparse` cases (200: nearly every cell of the year small, the costliest
pattern to compute; quality.md test 13 attacks such populations).

    .venv/bin/python -m bench.bench_statistics [--seconds 5] [--rounds 3] [--small 1000] [--large 20000]
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, bench_parser, log, report
from domain.municipalities import DEFAULT_REGISTER
from domain.values import Agency
from infra.bootstrap import Container, build
from infra.settings import Settings
from projections.equal_practice import Contributions
from services.context import Context

TABLE = ("municipality", "2026")


def counts_of(cases: int, seed: int = 1) -> Contributions:
    """The cohort counts of `cases` random cases in Trøndelag in 2026."""
    rnd = random.Random(seed)
    numbers = sorted(n for n, m in DEFAULT_REGISTER.municipalities.items() if m.county == "50")
    weights = [1 / (1 + i) for i in range(len(numbers))]  # Trondheim largest, a long tail
    out: Contributions = {}

    def add(q: str, m: str, t: str, measure: str, bucket: int = 0, n: int = 1) -> None:
        key = ("contract", q, m, t, measure, bucket)
        out[key] = out.get(key, 0) + n

    for _ in range(cases):
        m, q = rnd.choices(numbers, weights)[0], f"2026-Q{rnd.randint(1, 4)}"
        if rnd.random() < 0.25:
            add(q, m, "none", "decided")
            add(q, m, "none", "decision:fine")
            add(q, m, "none", "days_offence_to_decision", rnd.randint(10, 60))
            continue
        t = rnd.choice("1223")
        for measure in ("decided", "offered"):
            add(q, m, t, measure)
        add(q, m, t, "days_offence_to_offer", rnd.randint(10, 60))
        if rnd.random() < 0.8:
            add(q, m, t, "accepted")
            add(q, m, t, "days_offer_to_consent", rnd.randint(1, 14))
            add(q, m, t, "started")
            add(q, m, t, "days_consent_to_startup", rnd.randint(5, 40))
            add(q, m, t, "tests", n=rnd.randint(2, 20))
            add(q, m, t, "conversations", n=rnd.randint(1, 10))
            add(q, m, t, "active_days", n=rnd.randint(60, 180))
            if rnd.random() < 0.6:
                add(q, m, t, "completed")
            elif rnd.random() < 0.5:
                add(q, m, t, "terminated")
                add(q, m, t, "terminated:repeated_breaches")
    return out


def container(workdir: Path) -> Container:
    return build(
        Settings(
            database_url=f"sqlite:///{workdir}/statistics.sqlite",
            checkpoint_file=workdir / "checkpoints.jsonl",
            checkpoint_key_file=workdir / "checkpoint-key.pem",
            kafka_bootstrap=None,
        )
    )


def measure(cases: int, seconds: float) -> tuple[float, float, int]:
    """(tables/s with the pattern kept, seconds of the first table, suppressed cells)."""
    with tempfile.TemporaryDirectory() as tmp:
        c = container(Path(tmp))
        try:
            with c.statistics.store.transaction() as tx:  # type: ignore[attr-defined]
                tx.add(counts_of(cases))
            ctx = Context("county-1", Agency.COUNTY, c.clock(), c.rules, c.register, unit="50")
            start = time.perf_counter()
            body: dict[str, Any] = c.statistics.equal_practice(ctx, *TABLE)
            first = time.perf_counter() - start
            assert body["total"]["cells"]["decided"]["value"] == sum(
                n for k, n in counts_of(cases).items() if k[4] == "decided"
            )
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                c.statistics.equal_practice(ctx, *TABLE)
                done += 1
            rate = done / (time.perf_counter() - start)
            suppressed = sum(
                1 for r in body["rows"] for cell in r["cells"].values() if cell.get("suppressed")
            )
            return rate, first, suppressed
        finally:
            c.close()


def main() -> list[Result]:
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--sparse", type=int, default=200)
    args = parser.parse_args()
    small: list[tuple[float, float, int]] = []
    large: list[tuple[float, float, int]] = []
    sparse: list[tuple[float, float, int]] = []
    for i in range(args.rounds):  # alternated, medians compared
        small.append(measure(args.small, args.seconds))
        large.append(measure(args.large, args.seconds))
        sparse.append(measure(args.sparse, 0))
        log(f"round {i + 1}: {small[-1]} vs {large[-1]}; first table of {args.sparse}: {sparse[-1][1]:.2f} s")
    rate_small = statistics.median(r for r, _, _ in small)
    rate_large = statistics.median(r for r, _, _ in large)
    details = (
        f"tables/s per round, {args.small} cases: {[round(r, 1) for r, _, _ in small]}; "
        f"{args.large} cases: {[round(r, 1) for r, _, _ in large]}; first table (suppression computed) "
        f"{[round(f, 2) for _, f, _ in small]} s vs {[round(f, 2) for _, f, _ in large]} s; suppressed cells "
        f"in the table {small[0][2]} vs {large[0][2]}; first table with {args.sparse} cases "
        f"{[round(f, 2) for _, f, _ in sparse]} s ({sparse[0][2]} of its cells suppressed)"
    )
    ratio = rate_large / rate_small
    results = [
        Result(
            "equal-practice statistics, one table (municipality x 2026, county scope), 20,000 cases",
            rate_large,
            "tables/s",
            rate_small,
            f"tables/s with {args.small} cases",
            ratio,
            "≥ 0.8×",
            ratio >= 0.8,
            {"text": details},
        )
    ]
    report(results, args.json)
    return results


if __name__ == "__main__":
    main()
