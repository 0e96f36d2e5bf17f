"""Redaction as a property: every command that talks to a target (`contract`, `run --base-url`, `load`), with
every way of giving credentials (Basic plain and md5, OAuth key/secret, URL userinfo), against a target that
echoes the credentials back in every form a server might: plain, `user:password` and its base64, the md5 form,
the OAuth key, secret and each token as it is refreshed, URL userinfo, JSON-escaped with `\\/`, URL-encoded,
across the report's 300-character excerpt cut, inside a violation's received text, inside coupon codes and in
a response header. No byte of any form reaches stdout, stderr or any file under the report folder.

`test_no_form_of_a_credential_leaves_the_process` covers what the CLI's own process prints and writes;
`test_load_process_outputs_carry_no_secret` what the load process (a child of the CLI) writes: coupons.csv,
locust_stats.json, and the violation examples and notes it hands back in its result.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest

from coupon_harness.cli import load_cmd, run_cmd
from coupon_harness.cli.main import main
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.auth import TOKEN_HEADER
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox

USER, PASSWORD = "till01", "Hunter2/pw+ö"
OAUTH_KEY, OAUTH_SECRET = "cap-key-Q7/zx", "s3cr3t/oauth+ü"
PLAIN_HEADER = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
MD5_HEADER = base64.b64encode(f"{USER}:{MD5}".encode()).decode()
#: Child files of the load process (written there, not by the CLI's process).
LOAD_PROCESS_FILES = frozenset({"coupons.csv", "locust_stats.json"})
#: Characters of a long secret that, found anywhere, are a leak (of a secret cut short).
CUT_PREFIX = 12
#: Short token lifetime: the harness refreshes its token several times in a run, and each one is echoed.
TOKEN_TTL_S = 1.0


def _forms(secret: str) -> set[str]:
    """Every form of `secret` the test greps for (the ones a target may echo it in)."""
    found = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    for ascii_only in (False, True):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        found.update({escaped, escaped.replace("/", "\\/")})
    return found


@dataclass
class Echo:
    """The echoing target's mutate hook. Remembers every token it was sent (the harness refreshes them) and
    in which stage: "contract" tokens are fetched by the CLI's process, "load" ones by the load process."""

    kind: str
    stage: str = "contract"
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def secrets(self, *, load_tokens: bool = True) -> list[str]:
        """Every secret the run holds or was given, in every form; longest first. Without `load_tokens`,
        only the tokens the CLI's own process fetched (the only ones it can know and redact)."""
        with self.lock:
            tokens = {token for token, stage in self.tokens.items() if load_tokens or stage != "load"}
            others = {token for token in self.tokens if token not in tokens}
        forms = self._all_forms(tokens)
        # The start of a long form: a secret cut where a text is shortened still leaks that much. Tokens share
        # their start (the JWT header, the payload's "sub"): one that is also the start of a token out of
        # scope identifies none.
        foreign = {form[:CUT_PREFIX] for form in self._all_forms(others) - forms}
        forms |= {form[:CUT_PREFIX] for form in forms if len(form) >= 2 * CUT_PREFIX} - foreign
        return sorted(forms, key=len, reverse=True)

    def _all_forms(self, tokens: set[str]) -> set[str]:
        if self.kind == "oauth":
            # A token's payload and signature alone: what is left of a token cut short ("eyJhbGci…").
            raw = {OAUTH_KEY, OAUTH_SECRET, *tokens, *(part for token in tokens for part in token.split(".")[1:])}
        else:
            raw = {PASSWORD, f"{USER}:{PASSWORD}", PLAIN_HEADER, MD5, f"{USER}:{MD5}", MD5_HEADER}
        return {form for secret in raw for form in _forms(secret)}

    def _echoed(self, answer: Answer) -> str:
        """What this request authenticated with, as a careless server would log it back."""
        headers = answer.request.headers
        token = headers.get(TOKEN_HEADER)
        if token is not None:
            if answer.status != 401:  # a token the sandbox issued (the auth pass also sends made-up ones)
                with self.lock:
                    self.tokens.setdefault(token, self.stage)
            return f"{token} {OAUTH_KEY}:{OAUTH_SECRET} {OAUTH_SECRET}"
        basic = headers.get("Authorization", "").removeprefix("Basic ")
        return f"{basic} {USER}:{PASSWORD} {PASSWORD} {MD5} http://{USER}:{quote(PASSWORD, safe='')}@example.com/"

    def __call__(self, answer: Answer) -> Answer:
        echoed = self._echoed(answer)
        header = {"X-Echo": quote(echoed, safe=" :/@")}
        if answer.status == 200 and isinstance(answer.body, dict):
            for entity in answer.body["response"]:
                result = entity.get("result")
                if isinstance(result, dict):
                    # A wrong type whose value is the credential: the schema violation quotes it in "received".
                    result["discountValue"] = echoed
                    # The code itself: a load run lists every code in coupons.csv.
                    if result.get("code"):
                        result["code"] = f"{result['code']}-{echoed.split()[0]}"
            answer.headers.update(header)
            return answer
        if answer.status >= 400:
            # The secret straddles the 300-character excerpt, JSON-escaped with \/ as some encoders write it,
            # then URL-encoded and JSON-escaped again.
            secret = echoed.split()[0]
            padding = "x" * (300 - len('{"message":"') - 5)
            text = ('{"message":"' + padding + json.dumps(secret)[1:-1].replace("/", "\\/") + " "
                    + quote(echoed, safe="") + " " + json.dumps(echoed)[1:-1].replace("/", "\\/") + '"}')
            return Answer(answer.status, text.encode(), answer.request,
                          {"Content-Type": "application/json", **header})
        return answer


