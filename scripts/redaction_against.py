"""Run the redaction tests with every Redactor behaving as an earlier git revision's (its transport/auth.py, from
before transport/redaction.py), to see
which forms that revision lets through: the echo test's failures name each leaked form.

    .venv/bin/python scripts/redaction_against.py main
    .venv/bin/python scripts/redaction_against.py main tests/transport/test_redaction.py

Each Redactor keeps this tree's secrets (credentials, tokens fetched, the extra secret options) and redacts with
the revision's code; in this process and in the load processes it starts (a `sitecustomize` module on
PYTHONPATH patches them at start-up). Everything else (what the commands redact, and where) is this tree's.
Prints pytest's summary, then the encodings and secrets that leaked, over all failing tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Imported at every interpreter's start (PYTHONPATH first): redirects Redactor.text and .headers.
SITECUSTOMIZE = '''
import os, subprocess, sys, types

def _patch():
    from coupon_harness.transport import redaction

    def show(path):
        return subprocess.run(["git", "show", f"{os.environ['REDACTION_AGAINST']}:src/coupon_harness/transport/{path}"],
                              cwd=os.environ["REDACTION_ROOT"], check=True, capture_output=True, text=True).stdout

    def module(name, source):
        made = types.ModuleType(name)
        sys.modules[name] = made
        exec(compile(source, name, "exec"), made.__dict__)
        return made

    old_credentials = module("_old_credentials", show("credentials.py"))
    current = sys.modules["coupon_harness.transport.credentials"]
    sys.modules["coupon_harness.transport.credentials"] = old_credentials
    try:  # requests is not imported: a load process must monkey-patch before it is
        old_auth = module("_old_auth", show("auth.py").replace("import requests\\n", "requests = None\\n"))
    finally:
        sys.modules["coupon_harness.transport.credentials"] = current

    class Secrets:
        def __init__(self, credentials):
            self.old = old_credentials.Credentials(
                user=credentials.user, password=credentials.password, md5_password=credentials.md5_password,
                oauth_key=credentials.oauth_key, oauth_secret=credentials.oauth_secret, token=credentials.token)
            self.extra = list(getattr(credentials, "extra", ()))

        def secrets(self):
            return [*self.old.secrets(), *self.extra]

    def olds(self):
        if "_old" not in self.__dict__:
            self._old = [old_auth.Redactor(Secrets(credentials), tokens) for credentials, tokens in self._sources]
        return self._old

    def text(self, value):
        for old in olds(self):
            value = old.text(value)
        return value

    def headers(self, given):
        out = dict(given)
        for old in olds(self):
            out = dict(old.headers(out))
        return tuple(out.items())

    redaction.Redactor.text = text
    redaction.Redactor.headers = headers

if os.environ.get("REDACTION_AGAINST"):
    _patch()
'''


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        print(__doc__)
        return 2
    revision, tests = args[0], args[1:] or ["tests/cli/test_redaction_echo.py"]
    with tempfile.TemporaryDirectory(prefix="redaction-against-") as folder:
        (Path(folder) / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        env = {**os.environ, "REDACTION_AGAINST": revision, "REDACTION_ROOT": str(ROOT),
               "PYTHONPATH": os.pathsep.join([folder, *filter(None, [os.environ.get("PYTHONPATH")])])}
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *tests], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=False)
    output = run.stdout + run.stderr
    print("\n".join(line for line in output.splitlines() if line.startswith(("FAILED", "PASSED", "ERROR"))
                    or re.match(r"\d+ (passed|failed)", line)))
    encodings: Counter[str] = Counter()
    secrets: Counter[str] = Counter()
    for hits in re.finditer(r"AssertionError: \d+ hits of \d+ forms: (.*)", output):
        for form in hits.group(1).split("; "):
            secret, _, encoding = form.rpartition(", ")
            encodings[encoding] += 1
            secrets[secret.removeprefix("the start of ")] += 1
    if encodings:
        print(f"\nencodings leaked ({len(encodings)}): " + ", ".join(sorted(encodings)))
        print(f"secrets leaked ({len(secrets)}): " + ", ".join(sorted(secrets)))
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
