"""TLS: --tls-verify/--no-tls-verify, --cacert, --client-cert/--client-key, used by every client the harness builds.

Against a local HTTPS sandbox with a self-signed certificate made here (openssl CLI): the default (verify) is a
one-line exit-2 error naming --cacert; --no-tls-verify passes; --cacert with the certificate passes. The load
user's gevent client is checked on its own (the preflight stops a load run before its users start)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.tls_sandbox import HAVE_OPENSSL, TlsSandbox, https_sandbox, make_cert
from coupon_harness.cli.main import main
from coupon_harness.cli.option_table import CONTRACT, Sources, resolve
from coupon_harness.cli.settings_builders import credentials
from coupon_harness.errors import ConfigError

pytestmark = pytest.mark.skipif(not HAVE_OPENSSL, reason="needs the openssl CLI to make a certificate")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSandbox]:
    with https_sandbox(tmp_path_factory.mktemp("tls")) as running:
        yield running


def _contract(sandbox: TlsSandbox, folder: Path, *flags: str) -> int:
    return main(["contract", "--base-url", sandbox.base_url, "--passes", "classics", "--seed", "1", "-q",
                 "--report-dir", str(folder), *flags])


def test_an_untrusted_certificate_is_one_line_naming_cacert(sandbox: TlsSandbox, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _contract(sandbox, tmp_path / "r") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not trusted" in err[0] and "--cacert FILE" in err[0] and "--no-tls-verify" in err[0]


def test_no_tls_verify_passes(sandbox: TlsSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _contract(sandbox, tmp_path / "r", "--no-tls-verify") == 0
    assert "InsecureRequestWarning" not in capsys.readouterr().err


def test_cacert_passes(sandbox: TlsSandbox, tmp_path: Path) -> None:
    assert _contract(sandbox, tmp_path / "r", "--cacert", str(sandbox.cert)) == 0


def test_tls_verify_restores_a_variables_no(sandbox: TlsSandbox, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUPON_HARNESS_TLS_VERIFY", "false")
    assert _contract(sandbox, tmp_path / "a") == 0
    assert _contract(sandbox, tmp_path / "b", "--tls-verify") == 2


def test_load_with_cacert_passes(sandbox: TlsSandbox, tmp_path: Path) -> None:
    assert main(["load", "--base-url", sandbox.base_url, "-u", "2", "-t", "1s", "-q", "--cacert", str(sandbox.cert),
                 "--report-dir", str(tmp_path / "r")]) == 0


_CHILD = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import json, sys
    from coupon_harness import ENDPOINT
    from coupon_harness.transport.credentials import TlsOptions
    from coupon_harness.transport.outbound import OutboundPolicy
    from coupon_harness.transport.outbound_gevent import LoadClient

    url, cert = sys.argv[1], sys.argv[2]
    out = {}
    for name, tls in (("default", TlsOptions()), ("cacert", TlsOptions(cacert=cert)),
                      ("no-verify", TlsOptions(verify=False))):
        reply = LoadClient(url, OutboundPolicy(timeout=5.0, tls=tls)).post(
            ENDPOINT, b'{"seriesIds": [101], "customer": {"id": "c-1"}}', {"Content-Type": "application/json"})
        out[name] = [reply.status, reply.error]
    print(json.dumps(out))
""")


def test_the_load_users_client_speaks_the_same_tls(sandbox: TlsSandbox) -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD, sandbox.base_url, str(sandbox.cert)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["default"] == [None, "connection"]
    assert got["cacert"][0] == 401 and got["no-verify"][0] == 401  # an answer: the handshake held (no credentials)


def test_a_bad_cacert_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="--cacert: not a usable PEM"):
        credentials(resolve(Sources(flags={"base-url": "https://127.0.0.1:1", "cacert": str(bad)}, environ={}),
                            CONTRACT))
    with pytest.raises(ConfigError, match="is not a file"):
        credentials(resolve(Sources(flags={"cacert": str(tmp_path / "none.pem")}, environ={}), CONTRACT))
    with pytest.raises(ConfigError, match="gives a key but no certificate"):
        credentials(resolve(Sources(flags={"client-key": str(bad)}, environ={}), CONTRACT))


def test_mutual_tls_sends_the_client_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client_cert, client_key = make_cert(tmp_path, "client-")
    with https_sandbox(tmp_path, client_ca=client_cert) as mtls:
        assert _contract(mtls, tmp_path / "a", "--cacert", str(mtls.cert)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--client-cert" in err[0], err
        assert _contract(mtls, tmp_path / "b", "--cacert", str(mtls.cert), "--client-cert", str(client_cert),
                         "--client-key", str(client_key)) == 0
