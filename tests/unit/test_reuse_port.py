"""`RUSKONTRAKT_REUSE_PORT`: a second `serve` process can listen on the port of the first."""

from __future__ import annotations

import socket

import pytest

from infra.serving import _shared_socket


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
