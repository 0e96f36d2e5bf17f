"""A worker quits on the master's QUIT_MESSAGE (Locust's public register_message/send_message): its users stop,
its last delta ships, then it quits; the master sends it with `send_message`, never through Locust's server.
(The distributed tests run it for real: `test_distributed.py` checks every worker's last delta arrived.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LOAD = Path(__file__).resolve().parents[2] / "src" / "coupon_harness" / "runners" / "load"

# In a process of its own: importing the plugin imports Locust, which monkey-patches the interpreter.
WORKER = """
import sys
import gevent
from coupon_harness.runners.load import plugin
from coupon_harness.runners.load.plugin import QUIT_MESSAGE, LoadState

class Runner:  # what the quit handler may use of Locust's WorkerRunner: register_message, stop, quit
    def __init__(self, state):
        self.state, self.handlers, self.calls = state, {}, []
    def register_message(self, msg_type, listener, concurrent=False):
        self.handlers[msg_type] = (listener, concurrent)
    def stop(self):
        self.calls.append("stop")
        self.state.users_stopped = True  # Locust fires test_stop once the users are gone
    def quit(self):
        self.calls.append(f"quit after the last delta: {self.state.last_delta_shipped}")

class Environment:
    runner = None

environment = Environment()
state = LoadState.__new__(LoadState)  # only the fields the quit handler reads
state.environment, state.users_stopped, state.last_delta_shipped = environment, False, False
runner = Runner(state)
if sys.argv[1] == "runner-first":  # the harness's load process creates the runner after install; plain locust before
    environment.runner = runner
plugin._quit_when_told(state)
environment.runner = runner
gevent.sleep(0.01)
listener, concurrent = runner.handlers[QUIT_MESSAGE]
print("concurrent", concurrent)
quitting = gevent.spawn(listener, environment=environment, msg=None)
gevent.sleep(0.1)
print("before the last report", runner.calls)
state.last_delta_shipped = True  # the worker's next report_to_master, after its users stopped
quitting.join(timeout=5)
print("after it", runner.calls)
"""


@pytest.mark.parametrize("order", ["runner-first", "runner-later"])
def test_a_worker_told_to_quit_ships_its_last_delta_first(order: str) -> None:
    done = subprocess.run([sys.executable, "-c", WORKER, order], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    # Its own greenlet: the message loop keeps answering heartbeats while the users stop.
    assert done.stdout.splitlines() == [
        "concurrent True",
        "before the last report ['stop']",
        "after it ['stop', 'quit after the last delta: True']",
    ], done.stdout + done.stderr


def test_the_master_says_quit_through_send_message_only() -> None:
    source = (LOAD / "process.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert "send_to_client" not in attributes
    # The one read of Locust's server: the port a master given port 0 bound (Locust has no public way to it).
    servers = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "port"
               and isinstance(node.value, ast.Attribute) and node.value.attr == "server"]
    uses = sum(isinstance(node, ast.Attribute) and node.attr == "server" for node in ast.walk(tree))
    assert servers == ["runner.server.port"] and uses == 1, (servers, uses)
    finish = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "_finish")
    assert "send_message(QUIT_MESSAGE" in (ast.get_source_segment(source, finish) or "")
    assert "locust.rpc" not in source
