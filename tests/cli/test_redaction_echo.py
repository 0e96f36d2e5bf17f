"""Redaction as a property: no form of any secret leaves the harness, whatever the target echoes.

The target (the sandbox with an echoing `mutate` hook) echoes every secret of the run, in every form this file
derives from it (`_encodings`: plain, JSON with and without `\\/` and ASCII-only, every character as `\\u` in
either case and half of them, Python repr and ascii() and bytes repr, HTML escaping, every character as a
decimal or hex entity with leading zeros and in either case, named entities, percent-encoding in either case
and of every byte, `+` for space, and doubled: JSON of JSON, percent of percent, HTML of HTML, percent of JSON,
HTML of JSON; plus base64 of each secret alone and of USER:PASSWORD in both alphabets, padded or not, and the
password's md5 in lower, upper and mixed case). It echoes them
- in every 4xx body (which a finding quotes, cut at 300 characters: some form straddles the cut),
- in a 200's `discountValue`, a string where the schema wants a number (the violation's received text quotes it
  through repr, cut at 160),
- in the coupon codes (coupons.csv lists every code of a load run),
- in a response header,
each answer starting at another form, so that the windows the reports show cover many forms; and all of them in
the message of a harness bug planted in the last pass (the `harness-error-malformed.txt` traceback file) or, for
the crash guard, outside any pass (`harness-error.txt`).

Every secret kind (Basic plain and md5, a ready token, OAuth key and secret with the tokens fetched and refreshed
by each process, URL userinfo, and `diff`'s second target's), every command (contract, then replay and
export-tests of its report; run --base-url; load; diff), every output (stdout, stderr, every file under the
report folder and the exported test file, each read raw and as its format reads it: JSON strings, HTML and XML
text, CSV fields, Python string literals): 0 hits of any form, nor of the first 12 characters of a long secret in
any form (a secret cut short).

The forms are made here, with the standard library's encoders, independently of the Redactor (which decodes):
a form the Redactor does not know shows up as a hit.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import html
import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest

from coupon_harness.cli.main import main
from coupon_harness.runners.contract import runner as contract_runner
from coupon_harness.runners.contract.passes import REGISTRY
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.auth import TOKEN_HEADER, Authenticator
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox


@dataclass(frozen=True)
class Target:
    """One target's secrets. Each holds the characters escapers treat specially: quotes (repr writes `\\'`
    when both are there), `&` and `<` (HTML), `\\` and `/` (JSON), a space (`+`), `+`, non-ASCII and a
    character outside the BMP (surrogate pairs in `\\u` escapes)."""

    user: str
    password: str
    #: A ready token is sent as a header as is: visible ASCII.
    token: str
    oauth_key: str
    oauth_secret: str


A = Target("till01", "Hu'n\"t&r 2/pw+ö\\<😀", "tok'en\"&<x>\\/+%41~Z9q", "cap-key'Q7/z\"x&",
           "s3cr3t/oauth+ü <😀>\\")
B = Target("bob", "B0b's \"pw\" &lt; ß/+\\x41 🙂", "bobtok\"'&<>\\/+%2B~QW", "bkey'&\"/Zq9", "bsecret/é \"&<🙂>\\")

#: The first characters of a long secret that, found anywhere, are a leak (of a secret cut short).
CUT_PREFIX = 12
#: Short token lifetime: the harness refreshes its token several times a run, and each one is echoed.
TOKEN_TTL_S = 1.0
#: Forms in each 4xx body and each 200's wrongly typed field (the rest of the forms follow in later answers).
BODY_FORMS = 12
FIELD_FORMS = 4


# --- the forms (standard library encoders only) ---------------------------------------------------------

def _units(text: str) -> list[int]:
    raw = text.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


def _all_u(text: str, upper: bool = False) -> str:
    return "".join((f"\\u{unit:04X}" if upper else f"\\u{unit:04x}") for unit in _units(text))


def _named(char: str) -> str:
    name = html.entities.codepoint2name.get(ord(char))
    return f"&{name};" if name else {"'": "&apos;", "/": "&sol;", "+": "&plus;", "\\": "&bsol;"}.get(char, char)


def _pct_lower(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group().lower(), quote(text, safe=""))


def _encodings(text: str, *, full: bool = True) -> dict[str, str]:
    """`text` as targets may write it. Without `full`: the forms that change a base64 or hex text."""
    json_ascii = json.dumps(text)[1:-1]
    forms = {
        "plain": text,
        "json \\/": json_ascii.replace("/", "\\/"),
        "percent": quote(text, safe=""),
        "percent lower": _pct_lower(text),
        "all \\u": _all_u(text),
        "all &#": "".join(f"&#{ord(char)};" for char in text),
    }
    if not full:
        return forms
    forms.update({
        "json": json.dumps(text, ensure_ascii=False)[1:-1],
        "json ascii": json_ascii,
        "all \\u upper": _all_u(text, upper=True),
        "half \\u": "".join(_all_u(char) if index % 2 == 0 or char in "\\\"" else char
                            for index, char in enumerate(text)),
        "repr": repr(text)[1:-1],
        "ascii": ascii(text)[1:-1],
        "bytes repr": repr(text.encode())[2:-1],
        "html": html.escape(text),
        "all &#0": "".join(f"&#{ord(char):07d};" for char in text),
        "all &#x": "".join(f"&#x{ord(char):x};" for char in text),
        "all &#X0": "".join(f"&#X{ord(char):06X};" for char in text),
        "named": "".join(_named(char) for char in text),
        "half &#": "".join(f"&#{ord(char)};" if index % 2 == 0 else html.escape(char)
                           for index, char in enumerate(text)),
        "percent every byte": "".join(f"%{byte:02X}" for byte in text.encode()),
        "percent every byte lower": "".join(f"%{byte:02x}" for byte in text.encode()),
        "plus": quote_plus(text, safe=""),
        "half percent": "".join(quote(char, safe="") if index % 2 == 0 or char == "%" else char
                                for index, char in enumerate(text)),
        "json of json": json.dumps(json_ascii)[1:-1],
        "percent of percent": quote(quote(text, safe=""), safe=""),
        "html of html": html.escape(html.escape(text)),
        "html of all &#": html.escape("".join(f"&#{ord(char)};" for char in text)),
        "percent of json": quote(json_ascii, safe=""),
        "html of json": html.escape(json_ascii),
    })
    return forms


#: A text to echo, by name ("password", "base64 url unpadded of USER:PASSWORD").
Named = dict[str, str]


def _base64(name: str, text: str) -> Named:
    raw = text.encode()
    standard, url = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    return {f"base64 of {name}": standard, f"base64url of {name}": url,
            f"base64 unpadded of {name}": standard.rstrip("="), f"base64url unpadded of {name}": url.rstrip("=")}


def _md5s(password: str) -> Named:
    digest = hashlib.md5(password.encode()).hexdigest()
    return {"md5 of the password": digest, "MD5 OF THE PASSWORD": digest.upper(),
            "mD5 oF ThE PaSsWoRd": "".join(c.upper() if i % 2 else c for i, c in enumerate(digest))}


def _forms(raw: Named, derived: Named) -> dict[str, str]:
    """Every form of every secret, once, in a fixed order: form -> what it is ("password, html of html")."""
    out: dict[str, str] = {}
    for texts, full in ((raw, True), (derived, False)):
        for name, text in texts.items():
            for encoding, form in _encodings(text, full=full).items():
                out.setdefault(form, f"{name}, {encoding}")
    return out


def _cut_forms(raw: Named, derived: Named) -> dict[str, str]:
    """The first CUT_PREFIX characters of each long secret, in every form."""
    return _forms({f"the start of {name}": text[:CUT_PREFIX] for name, text in raw.items() if len(text) >= 16},
                  {f"the start of {name}": text[:CUT_PREFIX] for name, text in derived.items() if len(text) >= 16})


# --- the echoing target ---------------------------------------------------------------------------------

@dataclass
class Echo:
    """The echoing target's mutate hook for one target and credential kind. Each answer echoes the secrets
    the target knows and the token its request carried (a token the sandbox issued: the harness refreshes
    them, and each process of a run fetches its own)."""

    target: Target
    kind: str
    tokens: dict[str, None] = field(default_factory=dict)
    answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _forms: dict[str | None, list[str]] = field(default_factory=dict)

    def secrets(self, token: str | None = None) -> tuple[Named, Named]:
        """(the secrets themselves, the texts derived from them: base64 of each, the password's md5), with
        `token`'s."""
        t = self.target
        side = "" if t is A else "the second target's "
        if self.kind == "oauth":
            raw = {f"{side}OAuth key": t.oauth_key, f"{side}OAuth secret": t.oauth_secret}
            if token:
                raw[f"{side}access token #{list(self.tokens).index(token) + 1}"] = token
        elif self.kind == "token":
            raw = {f"{side}token": t.token}
        else:
            raw = {f"{side}password": t.password, f"{side}USER:PASSWORD": f"{t.user}:{t.password}"}
        derived = {name: form for secret_name, secret in raw.items()
                   for name, form in _base64(secret_name, secret).items()}
        if self.kind in ("basic", "md5", "userinfo"):
            digest = hashlib.md5(t.password.encode()).hexdigest()
            derived |= {f"{side}{name}": form for name, form in _md5s(t.password).items()}
            derived |= _base64(f"{side}USER:MD5", f"{t.user}:{digest}")
        return raw, derived

    def named_forms(self, token: str | None = None) -> dict[str, str]:
        """Every form of the secrets an answer to a request that carried `token` echoes, and its name."""
        with self.lock:
            if token not in self._forms:
                self._forms[token] = _forms(*self.secrets(token))
            return self._forms[token]

    def forms(self, token: str | None = None) -> list[str]:
        return list(self.named_forms(token))

    def every_form(self) -> dict[str, str]:
        """Every form echoed so far, of every token seen, and the first characters of each long secret."""
        with self.lock:
            tokens = [None, *self.tokens]
        out: dict[str, str] = {}
        for token in tokens:
            out |= self.named_forms(token) | _cut_forms(*self.secrets(token))
        return out

    def everything(self) -> str:
        """What a harness bug's message quotes: every form, of every token the run used so far."""
        with self.lock:
            tokens = [None, *self.tokens]
        return " | ".join(dict.fromkeys(form for token in tokens for form in self.forms(token)))

    def __call__(self, answer: Answer) -> Answer:
        token = answer.request.headers.get(TOKEN_HEADER) if self.kind == "oauth" else None
        if token is not None and answer.status != 401:
            with self.lock:  # a token the sandbox issued (the auth pass also sends made-up ones)
                self.tokens.setdefault(token, None)
        known = token if token in self.tokens else None
        forms = self.forms(known)
        # Every other code carries a form of the request's own token: a run issues few coupons with some tokens
        # (a preflight's), and each of them must reach coupons.csv redacted.
        own = [form for form in forms if form not in self.forms(None)] if known is not None else forms
        with self.lock:
            n = self.answers
            self.answers += 1

        def window(size: int) -> str:
            return " | ".join(forms[(n * size + i) % len(forms)] for i in range(size))

        one = forms[n % len(forms)]
        header = {"X-Echo": one if one.isascii() and one.isprintable() else quote(one)}
        if answer.status == 200 and isinstance(answer.body, dict):
            for index, entity in enumerate(answer.body["response"]):
                result = entity.get("result")
                if isinstance(result, dict):
                    result["discountValue"] = window(FIELD_FORMS)  # a string: the violation quotes it
                    if result.get("code"):  # a load run lists every code in coupons.csv
                        pool = own if (n + index) % 2 == 0 else forms
                        result["code"] = f"{result['code']}-{pool[(n + index) // 2 % len(pool)]}"
            answer.headers.update(header)
            return answer
        if answer.status >= 400:
            text = '{"message":"' + window(BODY_FORMS) + '"}'
            return Answer(answer.status, text.encode(), answer.request, {"Content-Type": "application/json", **header})
        return answer


# --- runs -----------------------------------------------------------------------------------------------

KINDS = ("basic", "md5", "token", "oauth", "userinfo")


def _auth(target: Target, kind: str, prefix: str = "--") -> list[str]:
    return {"basic": [f"{prefix}user", f"{target.user}:{target.password}"],
            "md5": [f"{prefix}user", f"{target.user}:{target.password}", f"{prefix}md5-password"],
            "token": [f"{prefix}token", target.token],
            "oauth": [f"{prefix}oauth-key", target.oauth_key, f"{prefix}oauth-secret", target.oauth_secret],
            "userinfo": []}[kind]


def _url(base_url: str, target: Target, kind: str) -> str:
    if kind != "userinfo":
        return base_url
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{target.user}:{quote(target.password, safe='')}@{parts.netloc}"


@dataclass
class Outputs:
    #: Each command's exit code, in order.
    codes: list[int] = field(default_factory=list)
    #: Output name ("stdout of contract", a path under tmp_path) -> its text.
    texts: dict[str, str] = field(default_factory=dict)

    def file(self, name: str) -> str:
        matches = [text for path, text in self.texts.items() if Path(path).name == name]
        assert len(matches) == 1, (name, sorted(self.texts))
        return matches[0]

    def leaks(self, echoes: list[Echo]) -> list[str]:
        """One line per output and form found in it (raw, or as its format reads it), with the text around."""
        forms: dict[str, str] = {}
        for echo in echoes:
            forms |= echo.every_form()
        found: dict[tuple[str, str], str] = {}
        for name, text in self.texts.items():
            for reading in _readings(name, text):
                for form, what in forms.items():
                    at = reading.find(form)
                    if at >= 0 and (name, what) not in found:
                        around = reading[max(at - 80, 0):at + len(form) + 20]
                        found[name, what] = f"{name}: {what}: {form!r} in ...{around!r}"
        return list(found.values())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _readings(name: str, text: str) -> list[str]:
    """The output as written, and as its format reads it (a form the writer escaped once more is found too)."""
    suffix = Path(name).suffix
    if suffix == ".json":
        return [text, "\n".join(_strings(json.loads(text)))]
    if suffix == ".html":
        return [text, html.unescape(text)]
    if suffix == ".xml":
        root = ET.fromstring(text)
        parts = [piece for node in root.iter() for piece in (node.text, node.tail, *node.attrib.values()) if piece]
        return [text, "\n".join(parts)]
    if suffix == ".csv":
        return [text, "\n".join(cell for row in csv.reader(io.StringIO(text)) for cell in row)]
    if suffix == ".py":
        tree = ast.parse(text)
        return [text, "\n".join(node.value for node in ast.walk(tree)
                                if isinstance(node, ast.Constant) and isinstance(node.value, str))]
    if suffix == ".md":
        return [text, html.unescape(text), re.sub(r"\\(.)", r"\1", text)]
    return [text]


class Harness:
    """Runs commands in this process (capfd: the load process's output counts too) and collects outputs."""

    def __init__(self, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
        self.tmp_path = tmp_path
        self.capfd = capfd
        self.outputs = Outputs()

    def run(self, argv: list[str]) -> int:
        self.capfd.readouterr()
        code = main(argv)
        out, err = self.capfd.readouterr()
        label = f"{argv[0]} #{len(self.outputs.codes)}"
        self.outputs.codes.append(code)
        self.outputs.texts[f"stdout of {label}"] = out
        self.outputs.texts[f"stderr of {label}"] = err
        return code

    def collect(self) -> Outputs:
        for path in sorted(self.tmp_path.rglob("*")):
            if path.is_file():
                name = path.relative_to(self.tmp_path).as_posix()
                self.outputs.texts[name] = path.read_bytes().decode("utf-8", "backslashreplace")
        return self.outputs


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> Callable[[Echo], Any]:
    """A sandbox that echoes; it also takes each target's ready token (as a real target knows its tokens)."""
    identify = Authenticator.identify

    def with_ready_tokens(self: Authenticator, headers: Any) -> str | None:
        if headers.get(TOKEN_HEADER) in (A.token, B.token):
            return "ready-token-client"
        return identify(self, headers)

    monkeypatch.setattr(Authenticator, "identify", with_ready_tokens)

    def start(echo: Echo) -> Any:
        t = echo.target
        config = replace(default_config(), users={t.user: t.password}, oauth_clients={t.oauth_key: t.oauth_secret},
                         token_ttl_s=TOKEN_TTL_S)
        return running_sandbox(config, mutate=echo)

    return start


def _plant_fault(monkeypatch: pytest.MonkeyPatch, echo: Echo) -> None:
    """A harness bug in the last pass (of a contract and of a diff run) whose message quotes everything the target
    echoed."""
    real = REGISTRY["malformed"]

    def malformed(*args: Any, **kwargs: Any) -> Any:
        real.run(*args, **kwargs)
        raise RuntimeError(f"cannot read the answer {echo.everything()}")

    monkeypatch.setitem(REGISTRY, "malformed", replace(real, run=malformed))


def _assert_heard(outputs: Outputs, echo: Echo, judged: list[str]) -> None:
    """The secrets reached the outputs, redacted (the test proves nothing if the echo went unheard)."""
    for name in judged:
        assert "<redacted>" in outputs.file(name), name
    assert echo.answers > 0
    if echo.kind == "oauth":  # refreshed during the run when it was long enough (a fast machine: one token)
        durations = [json.loads(text).get("duration_s", 0.0) for path, text in outputs.texts.items()
                     if Path(path).name == "summary.json"]
        assert len(echo.tokens) >= (2 if max(durations, default=0) > 2 * TOKEN_TTL_S else 1), echo.tokens


def _assert_no_leak(outputs: Outputs, *echoes: Echo) -> None:
    leaks = outputs.leaks(list(echoes))
    forms = sorted({line.split(": ", 2)[1] for line in leaks})
    assert leaks == [], (f"{len(leaks)} hits of {len(forms)} forms: {'; '.join(forms)}\n" + "\n".join(leaks[:30]))


@pytest.mark.parametrize("kind", KINDS)
def test_contract_replay_and_export_leak_nothing(kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 sandboxes: Callable[[Echo], Any]) -> None:
    """`contract` (with a harness bug in its last pass), then `replay` and `export-tests` of its report."""
    echo = Echo(A, kind)
    _plant_fault(monkeypatch, echo)
    harness = Harness(tmp_path, capfd)
    report = tmp_path / "reports"
    with sandboxes(echo) as sandbox:
        url = _url(sandbox.base_url, A, kind)
        code = harness.run(["contract", "-vv", "--base-url", url, *_auth(A, kind), "--no-color", "--report-dir",
                            str(report), "--max-examples", "5" if kind != "oauth" else "10"])
        assert code == 2, harness.outputs.texts  # the planted bug
        harness.run(["replay", str(report), "--base-url", url, *_auth(A, kind), "--no-color"])
    assert harness.run(["export-tests", str(report), "-o", str(tmp_path / "exported" / "test_findings.py")]) == 0
    outputs = harness.collect()
    assert "still failing" in outputs.texts["stdout of replay #1"]
    _assert_heard(outputs, echo, ["report.md", "summary.json", "harness-error-malformed.txt"])
    # -vv logs the planted bug's traceback, every echoed form in its message: the log handler redacts it.
    logged = outputs.texts["stderr of contract #0"]
    assert "coupon-harness: DEBUG coupon_harness.runners.contract.runner: pass malformed: harness error" in logged
    assert "RuntimeError: cannot read the answer <redacted>" in logged
    _assert_no_leak(outputs, echo)
    _assert_codes_redacted(outputs, listed=False)  # where the command lists the codes it caused


@pytest.mark.parametrize("kind", KINDS)
def test_run_leaks_nothing(kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch, sandboxes: Callable[[Echo], Any]) -> None:
    """`run --base-url`: its contract stage (a harness bug in the last pass) and its load stage, whose own
    process fetches (and refreshes) tokens of its own."""
    echo = Echo(A, kind)
    _plant_fault(monkeypatch, echo)
    harness = Harness(tmp_path, capfd)
    with sandboxes(echo) as sandbox:
        code = harness.run(["run", "-vv", "--base-url", _url(sandbox.base_url, A, kind), *_auth(A, kind), "--no-color",
                            "--report-dir", str(tmp_path / "reports"), "--max-examples", "3",
                            "--load-run-time", _load_time(kind), "--load-users", "2"])
    assert code == 2
    outputs = harness.collect()
    _assert_heard(outputs, echo, ["harness-error-malformed.txt"])
    assert "<redacted>" in outputs.texts["reports/contract/report.md"]
    assert "<redacted>" in outputs.texts["reports/load/summary.json"]
    _assert_no_leak(outputs, echo)
    _assert_codes_redacted(outputs)


def _load_time(kind: str) -> str:
    """Long enough for the load process to refresh its token (OAuth); short otherwise."""
    return "2s" if kind == "oauth" else "1s"


def _assert_codes_redacted(outputs: Outputs, *, listed: bool = True) -> None:
    """Every code the target issued carried a form of a secret: each row of every coupons.csv (a load's; with
    `listed`, there is at least one) is redacted."""
    files = {path: list(csv.DictReader(io.StringIO(text, newline=""))) for path, text in outputs.texts.items()
             if Path(path).name == "coupons.csv"}
    assert files or not listed, sorted(outputs.texts)
    for path, rows in files.items():
        assert rows or not listed, path
        bare = [row for row in rows if "<redacted>" not in row["code"]]
        assert bare == [], (path, len(rows), bare[:5])


@pytest.mark.parametrize("kind", KINDS)
def test_load_leaks_nothing(kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
                            sandboxes: Callable[[Echo], Any]) -> None:
    """`load`: coupons.csv (every code carries a form), locust_stats.json, the violation examples and notes
    the load process hands back, the reports built from them."""
    echo = Echo(A, kind)
    harness = Harness(tmp_path, capfd)
    with sandboxes(echo) as sandbox:
        code = harness.run(["load", "-vv", "--base-url", _url(sandbox.base_url, A, kind), *_auth(A, kind), "--no-color",
                            "--report-dir", str(tmp_path / "reports"), "--run-time", _load_time(kind), "--users",
                            "2"])
    assert code == 1
    outputs = harness.collect()
    _assert_heard(outputs, echo, ["summary.json", "report.md"])
    assert outputs.file("locust_stats.json")
    _assert_no_leak(outputs, echo)
    _assert_codes_redacted(outputs)


DIFF_KINDS = [("basic", "oauth"), ("oauth", "md5"), ("token", "userinfo")]


@pytest.mark.parametrize(("base_kind", "against_kind"), DIFF_KINDS, ids=[f"{a}-{b}" for a, b in DIFF_KINDS])
def test_diff_leaks_nothing(base_kind: str, against_kind: str, tmp_path: Path,
                            capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                            sandboxes: Callable[[Echo], Any]) -> None:
    """`diff`: the values compared and shown (each target echoes its own secrets, so they differ), with a
    harness bug in its last pass; both targets' secrets, the second one's given by --against-* or its URL."""
    echo_a, echo_b = Echo(A, base_kind), Echo(B, against_kind)
    _plant_fault(monkeypatch, echo_b)
    harness = Harness(tmp_path, capfd)
    with sandboxes(echo_a) as base, sandboxes(echo_b) as against:
        code = harness.run(["diff", "--base-url", _url(base.base_url, A, base_kind), *_auth(A, base_kind),
                            "--against-url", _url(against.base_url, B, against_kind),
                            *_auth(B, against_kind, "--against-"), "--series-ids", "101,102", "--max-examples",
                            "3", "--no-color", "--report-dir", str(tmp_path / "reports")])
    assert code == 2
    outputs = harness.collect()
    summary = json.loads(outputs.file("summary.json"))
    shown = [value for difference in summary["differences"] for value in (difference["base"], difference["against"])]
    assert any("<redacted>" in value for value in shown), shown
    _assert_heard(outputs, echo_a, ["report.md", "harness-error-diff-malformed.txt"])
    _assert_heard(outputs, echo_b, [])
    _assert_no_leak(outputs, echo_a, echo_b)
    _assert_codes_redacted(outputs, listed=False)


@pytest.mark.parametrize("kind", ["md5", "oauth"])
def test_the_crash_guard_leaks_nothing(kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, sandboxes: Callable[[Echo], Any]) -> None:
    """A harness bug outside any pass, whose message quotes every form the target echoed: the last-resort
    guard's line and file (`harness-error.txt`) hold none of them (the tokens fetched it finds on the stack)."""
    echo = Echo(A, kind)

    def broken_shape(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"cannot record the run after {echo.everything()}")

    monkeypatch.setattr(contract_runner, "run_shape", broken_shape)
    harness = Harness(tmp_path, capfd)
    with sandboxes(echo) as sandbox:
        code = harness.run(["contract", "--base-url", sandbox.base_url, *_auth(A, kind), "--no-color",
                            "--report-dir", str(tmp_path / "reports"), "--max-examples", "2"])
    assert code == 2
    outputs = harness.collect()
    assert "harness error (a bug in coupon-harness" in outputs.texts["stderr of contract #0"]
    assert "cannot record the run after <redacted>" in outputs.file("harness-error.txt")
    _assert_no_leak(outputs, echo)


def test_the_forms_are_many_and_distinct() -> None:
    """The property covers what it says: every encoding changes the password (it holds a character each one
    escapes), and the forms of one run number in the hundreds."""
    encodings = _encodings(A.password)
    assert len(set(encodings.values())) == len(encodings), encodings
    echo = Echo(A, "md5")
    _raw, derived = echo.secrets()
    assert len(echo.forms()) > 90 and len(derived) == 15
    assert "\\'" in encodings["repr"] and "&#x27;" in encodings["html"] and "%c3%b6" in encodings["percent lower"]
    assert "\\ud83d\\ude00" in encodings["all \\u"]
