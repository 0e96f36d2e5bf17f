"""Pure helpers of scripts/bench_load.py: the nginx config, the tolerance rule, the preflight message."""

from __future__ import annotations

import json

import pytest

from scripts_loader import load_script

bench = load_script("bench_load")


def test_nginx_conf_serves_the_static_body_on_loopback() -> None:
    conf = bench.nginx_conf("/tmp/x", 12345, bench.STATIC_BODY)
    assert "listen 127.0.0.1:12345;" in conf
    assert "worker_processes 1;" in conf and "access_log off;" in conf and "daemon off;" in conf
    assert "location = /v2/coupon/bulk/issue" in conf
    body = conf.split("return 200 '", 1)[1].split("';", 1)[0]
    assert json.loads(body) == bench.STATIC_BODY


def test_nginx_conf_refuses_quotes() -> None:
    with pytest.raises(ValueError):
        bench.nginx_conf("/tmp/x", 1, {"a": "it's"})


def test_static_body_is_two_far_future_entries() -> None:
    entries = bench.STATIC_BODY["response"]
    assert [e["entityId"] for e in entries] == list(bench.SERIES)
    assert all(e["result"]["validTill"].startswith("2099") for e in entries)


@pytest.mark.parametrize(("measured", "truth", "ok"), [
    (20.0, 20.0, True), (22.0, 20.0, True), (22.1, 20.0, False), (189.0, 200.0, True), (188.9, 200.0, False),
])
def test_within_five_percent_plus_one_ms(measured: float, truth: float, ok: bool) -> None:
    assert bench.within(measured, truth) is ok


def test_refuses_without_nginx(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench.shutil, "which", lambda tool: None if tool == "nginx" else f"/usr/bin/{tool}")
    assert bench.main(["--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apt-get install -y nginx" in err
