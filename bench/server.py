"""A real uvicorn server running bench/app.py in a subprocess on 127.0.0.1 (a free port).

    with BenchServer(bench_env(url, workdir)) as server:
        closed_loop(server.port, ...)

Waits (bounded) for `/health`, stops with SIGTERM (uvicorn's graceful shutdown) and
kills only its own process if that does not end it in time. The server's log goes to
`<workdir>/server-<port>.log`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from bench.common import REPO
from bench.loadgen import LoadResult, RequestSource, closed_loop

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU time of one process (from /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every postgres process on the machine (the server is shared by the run)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += process_cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (a graceful stop), and SIGKILL only if it does not end in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


# A load generator speaks as a few users at thousands of requests a minute: the per-user
# rate limit would then measure itself, not the service.
UNLIMITED_RATE = {"RUSKONTRAKT_RATE_PER_MINUTE": "100000000"}


class BenchServer:
    def __init__(self, env: dict[str, str], workdir: Path | None = None, port: int | None = None) -> None:
        """`port`: listen there (with RUSKONTRAKT_REUSE_PORT, beside another server) instead
        of on a free port of its own."""
        # Only the given RUSKONTRAKT_* settings: nothing leaks in from the caller's shell.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")}
        self.env.update(UNLIMITED_RATE)
        self.env.update(env)
        self.env["PYTHONPATH"] = str(REPO)
        self.workdir = workdir or Path(env.get("RUSKONTRAKT_CHECKPOINT_FILE", "/tmp/x")).parent
        self.fixed_port = port
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BenchServer:
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = self.fixed_port or free_port()
            self.log_path = self.workdir / f"server-{self.port}-{_attempt}-{id(self)}.log"
            with open(self.log_path, "wb") as out:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "bench.app", "--host", "127.0.0.1", "--port", str(self.port)],
                    cwd=REPO,
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            if self._wait_healthy():
                return self
            self.stop()
        raise RuntimeError(f"the benchmark server did not start; see {self.log_path}:\n{self.log_tail()}")

    def _wait_healthy(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as response:
                    # On a shared port the answer may come from the server already there:
                    # this one is up once its own socket listens (uvicorn listens after
                    # the app's start-up), and until then the kernel gives it no connection.
                    if response.status == 200 and (
                        self.fixed_port is None or listening(self.process.pid, self.port)
                    ):
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid) if self.process else 0.0

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def listening(pid: int, port: int) -> bool:
    """Whether process `pid` has a TCP socket listening on `port` (Linux: its socket fds
    against /proc/net/tcp and tcp6)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                    return True  # 0A: LISTEN
    return False


class CpuMeter:
    """CPU cores used by the server, PostgreSQL and this process (the load generator) over a run."""

    def __init__(self, server: BenchServer | None) -> None:
        self.server = server

    def _now(self) -> tuple[float, float, float, float]:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        server = self.server.cpu_seconds() if self.server else 0.0
        return time.perf_counter(), server, postgres_cpu_seconds(), own.ru_utime + own.ru_stime

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        self.cores: dict[str, float] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._now()
        wall = max(end[0] - self._start[0], 1e-9)
        names = ("server", "postgres", "bench_process")
        self.cores = {
            n: round((b - a) / wall, 2) for n, a, b in zip(names, self._start[1:], end[1:], strict=True)
        }
        self.seconds = {n: b - a for n, a, b in zip(names, self._start[1:], end[1:], strict=True)}


def alternating_blocks(
    loads: dict[str, tuple[BenchServer, RequestSource]],
    seconds: float,
    blocks: int,
    connections: int = 4,
    warmed: Callable[[], None] | None = None,
) -> dict[str, tuple[list[LoadResult], float]]:
    """Each load warmed up (pools, caches, the first catch-up), then run in `blocks`
    alternating closed-loop blocks, so a drift in the machine hits every load alike; per
    load its blocks and the server CPU seconds they took. `warmed` runs between the two."""
    for server, source in loads.values():
        closed_loop(server.port, source, connections=connections, duration=2, timeout=60)
    if warmed is not None:
        warmed()
    out: dict[str, tuple[list[LoadResult], float]] = {name: ([], 0.0) for name in loads}
    for _ in range(blocks):
        for name, (server, source) in loads.items():
            with CpuMeter(server) as meter:
                result = closed_loop(server.port, source, connections=connections, duration=seconds / blocks)
            runs, cpu = out[name]
            runs.append(result)
            out[name] = (runs, cpu + meter.cores["server"] * result.duration)
    return out
