"""Plain Locust's way in: the load options of the table added to Locust's own parser (no clash with its
flags), read back with `locust_settings` as the locustfile does. In a subprocess: importing Locust
monkey-patches the process with gevent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r'''
import json, sys
from locust.argument_parser import get_parser
from coupon_harness.cli.option_table import LOAD, LOCUST_OWNS, add_options
from coupon_harness.cli.settings_builders import locust_settings
from coupon_harness.errors import ConfigError

parser = get_parser()
add_options(parser, LOAD, exclude=LOCUST_OWNS, short=False)
options = parser.parse_args(sys.argv[1:])
options.run_time = 5  # Locust turns -t into seconds before its init event
try:
    settings = locust_settings(options, options.host)
except ConfigError as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"users": settings.users, "run_time_s": settings.run_time_s, "series": settings.series_ids,
                      "slos": [str(slo) for slo in settings.slos], "user": settings.credentials.user,
                      "invalid": settings.invalid_series_ids, "shape": settings.shape}))
'''


def _run(*args: str, **env: str) -> dict[str, object]:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], env={**environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_locust_flags_and_variables_reach_the_load_settings() -> None:
    got = _run("--host", "http://127.0.0.1:9", "-u", "3", "--series-ids", "101,102", "--slo", "p95=300ms",
               "--user", "sandbox:sandbox", "--shape", "ramp", COUPON_HARNESS_INVALID_SERIES_IDS="999")
    assert got == {"users": 3, "run_time_s": 5.0, "series": [101, 102], "slos": ["p95<=300ms"],
                   "user": "sandbox", "invalid": [999], "shape": "ramp"}


def test_locust_names_its_own_host_flag() -> None:
    got = _run("--host", "https://eu.api.capillarytech.com", "--series-ids", "1")
    assert "--host" in str(got["error"]) and "--allow-production" in str(got["error"])


CASES_SCRIPT = r'''
import contextlib, io, json, os, sys
from locust.argument_parser import get_parser
from coupon_harness.cli.option_table import LOAD, LOCUST_OWNS, add_options
from coupon_harness.cli.settings_builders import locust_settings
from coupon_harness.errors import ConfigError

out = []
for argv, env in json.loads(sys.argv[1]):
    parser = get_parser()
    add_options(parser, LOAD, exclude=LOCUST_OWNS, short=False)
    os.environ.update(env)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            options = parser.parse_args(argv)
        options.run_time = 5
        locust_settings(options, options.host)
        out.append("accepted")
    except SystemExit:
        out.append(err.getvalue().strip().splitlines()[-1])
    except ConfigError as exc:
        out.append(str(exc))
    for name in env:
        del os.environ[name]
print(json.dumps(out))
'''

HOST = ["--host", "http://127.0.0.1:9", "--series-ids", "101"]


def test_the_issues_cases_under_plain_locust() -> None:
    """Issue 15's unclean cases through the locustfile's options (flags on Locust's parser, their variables and a
    config key through COUPON_HARNESS_CONFIG): each refused in one line, in one subprocess."""
    cases: list[tuple[list[str], dict[str, str], str]] = [
        ([*HOST, "--user", "nocolon"], {}, "--user gives a user but no password"),
        ([*HOST, "--user", "a\nb:p"], {}, "--user holds a control character"),
        ([*HOST, "--user", "u:p", "--token", "t", "--oauth-key", "k", "--oauth-secret", "s"], {},
         "--user and --oauth-key are two kinds of credentials"),
        ([*HOST, "--user", "u:p", "--batch-size", "1-99999999999"], {}, "at most 1,000 series a request"),
        ([*HOST, "--user", "u:p", "--batch-size", "1-2", "--batch-size", "3"], {},
         "argument --batch-size: given twice ('1-2', then '3'): give it once"),
        ([*HOST, "--series-ids", "102", "--user", "u:p"], {}, "argument --series-ids: given twice ('101', then '102')"),
        ([*HOST, "--user", "u:p", "--user", "v:q"], {}, "argument --user: given twice (its values are not shown)"),
        ([*HOST], {"COUPON_HARNESS_USER": "nocolon"}, "COUPON_HARNESS_USER gives a user but no password"),
        ([*HOST, "--user", "u:p"], {"COUPON_HARNESS_TOKEN": "t"}, "--user and COUPON_HARNESS_TOKEN are two kinds"),
        ([*HOST, "--user", "u:p"], {"COUPON_HARNESS_CONFIG": "/dev/zero"}, "config file /dev/zero is not a regular "
                                                                           "file"),
        ([*HOST, "--user", "u:p", "--slo", "p95=1s", "--slo", "p99=2s"], {}, "accepted"),
    ]
    environ = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    done = subprocess.run([sys.executable, "-c", CASES_SCRIPT, json.dumps([[a, e] for a, e, _ in cases])],
                          env=environ, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout.strip().splitlines()[-1])
    for (argv, env, fragment), line in zip(cases, lines, strict=True):
        assert fragment in line, (argv, env, line)
        assert "\n" not in line and "v:q" not in line