AUTH_KINDS = ("basic", "md5", "oauth", "userinfo")
COMMANDS = ("contract", "run", "load")


def _argv(command: str, kind: str, base_url: str, report_dir: Path) -> list[str]:
    if kind == "userinfo":
        parts = urlsplit(base_url)
        base_url = f"{parts.scheme}://{USER}:{quote(PASSWORD, safe='')}@{parts.netloc}"
    auth = {"basic": ["--user", f"{USER}:{PASSWORD}"], "md5": ["--user", f"{USER}:{PASSWORD}", "--md5-password"],
            "oauth": ["--oauth-key", OAUTH_KEY, "--oauth-secret", OAUTH_SECRET], "userinfo": []}[kind]
    common = ["--base-url", base_url, *auth, "--no-color", "--report-dir", str(report_dir)]
    if command == "contract":
        return ["contract", *common, "--max-examples", "5" if kind != "oauth" else "30"]
    if command == "run":
        return ["run", *common, "--max-examples", "3", "--load-run-time", "2s", "--load-users", "2"]
    return ["load", *common, "--run-time", "2s", "--users", "2"]


@dataclass
class Outputs:
    code: int
    #: "stdout", "stderr", and each file under the report folder by its relative path.
    texts: dict[str, str]
    echo: Echo

    def leaks(self, *, load_process: bool) -> list[str]:
        """One line per output and secret form found in it, with the text around the first hit. Without
        `load_process`: the outputs of the CLI's own process, and the secrets it holds; with it: every output,
        and every secret, the tokens the load process fetched included."""
        secrets = self.echo.secrets(load_tokens=load_process)
        found = []
        for name, text in self.texts.items():
            if not load_process and Path(name).name in LOAD_PROCESS_FILES:
                continue
            for secret in secrets:
                at = text.find(secret)
                if at >= 0:
                    found.append(f"{name}: {secret!r} in ...{text[max(at - 100, 0):at + len(secret) + 20]!r}")
        return found

    def file(self, name: str) -> str:
        """The one output file called `name` (in whichever stage folder)."""
        matches = [text for path, text in self.texts.items() if Path(path).name == name]
        assert len(matches) == 1, (name, sorted(self.texts))
        return matches[0]


