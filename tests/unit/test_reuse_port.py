"""`RUSKONTRAKT_REUSE_PORT`: a second `serve` process can listen on the port of the first."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from infra.bootstrap import build
from infra.serving import _shared_socket
from infra.settings import ConfigurationError
from tests.conftest import settings_for_tests


def test_two_shared_sockets_listen_on_one_port_and_a_plain_one_cannot() -> None:
    first = _shared_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = _shared_socket("127.0.0.1", port)
    try:
        first.listen()
        second.listen()
        assert second.getsockname() == ("127.0.0.1", port)
        plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))  # without SO_REUSEPORT the port is taken
        plain.close()
    finally:
        first.close()
        second.close()


def test_connections_accepted_on_a_shared_socket_send_without_nagle_delays() -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listening socket names
    IPPROTO_TCP; without it every answer waited ~40 ms for the client's delayed ACK."""

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Accept(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Accept, sock=_shared_socket("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) != 0


def test_several_processes_on_one_port_are_refused_in_embedded_mode(tmp_path: Path) -> None:
    settings = settings_for_tests(f"sqlite:///{tmp_path}/x.sqlite", tmp_path, reuse_port=True)
    with pytest.raises(ConfigurationError, match="RUSKONTRAKT_REUSE_PORT needs Kafka mode"):
        build(settings)
