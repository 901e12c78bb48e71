"""Child processes for the real servers: spawned so they cannot outlive us, stopped in order.

Shared by the control-plane and Prometheus launchers (and the demo), which need the same three
things: a free loopback port, a server that dies with the thread that started it, and a stop that
escalates from SIGTERM to SIGKILL for the server's whole process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

#: Seconds a server gets to exit after SIGTERM before SIGKILL; etcd and Prometheus flush in <1 s.
STOP_TIMEOUT_S = 10.0


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports.

    All sockets are held until every port is chosen, so the ports are distinct. Another process
    can still take one before the server binds it; callers detect "address already in use" and
    retry with new ports.
    """
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def _die_with_parent_prefix() -> list[str]:
    # setpriv (util-linux, essential on Debian) sets PR_SET_PDEATHSIG and then execs the server;
    # the setting survives exec, so the kernel kills the server if the thread that started it
    # dies. Doing the same in a preexec_fn would run Python between fork and exec, which can
    # deadlock when other threads hold locks. Where setpriv is absent, the context managers and
    # atexit are the only cleanup.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig=KILL", "--"] if setpriv else []


def spawn(
    argv: list[str], *, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with output appended to ``log``, in a session of its own.

    A session of its own: Ctrl-C in the terminal reaches only the caller, which then stops the
    servers in order instead of all at once.
    """
    with log.open("ab") as out:
        return subprocess.Popen(
            [*_die_with_parent_prefix(), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def terminate(proc: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM to the process group, SIGKILL after ``timeout``; a no-op if it already exited."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def log_tail(log: Path, lines: int = 30) -> str:
    """The last ``lines`` of a server's log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
