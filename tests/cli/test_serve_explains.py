"""`coupon-harness serve` explains itself (issue 18): before its URL it prints its users, series, active faults and
variations; `serve --help` lists every fault key with its meaning and an example."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from coupon_harness.cli.serve_cmd import FAULT_KEYS, describe
from coupon_harness.sandbox.config import Faults, Variations, default_config

CLI = Path(sys.executable).parent / "coupon-harness"


def test_every_fault_key_is_in_the_help_with_an_example() -> None:
    assert [key for key, _, _ in FAULT_KEYS] == [field.name for field in dataclasses.fields(Faults)]
    shown = subprocess.run([str(CLI), "serve", "--help"], capture_output=True,
                           text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    for key, meaning, example in FAULT_KEYS:
        assert f"{key}  " in shown.stdout and f"(e.g. {example})" in shown.stdout, key
        assert meaning.split(":")[0] in shown.stdout, key


def test_the_built_in_sandbox_names_its_demo_credentials_series_and_no_faults() -> None:
    text = describe(default_config(), None)
    assert "Basic users:   sandbox:sandbox (public demo values)" in text
    assert "OAuth clients: sandbox-key / sandbox-secret" in text
    assert "valid series:  101, 102, 103, 104, 105 (GENERIC: 104)" in text
    assert "refused:       201, 202, 999999" in text
    assert "faults:        none" in text and "variations:    none" in text and "seed:          random" in text


def test_a_configured_sandbox_shows_its_faults_and_keeps_its_passwords(tmp_path: Path) -> None:
    config = dataclasses.replace(default_config(), users={"qa": "s3cret-pass"}, seed=7,
                                 faults=Faults(latency_ms=20, concurrency=4),
                                 variations=Variations(numbers_as_floats=True))
    text = describe(config, tmp_path / "sandbox.yaml")
    assert "s3cret-pass" not in text
    assert f"qa (secrets as set in {tmp_path / 'sandbox.yaml'})" in text
    assert "faults:        latency_ms=20.0, concurrency=4" in text
    assert "variations:    numbers_as_floats=True" in text and "seed:          7" in text
    assert "none" not in text.split("faults:")[1].splitlines()[0]


def test_serve_prints_the_description_before_its_url(tmp_path: Path) -> None:
    config_file = tmp_path / "sandbox.yaml"
    config_file.write_text("faults:\n  error_rate: 0.5\n", encoding="utf-8")
    command = [str(CLI), "serve", "--port", "0", "--config", str(config_file)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as served:
        try:
            assert served.stdout is not None
            lines = []
            for line in served.stdout:
                lines.append(line)
                if line.startswith("sandbox listening on"):
                    break
        finally:
            served.terminate()
            served.wait(timeout=60)
    text = "".join(lines)
    assert text.startswith(f"coupon-harness sandbox ({config_file})"), text
    assert "faults:        error_rate=0.5" in text and lines[-1].startswith("sandbox listening on http://127.0.0.1:")
