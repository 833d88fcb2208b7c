"""An asyncio HTTP/1.1 load generator over raw keep-alive sockets (no HTTP client library in
the hot loop), for 127.0.0.1 only.

Two modes:

* closed loop (`closed_loop`): N connections, each sends its next request as soon as the
  previous answer is in, until a duration or a request count is reached. Measures the
  maximum rate.
* open loop (`open_loop`): requests are *scheduled* at a fixed rate, whether or not earlier
  ones have been answered, on a pool of connections. Latency is measured from the
  scheduled send time, so a stalled server shows up as latency instead of silently
  lowering the offered load (no coordinated omission).

Requests come from a callable giving `(method, path, headers, body)`, so each request can
target a different case. `on_response(request, status, body)` is called for every answer
(used to count 2xx per case against the events stored).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Request = tuple[str, str, dict[str, str], bytes]
RequestSource = Callable[[], Request]
OnResponse = Callable[[Request, int, bytes], None]

MAX_REQUESTS = 2_000_000  # hard cap on any run, whatever the duration says
MAX_SECONDS = 120.0


@dataclass
class LoadResult:
    mode: str
    connections: int
    duration: float  # seconds from first send to last answer (or the end of the schedule)
    count: int  # answered requests (any status)
    errors: Counter[str] = field(default_factory=Counter)  # status code or error kind -> count
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests only
    offered_rate: float | None = None  # open loop: the scheduled rate
    late_sends: int = 0  # open loop: sends that waited for a free connection

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def rate(self) -> float:
        """Answered 2xx per second."""
        return self.ok / self.duration if self.duration > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "connections": self.connections,
            "count": self.count,
            "ok": self.ok,
            "errors": dict(self.errors),
            "duration_s": round(self.duration, 3),
            "rate_per_s": round(self.rate, 1),
            "offered_rate_per_s": self.offered_rate,
            "late_sends": self.late_sends,
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p90_ms": round(self.percentile(90) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=float("nan")) * 1000, 2),
        }

    @classmethod
    def combine(cls, parts: list[LoadResult]) -> LoadResult:
        """Several runs of the same load (alternating blocks) as one."""
        out = cls(parts[0].mode, parts[0].connections, sum(p.duration for p in parts), 0)
        for p in parts:
            out.count += p.count
            out.errors.update(p.errors)
            out.statuses.update(p.statuses)
            out.latencies.extend(p.latencies)
            out.late_sends += p.late_sends
        return out

    def text(self) -> str:
        s = self.summary()
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"].items())) or "none"
        return (
            f"{s['mode']}: {s['count']} answers ({s['ok']} 2xx, errors {errors}) in "
            f"{s['duration_s']} s = {s['rate_per_s']}/s; latency p50 {s['p50_ms']} ms, "
            f"p90 {s['p90_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms"
        )


class ProtocolError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, req: Request) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        method, path, headers, body = req
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head.extend(f"{k}: {v}" for k, v in headers.items())
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            return await asyncio.wait_for(self._response(), self.timeout)
        except BaseException:
            self.close()  # a half-read response poisons the connection
            raise

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtocolError(lines[0])
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        chunks = []
        for _ in range(100_000):
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                break
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        return b"".join(chunks)


async def _one(
    conn: Connection, req: Request, result: LoadResult, started: float, on_response: OnResponse | None
) -> None:
    try:
        status, body = await conn.request(req)
    except TimeoutError:
        result.errors["timeout"] += 1
        return
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as e:
        result.errors[type(e).__name__] += 1
        return
    result.latencies.append(time.perf_counter() - started)
    result.count += 1
    result.statuses[status] += 1
    if not 200 <= status < 300:
        result.errors[str(status)] += 1
    if on_response is not None:
        on_response(req, status, body)


async def _closed(
    host: str,
    port: int,
    source: RequestSource,
    connections: int,
    duration: float,
    count: int | None,
    timeout: float,
    on_response: OnResponse | None,
) -> LoadResult:
    result = LoadResult("closed loop", connections, 0.0, 0)
    limit = min(count or MAX_REQUESTS, MAX_REQUESTS)
    sent = 0
    start = time.perf_counter()
    deadline = start + min(duration, MAX_SECONDS)

    async def worker() -> None:
        nonlocal sent
        conn = Connection(host, port, timeout)
        try:
            while sent < limit and time.perf_counter() < deadline:
                sent += 1
                req = source()
                await _one(conn, req, result, time.perf_counter(), on_response)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    result.duration = time.perf_counter() - start
    return result


async def _open(
    host: str,
    port: int,
    source: RequestSource,
    rate: float,
    duration: float,
    connections: int,
    timeout: float,
    on_response: OnResponse | None,
) -> LoadResult:
    duration = min(duration, MAX_SECONDS)
    total = min(int(rate * duration), MAX_REQUESTS)
    result = LoadResult("open loop", connections, 0.0, 0, offered_rate=rate)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port, timeout))
    tasks = []

    async def send(scheduled: float) -> None:
        if pool.empty():
            result.late_sends += 1
        conn = await pool.get()  # waiting for a connection counts as latency: it is from `scheduled`
        try:
            await _one(conn, source(), result, scheduled, on_response)
        finally:
            pool.put_nowait(conn)

    start = time.perf_counter()
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(send(scheduled)))
    _, pending = await asyncio.wait(tasks, timeout=timeout + 5) if tasks else (set(), set())
    for task in pending:
        task.cancel()
        result.errors["unfinished"] += 1
    result.duration = max(time.perf_counter() - start, total / rate)
    while not pool.empty():
        pool.get_nowait().close()
    return result


def closed_loop(
    port: int,
    source: RequestSource,
    connections: int = 8,
    duration: float = 10.0,
    count: int | None = None,
    timeout: float = 30.0,
    host: str = "127.0.0.1",
    on_response: OnResponse | None = None,
) -> LoadResult:
    """As fast as possible on `connections` keep-alive connections, for `duration` s or `count` requests."""
    _loopback(host)
    return asyncio.run(_closed(host, port, source, connections, duration, count, timeout, on_response))


def open_loop(
    port: int,
    source: RequestSource,
    rate: float,
    duration: float = 10.0,
    connections: int = 64,
    timeout: float = 30.0,
    host: str = "127.0.0.1",
    on_response: OnResponse | None = None,
) -> LoadResult:
    """`rate` requests/s for `duration` s, latency from each request's scheduled send time."""
    _loopback(host)
    if rate <= 0:
        raise ValueError("rate must be positive")
    return asyncio.run(_open(host, port, source, rate, duration, connections, timeout, on_response))


def _loopback(host: str) -> None:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only talks to the loopback interface")


def json_post(path: str, body: bytes, token: str) -> Request:
    return ("POST", path, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, body)


def get(path: str, token: str) -> Request:
    return ("GET", path, {"Authorization": f"Bearer {token}"}, b"")
