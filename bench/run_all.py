"""Run every benchmark, each in its own process, and write BENCHMARKS.md.

    .venv/bin/python -m bench.run_all [--only bench_commands ...] [--no-write] [--render]

Each script prints its summary lines as it goes; the result dicts come back through
`--json` files. The hand-written interpretation in BENCHMARKS.md (between the
`analysis:start` / `analysis:end` markers) is kept across runs; everything else is
regenerated from the figures of this run. Raw results: bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import REPO, pg_sh, pg_up
from bench.stream_details import stream_details

RESULTS = REPO / "bench" / "results"
OUTPUT = REPO / "BENCHMARKS.md"
SCRIPT_TIMEOUT = 170.0  # each is meant to take < 120 s; this only stops a hung one
# Scripts that build a large store first (20,000 cases through the application) get longer.
LONG_SCRIPTS = {"bench_worklist": 900.0, "bench_pipeline_latency": 300.0}
SCRIPTS: list[tuple[str, list[str]]] = [
    ("bench_commands", ["-m", "bench.bench_commands"]),
    ("bench_audit_replay", ["-m", "bench.bench_audit_replay"]),
    ("bench_long_case", ["-m", "bench.bench_long_case"]),
    ("bench_key_cache", ["-m", "bench.bench_key_cache"]),
    ("bench_reads", ["-m", "bench.bench_reads"]),
    ("bench_relay", ["-m", "bench.bench_relay"]),
    ("bench_rebuild", ["-m", "bench.bench_rebuild"]),
    ("bench_pipeline_latency", ["-m", "bench.bench_pipeline_latency"]),
    ("bench_two_processes", ["-m", "bench.bench_two_processes"]),
    ("bench_worklist", ["-m", "bench.bench_worklist"]),
    ("bench_statistics", ["-m", "bench.bench_statistics"]),
    ("profile_fresh", ["-m", "bench.profile_commands", "--commands", "300"]),
    ("profile_history", ["-m", "bench.profile_commands", "--history", "1000", "--commands", "30"]),
    ("profile_reads", ["-m", "bench.profile_reads"]),
]
ANALYSIS_START, ANALYSIS_END = "<!-- analysis:start -->", "<!-- analysis:end -->"


# ---------------------------------------------------------------- machine


def _sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=REPO).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _os() -> str:
    pretty = "Linux"
    release = Path("/etc/os-release")
    if release.exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]*)', release.read_text(), re.M)
        pretty = match.group(1) if match else pretty
    return f"{pretty}, kernel {platform.release()}"


def _postgres() -> dict[str, str]:
    import psycopg

    url = pg_sh("url", check=False).stdout.strip()  # the benchmarks' own (durable) cluster
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            out = {"version": str(conn.execute("SHOW server_version").fetchone()[0])}  # type: ignore[index]
            for name in (
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "shared_buffers",
                "max_connections",
            ):
                out[name] = str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            return out
    except Exception as error:
        return {"version": f"unknown ({type(error).__name__})"}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    packages = [
        "eventsourcing",
        "fastapi",
        "starlette",
        "uvicorn",
        "h11",
        "httptools",
        "uvloop",
        "pydantic",
        "psycopg",
        "psycopg-pool",
        "cryptography",
        "python-statemachine",
        "PyJWT",
        "pyinstrument",
        "kafka-python",
        "crc32c",
    ]
    head = _sh("git", "rev-parse", "--short", "HEAD")
    dirty = len([line for line in _sh("git", "status", "--porcelain").splitlines() if line.strip()])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": _sh("nproc") or str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": _ram(),
        "os": _os(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgres": _postgres(),
        "packages": {p: _version(p) for p in packages},
        "git": f"{head} ({dirty} files changed in the working tree)" if dirty else head,
    }


# ---------------------------------------------------------------- running


def run_script(name: str, args: list[str], workdir: Path) -> dict[str, Any]:
    out = workdir / f"{name}.json"
    print(f"\n=== {name}: {' '.join(['python', *args])}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args, "--json", str(out)], cwd=REPO, start_new_session=True)
    try:
        code = process.wait(LONG_SCRIPTS.get(name, SCRIPT_TIMEOUT))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the script's own process group: it and its server
        process.wait(10)
        code = -9
    took = time.perf_counter() - start
    data = json.loads(out.read_text()) if out.exists() else None
    status = "ok" if code == 0 and data is not None else f"failed (exit {code})"
    over = took > 120 and name not in LONG_SCRIPTS
    print(f"=== {name}: {status} in {took:.0f} s" + ("  (OVER the 2-minute budget)" if over else ""))
    return {
        "name": name,
        "command": " ".join([".venv/bin/python", *args]),
        "seconds": round(took, 1),
        "status": status,
        "data": data,
    }


# ---------------------------------------------------------------- BENCHMARKS.md


def _n(value: float) -> str:
    if value != value:  # NaN
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _verdict(met: bool | None) -> str:
    return "info" if met is None else ("**met**" if met else "**missed**")


def results_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| metric | measured | baseline (same run) | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run["name"].startswith("profile"):
            continue
        if run["data"] is None:
            lines.append(f"| {run['name']} | – | – | – | – | **did not run: {run['status']}** |")
            continue
        for r in run["data"]:
            lines.append(
                f"| {r['metric']} | {_n(r['value'])} {r['unit']} | {_n(r['baseline'])} "
                f"{r['baseline_unit']} | {r['ratio']:.2f}× | {r['target']} | "
                f"{_verdict(r['met'])} |"
            )
    return lines


def command_details(run: dict[str, Any]) -> list[str]:
    if not run["data"]:
        return []
    d = run["data"][0]["details"]
    lines = [
        "### Commands through the API (bench_commands)",
        "",
        f"{d['cases']} active contracts, `POST /contracts/{{id}}/meetings` as konfliktrad "
        f"round-robin over them, {d['connections']} keep-alive connections for the closed loops, "
        f"{d['seconds']:g} s per phase, one uvicorn process (as `ruskontrakt serve`) in Kafka mode: "
        "it commits and answers; the relay and projector (their own metrics below) do not run "
        "during the phases. The second baseline is the same server and load saving as "
        "`Application.save()` does with eventsourcing's own PostgreSQL insert, one transaction "
        "per command (`RUSKONTRAKT_PG_INSERT_FUNCTION=0 RUSKONTRAKT_GROUP_COMMIT=0`); the phase "
        "with only `RUSKONTRAKT_GROUP_COMMIT=0` shows what group commit adds to this project's "
        "insert. "
        "CPU is in cores (2 = both cores busy) for the server process, all PostgreSQL processes "
        "and the load generator; the last column is the server's CPU per answer.",
        "",
        "| phase | 2xx | errors | rate/s | p50 ms | p90 ms | p99 ms | max ms | CPU server / PG / bench "
        "| server CPU ms/answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in d["phases"].values():
        cpu = phase.get("cpu_cores", {})
        errors = ", ".join(f"{k}: {v}" for k, v in phase.get("errors", {}).items()) or "0"
        lines.append(
            f"| {phase['name']} | {phase.get('ok', '–')} | {errors} | {phase['rate_per_s']} | "
            f"{phase.get('p50_ms', '–')} | {phase.get('p90_ms', '–')} | "
            f"{phase.get('p99_ms', '–')} | "
            f"{phase.get('max_ms', '–')} | {cpu.get('server', '–')} / {cpu.get('postgres', '–')} / "
            f"{cpu.get('bench_process', '–')} | {phase.get('server_cpu_ms_per_answer', '–')} |"
        )
    check = d["events_check"]
    verdict = "nothing lost or duplicated" if check["ok"] else "**EVENTS CHECK FAILED**"
    projection = check.get("projection", {})
    lines += [
        "",
        f"Events check after the run: {check['acknowledged']} acknowledged commands on "
        f"{check['cases']} cases; lost {check['lost']}, duplicated {check['duplicated']}, cases with "
        f"version gaps {check['cases_with_version_gaps']}; the projector (as `ruskontrakt project`) "
        f"then applied {projection.get('applied', '–')} of {projection.get('events', '–')} stored "
        f"events, {projection.get('cases_not_at_stored_version', '–')} cases short of their stored "
        f"version: {verdict}.",
        "",
    ]
    return lines


def other_details(runs: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    audit = runs.get("bench_audit_replay", {}).get("data")
    if audit:
        d = audit[0]["details"]
        lines += [
            "### Audit replay (bench_audit_replay)",
            "",
            f"One case of {d['events']} events (activation, then meetings); `history()` and "
            f"read+decode alternated {d['rounds']} rounds, medians compared. Seconds per round: "
            f"history {d['seconds']['history']}, decode {d['seconds']['decode']}.",
            "",
        ]
    long_case = runs.get("bench_long_case", {}).get("data")
    if long_case:
        lines += [
            "### Long case (bench_long_case)",
            "",
            "| path | long case: commands, s, rate/s | fresh cases: commands, s, rate/s |",
            "|---|---|---|",
        ]
        for r in long_case:
            d = r["details"]
            lines.append(
                f"| {r['metric'].split(', ', 1)[1]} | {d['long']['commands']}, "
                f"{d['long']['seconds']}, "
                f"{d['long']['rate_per_s']} | {d['fresh']['commands']}, {d['fresh']['seconds']}, "
                f"{d['fresh']['rate_per_s']} |"
            )
        lines += [
            "",
            f"Long cases ended at versions {long_case[0]['details']['long_case_versions_at_end']}.",
            "",
        ]
    keys = runs.get("bench_key_cache", {}).get("data")
    if keys:
        http = keys[0]["details"]
        lines += [
            "### Key cache (bench_key_cache)",
            "",
            f"`GET /contracts/{{id}}`, 4 connections: with the cache {http['cached']['rate_per_s']}/s "
            f"(p99 {http['cached']['p99_ms']} ms), without {http['uncached']['rate_per_s']}/s "
            f"(p99 {http['uncached']['p99_ms']} ms). `records()` of 20-event cases: "
            f"{keys[1]['details']['cached']['rate_per_s']}/s vs "
            f"{keys[1]['details']['uncached']['rate_per_s']}/s.",
            "",
        ]
    return lines


def read_details(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Case reads and worklist pages against their no-op GETs (issue 20, issue 16)."""
    lines: list[str] = []
    reads = runs.get("bench_reads", {}).get("data")
    if reads:
        d = reads[0]["details"]
        lines += [
            "### Case reads (bench_reads)",
            "",
            "`GET /contracts/{id}` as konfliktrad round-robin over active contracts, against "
            "`GET /bench/noop/contracts/{id}` (the same authentication, rate limiter, middleware "
            "and path parsing, no query), 4 connections, one uvicorn process in embedded mode, "
            "the two loads in alternating blocks. Server CPU per request from /proc.",
            "",
            "| load | 2xx | rate/s (blocks) | p50 ms | p99 ms | server cores | server CPU ms/request |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, label in (("read", "GET /contracts/{id}"), ("noop", "no-op GET")):
            x = d[name]
            lines.append(
                f"| {label} | {x['ok']} | {x['rate_per_s']} ({', '.join(map(str, x['blocks_rate_per_s']))}) "
                f"| {x['p50_ms']} | {x['p99_ms']} | {x['server_cpu_cores']} | "
                f"{x['server_cpu_ms_per_request']} |"
            )
        lines += [
            "",
            f"Access-log entries written by the reads: {d['read']['access_log_entries']} for "
            f"{d['read']['ok']} answered reads"
            + (" (every read logged)." if d["read"]["every_read_logged"] else " (**READS MISSING**)."),
            "",
        ]
    worklist = runs.get("bench_worklist", {}).get("data")
    if worklist:
        figures = worklist[0]["details"]
        lines += [
            "### Worklist pages (bench_worklist)",
            "",
            "`GET /contracts?limit=50` as the konfliktrad unit that sees every case (offers in one "
            "municipality, deadlines over two months), from random cursors, against the no-op "
            "`GET /bench/noop/contracts?limit=50`; 4 connections, embedded mode, alternating blocks.",
            "",
            "| cases in the store | pages/s | p50 ms | p99 ms | no-op GET/s | server CPU ms/page, /no-op |",
            "|---|---|---|---|---|---|",
        ]
        for size, f in sorted(figures.items(), key=lambda kv: int(kv[0])):
            cpu = ", ".join(str(f[n].get("server_cpu_ms_per_request", "–")) for n in ("page", "noop"))
            lines.append(
                f"| {int(size):,} | {f['page']['rate_per_s']} | {f['page']['p50_ms']} | "
                f"{f['page']['p99_ms']} | {f['noop']['rate_per_s']} | {cpu} |"
            )
        scheduler = next((f["scheduler"] for f in figures.values() if "scheduler" in f), None)
        if scheduler:
            lines += [
                "",
                f"Scheduler over the larger store: a pass with nothing due "
                f"{scheduler['idle_pass_seconds']} s; each deadline it records "
                f"{scheduler['seconds_per_deadline_recorded']} s.",
            ]
        lines.append("")
    return lines


def read_profile_section(runs: dict[str, dict[str, Any]]) -> list[str]:
    data = runs.get("profile_reads", {}).get("data")
    if not data:
        return []
    lines = [
        "### Reads (profile_reads)",
        "",
        "The real route functions of `GET /contracts/{id}` and `GET /contracts?limit=50` "
        "in-process, sequential, embedded mode on PostgreSQL, under pyinstrument; CPU per read "
        "measured unprofiled. Full trees: `bench/results/profile-reads-*.txt`.",
        "",
    ]
    for key, title in (("case_view", "Case read"), ("worklist", "Worklist page (50 rows)")):
        one = data.get(key)
        if not one:
            continue
        sql = ", ".join(f"{v:g} {k}" for k, v in one["sql_per_read"].items())
        lines += [
            f"#### {title}: {one['ms_per_read']} ms per read under the profiler, "
            f"{one['cpu_ms_per_read_unprofiled']} ms CPU unprofiled, "
            f"{one['sql_total_per_read']:g} SQL statements ({sql})",
            "",
            "| phase (phases may nest) | % | ms/read |",
            "|---|---|---|",
        ]
        lines += [f"| {p['what']} | {p['percent']} | {p['ms_per_command']:.3f} |" for p in one["phases"]]
        lines += ["", "| top functions by self time | % |", "|---|---|"]
        lines += [f"| `{p['what']}` | {p['percent']} |" for p in one["top_self"][:8]]
        lines.append("")
    return lines


def profile_section(runs: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "## Where the time goes",
        "",
        "pyinstrument (wall clock, 1 ms interval) on the command path in-process: the real route "
        "function of `POST /contracts/{id}/meetings` with the token verified and the body validated "
        "as the dependencies do, sequential, on PostgreSQL. Not in it: the HTTP stack (uvicorn, h11, "
        "Starlette), whose cost is the no-op POST above. Full trees: "
        "`bench/results/profile-commands-*.txt` and `.html`.",
        "",
    ]
    for key, title in (("profile_fresh", "fresh cases"), ("profile_history", "a case with 1,000 events")):
        data = runs.get(key, {}).get("data")
        if not data:
            lines += [f"(profile on {title}: did not run)", ""]
            continue
        sql = ", ".join(f"{v:g} {k}" for k, v in data["sql_per_command"].items())
        lines += [
            f"### Command on {title}: {data['ms_per_command']} ms per command under the profiler, "
            f"{data['sql_total_per_command']:g} SQL statements ({sql})",
            "",
            "| phase of the command | % | ms/command |",
            "|---|---|---|",
        ]
        lines += [f"| {p['what']} | {p['percent']} | {p['ms_per_command']:.2f} |" for p in data["phases"]]
        lines += ["", "| layer (self time by file) | % | ms/command |", "|---|---|---|"]
        lines += [f"| {p['what']} | {p['percent']} | {p['ms_per_command']:.2f} |" for p in data["layers"][:8]]
        lines += ["", "| top functions by self time | % |", "|---|---|"]
        lines += [f"| `{p['what']}` | {p['percent']} |" for p in data["top_self"][:8]]
        lines.append("")
    return lines


def machine_section(m: dict[str, Any]) -> list[str]:
    pg = m["postgres"]
    pg_text = f"PostgreSQL {pg.get('version')}" + (
        f" (the benchmarks' cluster, `infra/db/pg.sh` with RUSKONTRAKT_PG_DURABLE=1: "
        f"fsync={pg.get('fsync')}, synchronous_commit="
        f"{pg.get('synchronous_commit')}, full_page_writes={pg.get('full_page_writes')}, shared_buffers="
        f"{pg.get('shared_buffers')})"
        if "fsync" in pg
        else ""
    )
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return [
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m['date']} |",
        f"| nproc | {m['nproc']} |",
        f"| CPU | {m['cpu']} |",
        f"| RAM | {m['ram']} |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| database | {pg_text} |",
        f"| packages | {packages} |",
        f"| code | git {m['git']} |",
        "",
        "Server, PostgreSQL, Kafka, the relay/projector (where a benchmark runs them) and the load "
        "generator share these cores. The benchmarks run on their own PostgreSQL cluster, which "
        'flushes the WAL on every commit ("durable" means on disk); the tests\' cluster does not.',
        "",
    ]


