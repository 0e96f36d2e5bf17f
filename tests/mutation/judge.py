"""The judge of a sandbox mutant: the default contract run against the (mutated) sandbox, with a fixed seed.

One run per credential form the sandbox accepts, each the run a user with those credentials makes
(default passes, default max_examples, seed SEED): plain Basic (what `contract` uses against a sandbox),
Basic with the md5 hex of the password (as Capillary tills send it) and an OAuth token. The forms differ
only in `identify`'s branches and the token endpoint, so a mutant there can be seen by one form only
(mutant_judge.py gives mutants of issuer.py and codes.py, which never see the credentials, the basic run
alone). A mutant is killed when one of its runs fails.

The series come from the unmutated config (`sandbox_info`), not from the mutant's GET /sandbox/info: a
real target is told its series by flags, and the route is no part of the contract.

Used by `mutant_judge.py` (the tests mutmut runs per mutant, scripts/mutation_score.py) and by
`test_fixed_mutants.py` (CI's fixed mutants, in-process).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.contract_cmd import exit_code
from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.errors import HarnessError, one_line
from coupon_harness.runners.contract import PASSES, ContractSettings, run_contract
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.sandbox.config import SandboxConfig, default_config
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import Credentials

__all__ = ["FORMS", "SANDBOX_SEED", "SEED", "Verdict", "judge", "sandbox_config"]

#: The contract run's seed (the examples it draws) and the sandbox's (the codes it hands out).
SEED = 1
SANDBOX_SEED = 1
#: The credential forms the sandbox accepts, in the order they are tried.
FORMS = ("basic", "basic-md5", "oauth")


@dataclass(slots=True)
class Verdict:
    """How one run ended. `exit_code` as the CLI's (0 holds, 1 violated, 2 refused or a harness fault), None when
    the sandbox did not start; `outcome`: holds, violated, refused, harness-fault or no-start."""

    form: str
    exit_code: int | None
    outcome: str
    #: The failed rules (id: first finding's key and probe), the refusal's line, or the start error.
    reasons: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        """A harness fault with no failed rule is the harness's bug, not a detection."""
        return self.outcome in ("violated", "refused", "no-start")

    def write(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.{self.form}.json").write_text(json.dumps(asdict(self)), encoding="utf-8")


def sandbox_config() -> SandboxConfig:
    return replace(default_config(), seed=SANDBOX_SEED)


def _settings(base_url: str, config: SandboxConfig, form: str) -> ContractSettings:
    user, password = next(iter(config.users.items()))
    if form == "basic":
        credentials = Credentials(user=user, password=password)
    elif form == "basic-md5":
        credentials = Credentials(user=user, password=password, md5_password=True)
    else:
        key, secret = next(iter(config.oauth_clients.items()))
        credentials = Credentials(oauth_key=key, oauth_secret=secret)
    settings = ContractSettings(base_url=base_url, seed=SEED, passes=PASSES, credentials=credentials)
    return sandbox_settings(settings, sandbox_info(config))


@contextlib.contextmanager
def _stop_at_first_failure() -> Iterator[None]:
    """Stop the run once a finding fails the gate: findings are never withdrawn (no baseline here), so the
    verdict is already the full run's; the rest of the run only adds findings."""
    original: Callable[..., None] = Collector.record

    def record(self: Collector, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.first_finding is not None and self.stopped is None:
            self.stopped = "a finding failed the gate (mutation judge)"

    Collector.record = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        Collector.record = original  # type: ignore[method-assign]


def judge(form: str = "basic", *, stop_at_first_failure: bool = False) -> Verdict:
    """One default contract run against a fresh sandbox built from the modules as they are now (mutated or not).

    A sandbox that does not start (its config or app raises) is judged as a user would see it: the same run
    against its address, where nothing listens; the harness's exit-2 line is the reason."""
    started = time.monotonic()
    try:
        config = sandbox_config()
        serving = running_sandbox(config)
        sandbox = serving.__enter__()
    except Exception as exc:  # a mutant that breaks the sandbox's start
        crash = f"the sandbox did not start ({type(exc).__name__}: {one_line(str(exc))[:200]})"
        return Verdict(form, 2, "no-start", [crash, _nothing_listening(form)], seconds=time.monotonic() - started)
    try:
        settings = _settings(sandbox.base_url, config, form)
        with _stop_at_first_failure() if stop_at_first_failure else contextlib.nullcontext():
            try:
                result = run_contract(settings)
            except HarnessError as exc:  # the CLI's exit 2, with its one line
                return Verdict(form, 2, "refused", [one_line(str(exc))], seconds=time.monotonic() - started)
    finally:
        serving.__exit__(None, None, None)
    code = exit_code(result)
    reasons = [f"{item.rule.id}: {item.findings[0].key} ({item.findings[0].probe_class or item.findings[0].source})"
               for item in result.failed]
    reasons += [f"harness fault in {fault.stage}: {one_line(fault.error)}" for fault in result.faults]
    outcome = "violated" if result.failed else "harness-fault" if result.faults else "holds"
    return Verdict(form, code, outcome, reasons, result.requests, round(time.monotonic() - started, 2))


def _nothing_listening(form: str) -> str:
    """What a contract run says against an address where nothing listens (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ContractSettings(base_url=f"http://127.0.0.1:{port}", seed=SEED, passes=PASSES,
                                credentials=Credentials(user="sandbox", password="sandbox"))
    try:
        run_contract(settings)
    except HarnessError as exc:
        return f"{form}: {one_line(str(exc))}"
    return f"{form}: the run against nothing listening did not stop (harness bug)"
