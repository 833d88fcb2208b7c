"""`RUSKONTRAKT_REUSE_PORT`: a second `serve` process can listen on the port of the first."""

from __future__ import annotations

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


def test_several_processes_on_one_port_are_refused_in_embedded_mode(tmp_path: Path) -> None:
    settings = settings_for_tests(f"sqlite:///{tmp_path}/x.sqlite", tmp_path, reuse_port=True)
    with pytest.raises(ConfigurationError, match="RUSKONTRAKT_REUSE_PORT needs Kafka mode"):
        build(settings)
