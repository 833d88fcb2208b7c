"""`ruskontrakt demo` (issue 14, finding 9; each failed before): it reads its own writes
(with Kafka a read without `min_position` found the case not projected yet), it goes to
`RUSKONTRAKT_PORT` unless told `--url`, and a service that is not running is one line and a
non-zero exit, not a traceback."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from typer.testing import CliRunner

from domain.values import Agency
from infra.auth import TokenService
from infra.cli import app
from infra.demo import Client, DemoError, default_url
from infra.settings import Settings

runner = CliRunner()
SETTINGS = Settings(jwt_secret="demo-test-secret-that-is-long-enough-for-hs256", kafka_bootstrap=None)


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_read_after_a_command_waits_for_that_commands_position_on_its_track() -> None:
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            position = "41" if request.url.path.startswith("/prevention-cases") else "7"
            return httpx.Response(200, json={"id": "c1"}, headers={"X-Position": position})
        return httpx.Response(200, json={"id": "c1", "residence_municipality": "5001"})

    client = Client("http://demo.test", TokenService(SETTINGS), transport=httpx.MockTransport(service))
    client.get(Agency.KONFLIKTRAD, "/contracts/c1")
    assert "X-Min-Position" not in seen[-1].headers, "nothing written yet"
    client.post(Agency.KONFLIKTRAD, "/contracts/c1/startup-meeting", {})
    client.post(Agency.POLICE, "/prevention-cases", {})
    assert client.get(Agency.KONFLIKTRAD, "/contracts/c1")["residence_municipality"] == "5001"
    assert seen[-1].headers["X-Min-Position"] == "7", "the contract track's position, not prevention's"
    client.get(Agency.POLICE, "/prevention-cases/p1")
    assert seen[-1].headers["X-Min-Position"] == "41"


def test_a_refused_command_is_one_line_with_the_problem() -> None:
    problem = {"title": "Not permitted", "detail": "konfliktrad may not\n do this"}

    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=json.dumps(problem), headers={"content-type": "application/json"})

    client = Client("http://demo.test", TokenService(SETTINGS), transport=httpx.MockTransport(service))
    with pytest.raises(DemoError) as refused:
        client.post(Agency.KONFLIKTRAD, "/contracts", {})
    assert str(refused.value) == "konfliktrad POST /contracts: 403 Not permitted: konfliktrad may not do this"


def test_the_default_url_is_where_serve_listens_with_the_same_settings() -> None:
    assert default_url(Settings(port=8123)) == "http://127.0.0.1:8123"
    assert default_url(Settings(host="0.0.0.0", port=9000)) == "http://127.0.0.1:9000"
    assert default_url(Settings(host="::", port=9000)) == "http://[::1]:9000"
    assert default_url(Settings(host="rk.internal", port=80)) == "http://rk.internal:80"


def test_demo_without_a_running_service_is_one_line_naming_the_port_and_exit_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"RUSKONTRAKT_{name.upper()}", raising=False)
    port = _unused_port()
    monkeypatch.setenv("RUSKONTRAKT_PORT", str(port))
    monkeypatch.setenv("RUSKONTRAKT_JWT_SECRET", SETTINGS.jwt_secret or "")
    monkeypatch.setenv("RUSKONTRAKT_LOG_LEVEL", "ERROR")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert f"no service answers at http://127.0.0.1:{port}" in result.output
