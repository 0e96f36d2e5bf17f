"""A master with workers loses no code: coupons.csv equals what the target sent, to the last answer.

Before, the master quit 0.5 s after telling its workers to (Locust's own quit), and a worker still finishing
requests lost its last seconds of figures and codes (about 13% of a short run)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from tests.load.support import coupon_rows, describe, load_settings

from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.server import running_sandbox


class _Sent:
    def __init__(self) -> None:
        self.codes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, answer: Answer) -> Answer:
        if answer.status == 200 and isinstance(answer.body, dict):
            with self._lock:
                for entity in answer.body.get("response", []):
                    result = entity.get("result")
                    if isinstance(result, dict) and result.get("code"):
                        self.codes[(str(entity.get("entityId")), result["code"])] += 1
        return answer


def test_a_distributed_run_lists_every_code_the_target_sent(tmp_path: Path) -> None:
    sent = _Sent()
    with running_sandbox(mutate=sent) as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=10, run_time_s=4.0, workers=2,
                                        invalid_series_ids=()), tmp_path)
    listed = Counter((row[0], row[1]) for row in coupon_rows(tmp_path)[1:])
    assert sent.codes, describe(result)
    assert listed == sent.codes, (f"coupons.csv lists {sum(listed.values())} codes, the sandbox sent "
                                  f"{sum(sent.codes.values())}\n{describe(result)}")
    assert result.coupons_issued == sum(sent.codes.values()), describe(result)
    assert not result.notes or "no last report" not in " ".join(result.notes), result.notes
