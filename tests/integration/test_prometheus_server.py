"""The launcher: a real Prometheus starts, stops without orphans and restarts where it was."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sloreco.testing import prometheus as promtest

pytestmark = pytest.mark.integration


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_stopped_server_frees_its_port_and_restarts_on_it(tmp_path: Path) -> None:
    server = promtest.PrometheusServer(tmp_path)
    with server:
        port = server.port
        assert port is not None
        server.stop()
        stopped = (server.running, port_open(port))
        server.start()
        restarted = (server.running, server.port, port_open(port))
    assert ((False, False), (True, port, True), False) == (stopped, restarted, server.running)


def test_missing_binaries_name_the_make_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(promtest.MissingBinaryError, match=r"run `make prometheus-bin`"):
        promtest.find_binaries()


def test_a_taken_port_is_an_error_quoting_the_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = promtest.PrometheusServer(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(promtest.PrometheusError, match="address already in use"):
            server.start()
    assert not server.running
