"""scripts/bench_sandbox.py's bare server answers the sandbox's endpoint with a body the contract accepts (so the
ratio compares correct answers), and the per-CPU ratio gate reads the runs' ratios."""

from __future__ import annotations

import argparse
import base64

import pytest

from scripts_loader import load_script

bench = load_script("bench_sandbox")


def test_the_bare_server_answers_the_endpoint_as_the_contract_wants() -> None:
    port = bench.free_port()
    process = bench.start_bare(port, "", no_uvloop=True)
    try:
        # Judged by the contract (check_one exits on a violation or a status other than 200).
        bench.check_one(f"http://127.0.0.1:{port}", "Basic " + base64.b64encode(b"x:y").decode(), [101, 102])
    finally:
        bench.stop(process)


@pytest.mark.parametrize(("cpu_ratios", "code"), [([0.80, 0.79, 0.70], 0), ([0.70, 0.79, 0.75], 1)])
def test_min_ratio_gates_the_median_per_cpu_ratio(cpu_ratios: list[float], code: int,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    figures = bench._Bench(argparse.Namespace(min_ratio=0.78), "", [101])
    figures.rates = {"sandbox": [9.0, 9.0, 9.0], "bare": [10.0, 10.0, 10.0]}
    figures.ratios = [0.9, 0.9, 0.9]
    figures.cpu_ratios = cpu_ratios
    assert figures.summary() == code
    assert f"median ratio {sorted(cpu_ratios)[1]:.3f}" in capsys.readouterr().out
