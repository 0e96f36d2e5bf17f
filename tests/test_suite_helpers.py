"""The suite's own helpers: race-free ports (tests/sockets.py) and children ended with their test
(tests/children.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import warnings

import psutil
import pytest
from tests.children import Children, child_pids, close_ended_pipes, reap_leftovers
from tests.sockets import listening_port, listening_socket, refusing_port

#: A child that binds port 0 itself, prints it, listens, and (with "spawn") starts a grandchild first.
_SERVER = """
import socket, subprocess, sys, time
if "spawn" in sys.argv:
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
s = socket.create_server(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(600)
"""


def test_a_listening_socket_accepts_at_once() -> None:
    with listening_socket() as server, socket.create_connection(server.getsockname(), timeout=5) as client:
        accepted, _ = server.accept()
        client.sendall(b"x")
        assert accepted.recv(1) == b"x"
        accepted.close()
    with pytest.raises(OSError):  # closed with the block
        socket.create_connection(server.getsockname(), timeout=5).close()


def test_a_refusing_port_refuses_and_is_held() -> None:
    with refusing_port() as port:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))  # no one else can take it meanwhile


def test_the_port_a_child_bound_itself_is_read_back(children: Children) -> None:
    child = children.start([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    port = listening_port(child)
    assert child.stdout is not None and int(child.stdout.readline()) == port


def test_a_child_that_ends_without_listening_is_named(children: Children) -> None:
    child = children.start([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(AssertionError, match="exit 3"):
        listening_port(child)


def test_children_are_killed_with_their_group() -> None:
    children = Children()
    child = children.start([sys.executable, "-c", _SERVER, "spawn"], stdout=subprocess.PIPE, text=True)
    listening_port(child)
    grandchildren = psutil.Process(child.pid).children()
    assert grandchildren
    children.close()
    assert child.returncode is not None and child.stdout is not None and child.stdout.closed
    # The group got SIGKILL; a busy kernel may take a moment to end a grandchild (init reaps it, not us).
    _, alive = psutil.wait_procs(grandchildren, timeout=30)
    assert not [g for g in alive if g.is_running() and g.status() != psutil.STATUS_ZOMBIE]


def test_a_child_left_running_is_reaped_without_a_resource_warning() -> None:
    before = child_pids()
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], stdout=subprocess.PIPE)
    assert reap_leftovers(before) == [left.pid]
    assert left.returncode is not None and left.stdout is not None and left.stdout.closed
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        left.__del__()  # what the garbage collector would run: no "still running" warning
    assert reap_leftovers(before) == []


def test_an_ended_process_s_pipes_are_closed_but_a_running_one_s_kept() -> None:
    """What the safety net runs after a failed test: a test that killed its process in `finally` but failed before
    `communicate` left its pipes open, and their ResourceWarning failed whichever test collected them."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ended.wait()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], stdout=subprocess.PIPE)
    try:
        close_ended_pipes()
        assert ended.stdout is not None and ended.stdout.closed and ended.stderr is not None and ended.stderr.closed
        assert running.stdout is not None and not running.stdout.closed
    finally:
        running.kill()
        running.wait()
        close_ended_pipes()
