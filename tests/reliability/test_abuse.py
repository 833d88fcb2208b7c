"""Abuse (quality.md reliability 11, issue 14): many open event streams against a real
server. Beyond the bounds the answer is a clear 429 with `Retry-After`; within them the
service keeps answering `/health` within a second and commands go on."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.integration.flows import offer
from tests.reliability.live_server import LiveServer, offer_changes

STREAMS_TOTAL, STREAMS_PER_USER = 120, 4


def _hold_stream(server: LiveServer, sub: str, opened: threading.Semaphore, stop: threading.Event) -> int:
    """Open one stream and keep it open until `stop`; its status code."""
    headers = server.headers("school", sub=sub)
    path = "/streams/school?limit=10000&timeout=120"
    with server.client() as client, client.stream("GET", path, headers=headers) as response:
        opened.release()
        if response.status_code == 200:
            for _ in response.iter_raw():  # pings every 15 s keep this loop turning
                if stop.is_set():
                    break
        return response.status_code


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_streams_beyond_their_bounds_get_429_and_the_service_keeps_answering(tmp_path: Path) -> None:
    server = LiveServer(
        f"sqlite:///{tmp_path}/ruskontrakt.sqlite",
        tmp_path,
        settings={"streams_total": str(STREAMS_TOTAL), "streams_per_user": str(STREAMS_PER_USER)},
    ).start()
    stop, opened = threading.Event(), threading.Semaphore(0)
    users = [f"school-user-{i}" for i in range(STREAMS_TOTAL // STREAMS_PER_USER)]
    try:
        assert server.process is not None
        rss_before = _rss_kib(server.process.pid)
        with ThreadPoolExecutor(STREAMS_TOTAL) as pool:
            held = [
                pool.submit(_hold_stream, server, user, opened, stop)
                for user in users
                for _ in range(STREAMS_PER_USER)
            ]
            for _ in held:
                if not opened.acquire(timeout=60):
                    failed = [f.exception() for f in held if f.done() and f.exception()]
                    raise AssertionError(f"a stream did not open: {failed[:3]}")

            with server.client() as client:
                worst = 0.0
                for _ in range(20):
                    started = time.monotonic()
                    assert client.get("/health").status_code == 200
                    worst = max(worst, time.monotonic() - started)
                assert worst < 1.0, f"/health took {worst:.2f} s with {STREAMS_TOTAL} streams open"
                one_more = client.get(
                    "/streams/school?timeout=1", headers=server.headers("school", sub=users[0])
                )
                assert one_more.status_code == 429 and one_more.headers["Retry-After"], one_more.text
                someone_new = client.get(
                    "/streams/school?timeout=1", headers=server.headers("school", sub="new")
                )
                assert someone_new.status_code == 429, "the total bound holds for a user with none open"
            case = offer(server, **offer_changes())  # commands still go through
            assert case
            assert _rss_kib(server.process.pid) - rss_before < 200 * 1024, "memory stays bounded"
            stop.set()
            statuses = [f.result(timeout=60) for f in held]
        assert statuses == [200] * STREAMS_TOTAL
        # Closed streams free their places.
        deadline = time.monotonic() + 10
        while True:
            again = httpx.get(
                f"{server.url}/streams/school?limit=1&timeout=0.5",
                headers=server.headers("school", sub="new"),
            )
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert again.status_code == 200, again.text
        assert not server.server_errors(), server.log_tail()
    finally:
        stop.set()
        server.stop()