def _run(command: str, kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Outputs:
    stored = MD5 if kind == "md5" else PASSWORD
    config = replace(default_config(), users={USER: stored}, oauth_clients={OAUTH_KEY: OAUTH_SECRET},
                     token_ttl_s=TOKEN_TTL_S)
    report_dir = tmp_path / "reports"
    echo = Echo(kind, stage="load" if command == "load" else "contract")
    real_execute_load = load_cmd.execute_load

    def execute_load(*args: Any, **kwargs: Any) -> Any:
        echo.stage = "load"  # from here on, tokens are the load process's
        return real_execute_load(*args, **kwargs)

    monkeypatch.setattr(run_cmd, "execute_load", execute_load)
    with running_sandbox(config, mutate=echo) as sandbox:
        code = main(_argv(command, kind, sandbox.base_url, report_dir))
    out, err = capfd.readouterr()  # capfd: the load process's own output counts too
    texts = {"stdout": out, "stderr": err}
    for path in sorted(report_dir.rglob("*")):
        if path.is_file():
            texts[path.relative_to(report_dir).as_posix()] = path.read_bytes().decode("utf-8", "backslashreplace")
    return Outputs(code, texts, echo)


def _check_the_echo_was_heard(outputs: Outputs, kind: str, judged: str | None) -> None:
    """The secrets reached the outputs (redacted in file `judged`): the test would prove nothing if the echo
    went unjudged."""
    texts = outputs.texts
    assert outputs.code == 1, texts["stdout"] + texts["stderr"]
    if judged is not None:
        assert "<redacted>" in texts[judged], texts[judged]
    assert "response-schema" in texts["stdout"]  # the echoing 200s were judged: their received text was written
    if kind == "oauth":
        with outputs.echo.lock:
            stages = sorted(outputs.echo.tokens.values())
        # The token was refreshed during the run, and each one echoed; a run shorter than a token's life (a fast
        # machine) can only have used one.
        durations = [json.loads(text).get("duration_s", 0.0) for path, text in outputs.texts.items()
                     if Path(path).name == "summary.json"]
        assert len(stages) >= (2 if sum(durations) > 2 * TOKEN_TTL_S else 1), (stages, durations)


CASES = [(command, kind) for command in COMMANDS for kind in AUTH_KINDS]


@pytest.mark.parametrize(("command", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_no_form_of_a_credential_leaves_the_process(command: str, kind: str, tmp_path: Path,
                                                   capfd: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout, stderr and every file the CLI's process writes (reports of every stage, the index of `run`, the
    load reports built from the load process's result) hold no form of any secret that process knows."""
    outputs = _run(command, kind, tmp_path, capfd, monkeypatch)
    # A load run with OAuth: only the load process knows its tokens, so only it can redact its examples.
    judged = {"contract": "report.md", "run": "contract/report.md", "load": "summary.json"}[command]
    _check_the_echo_was_heard(outputs, kind, None if (command, kind) == ("load", "oauth") else judged)
    leaks = outputs.leaks(load_process=False)
    assert leaks == [], "\n".join(leaks)


LOAD_CASES = [("load", kind) for kind in AUTH_KINDS] + [("run", "oauth")]


@pytest.mark.parametrize(("command", "kind"), LOAD_CASES, ids=[f"{c}-{k}" for c, k in LOAD_CASES])
def test_load_process_outputs_carry_no_secret(command: str, kind: str, tmp_path: Path,
                                              capfd: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """What the load process writes (coupons.csv, with codes that echo the credentials; locust_stats.json)
    and what it hands back (violation examples, notes: the load reports and the console) holds no form of any
    secret, the tokens it fetched and refreshed itself included, which only it can redact."""
    outputs = _run(command, kind, tmp_path, capfd, monkeypatch)
    _check_the_echo_was_heard(outputs, kind, "summary.json" if command == "load" else "load/summary.json")
    assert outputs.file("locust_stats.json")
    coupons = outputs.texts[next(name for name in outputs.texts
                                 if name.endswith("coupons.csv") and "contract" not in name)].splitlines()
    assert len(coupons) > 1 and all("<redacted>" in line for line in coupons[1:]), coupons[:3]
    leaks = outputs.leaks(load_process=True)
    assert leaks == [], "\n".join(leaks)
