"""Private network namespaces for distributed load tests, and the counting target that runs in one of them.

`Lab` makes one namespace per role (target, master, workers) plus a hub namespace holding a bridge, joins
each role to the bridge by a veth pair, and gives each an address of one 10.213.X.0/24 subnet that exists
only on those links (nothing is routed anywhere else; loopback is up in every namespace). It tears every
namespace down on exit, killing what still runs in them, even when the test failed. Making a namespace
needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN): `Lab.open` raises `NetnsUnavailable` with the reason otherwise.

`python tests/load/netns.py target --host H --port P [--plant-from A --plant-to B]` serves a sandbox that
counts every bulk-issue answer (per client address) and every code it sent; with --plant-from/--plant-to it
answers one code first issued to a customer of client A again to a customer of client B (a duplicate across
workers). It prints `ready` once listening, `seen <address>` at a client's first load answer (after its
preflight's), and its tally as one JSON line when its stdin closes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Lab", "NetnsUnavailable", "Tally"]

_BRIDGE = "br0"
_LINK = "eth0"


class NetnsUnavailable(Exception):
    """`ip netns` is not allowed here (not root, no CAP_NET_ADMIN, no iproute2)."""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


def _must(*args: str) -> None:
    done = _ip(*args)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class Lab:
    """Namespaces `<prefix>-<role>` on one private bridge; `address[role]` is the role's 10.213.X.Y."""

    roles: Sequence[str]
    prefix: str = field(default_factory=lambda: f"ch{secrets.token_hex(3)}")
    subnet: int = field(default_factory=lambda: secrets.randbelow(256))
    address: dict[str, str] = field(default_factory=dict)
    _made: list[str] = field(default_factory=list)

    def name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def hub(self) -> str:
        return self.name("hub")

    @classmethod
    @contextlib.contextmanager
    def open(cls, roles: Sequence[str]) -> Iterator[Lab]:
        lab = cls(roles)
        try:
            lab._build()
            yield lab
        finally:
            lab.teardown()

    def _add(self, name: str) -> None:
        done = _ip("netns", "add", name)
        if done.returncode != 0:
            raise NetnsUnavailable(f"`ip netns add` is not allowed here: {done.stderr.strip() or done.returncode}")
        self._made.append(name)
        _must("-n", name, "link", "set", "lo", "up")

    def _build(self) -> None:
        if shutil.which("ip") is None:
            raise NetnsUnavailable("no `ip` command (iproute2) on this machine")
        self._add(self.hub)
        _must("-n", self.hub, "link", "add", _BRIDGE, "type", "bridge")
        _must("-n", self.hub, "link", "set", _BRIDGE, "up")
        for index, role in enumerate(self.roles, start=1):
            name = self.name(role)
            self._add(name)
            port = f"v{index}"
            _must("-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", _LINK, "netns", name)
            _must("-n", self.hub, "link", "set", port, "master", _BRIDGE, "up")
            address = f"10.213.{self.subnet}.{index}"
            _must("-n", name, "addr", "add", f"{address}/24", "dev", _LINK)
            _must("-n", name, "link", "set", _LINK, "up")
            self.address[role] = address

    def command(self, role: str, argv: Sequence[str]) -> list[str]:
        """`argv` run inside the role's namespace."""
        return ["ip", "netns", "exec", self.name(role), *argv]

    def pids(self, role: str) -> list[int]:
        done = _ip("netns", "pids", self.name(role))
        return [int(pid) for pid in done.stdout.split()] if done.returncode == 0 else []

    def kill(self, role: str) -> list[int]:
        """SIGKILL every process running in the role's namespace (all started by the test); their ids."""
        killed = self.pids(role)
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def teardown(self) -> None:
        for name in reversed(self._made):
            role = name[len(self.prefix) + 1:]
            self.kill(role)
            _ip("netns", "del", name)  # its veth ends go with it, and the bridge with the hub
        self._made.clear()


#: The requests a worker's preflight sends before its load (the configured valid series, in one request).
PREFLIGHT_REQUESTS = 1


class Tally:
    """A sandbox `mutate` hook: counts answers and codes per client, optionally plants one duplicate."""

    def __init__(self, plant_from: str | None = None, plant_to: str | None = None,
                 on_first: Callable[[str], None] = lambda _: None) -> None:
        self.on_first = on_first
        self.answers: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.plant_from, self.plant_to = plant_from, plant_to
        self.donors: dict[int, tuple[str, str]] = {}  # series -> (code, customer) first issued to plant_from
        self.planted: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __call__(self, answer: Any) -> Any:
        remote = answer.request.remote or "?"
        with self._lock:
            if self.answers[remote] == PREFLIGHT_REQUESTS:
                self.on_first(remote)  # its first load request, after its preflight
            self.answers[remote] += 1
            if answer.status != 200 or not isinstance(answer.body, dict):
                return answer
            request = answer.request_json if isinstance(answer.request_json, dict) else {}
            series_ids = request.get("seriesIds") or []
            customer = str((request.get("customer") or {}).get("id"))
            for index, entity in enumerate(answer.body.get("response", [])):
                result = entity.get("result") if isinstance(entity, dict) else None
                if not isinstance(result, dict) or not result.get("code") or index >= len(series_ids):
                    continue
                series = int(series_ids[index])
                if remote == self.plant_from and series not in self.donors:
                    self.donors[series] = (result["code"], customer)
                elif (remote == self.plant_to and self.planted is None and series in self.donors
                      and self.donors[series][1] != customer):
                    result["code"] = self.donors[series][0]
                    self.planted = {"series": series, "code": result["code"], "from": self.plant_from,
                                    "to": self.plant_to}
                self.codes[remote] += 1
        return answer

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"answers": dict(self.answers), "codes": dict(self.codes), "planted": self.planted}


def _serve_target(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="netns.py target")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plant-from")
    parser.add_argument("--plant-to")
    args = parser.parse_args(argv)
    from coupon_harness.sandbox.server import running_sandbox

    tally = Tally(args.plant_from, args.plant_to, on_first=lambda remote: print(f"seen {remote}", flush=True))
    with running_sandbox(host=args.host, port=args.port, mutate=tally):
        print("ready", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        print(json.dumps(tally.summary()), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["target"]:
        raise SystemExit("usage: netns.py target --host H --port P [--plant-from A --plant-to B]")
    raise SystemExit(_serve_target(sys.argv[2:]))