def render(m: dict[str, Any], runs: list[dict[str, Any]], analysis: str) -> str:
    by_name = {r["name"]: r for r in runs}
    timing = ", ".join(f"{r['name']} {r['seconds']:g} s" for r in runs)
    lines = [
        "# Benchmarks",
        "",
        "Every figure is a ratio against a baseline measured **in the same run on the same machine** "
        '(spec `quality.md`, "Performance: benchmarks, not timed tests"). '
        "Generated by `bench/run_all.py`; do not edit by hand except between the analysis markers.",
        "",
        "Run: `make bench` (PostgreSQL and Kafka started by the project's scripts; or "
        "`.venv/bin/python -m bench.run_all`; each script also runs "
        "alone, e.g. `.venv/bin/python -m bench.bench_commands`; all take `--help`).",
        "",
        f"This run: {m['date']}; time per script: {timing}.",
        "",
    ]
    lines += machine_section(m)
    lines += ["## Results", "", *results_table(runs), ""]
    lines += ["## Details", "", *command_details(by_name.get("bench_commands", {"data": None}))]
    lines += other_details(by_name)
    lines += read_details(by_name)
    lines += stream_details(by_name)
    lines += profile_section(by_name)
    lines += read_profile_section(by_name)
    lines += ["## Interpretation", "", ANALYSIS_START, analysis.strip("\n"), ANALYSIS_END, ""]
    return "\n".join(lines)


