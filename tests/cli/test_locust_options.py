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
add_options(parser, LOAD, exclude=LOCUST_OWNS)
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