def previous_analysis() -> str:
    if OUTPUT.exists():
        text = OUTPUT.read_text()
        if ANALYSIS_START in text and ANALYSIS_END in text:
            return text.split(ANALYSIS_START, 1)[1].split(ANALYSIS_END, 1)[0]
    return "\n(Not written yet: read the profile above and say what limits throughput.)\n"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=[name for name, _ in SCRIPTS])
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: rewrite BENCHMARKS.md from "
        "bench/results/latest.json (after a change to the generated text)",
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads((RESULTS / "latest.json").read_text())
        OUTPUT.write_text(render(saved["machine"], saved["runs"], previous_analysis()))
        return list(saved["runs"])
    if importlib.util.find_spec("pyinstrument") is None:
        raise SystemExit("pyinstrument is missing: .venv/bin/pip install pyinstrument")
    pg_up()
    m = machine()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-run-all-") as tmp:
        for name, script in SCRIPTS:
            if not args.only or name in args.only:
                runs.append(run_script(name, script, Path(tmp)))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({"machine": m, "runs": runs}, indent=2, default=str))
    print("\n=== summary")
    for run in runs:
        for r in run["data"] if run["data"] and isinstance(run["data"], list) else []:
            print(r["line"])
    if not args.no_write and not args.only:
        OUTPUT.write_text(render(m, runs, previous_analysis()))
        print(f"wrote {OUTPUT}")
    return runs


if __name__ == "__main__":
    main()
