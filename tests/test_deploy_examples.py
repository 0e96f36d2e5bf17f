"""The deployment examples (deploy/docker-compose.yml, deploy/kubernetes.yaml) parse, run valid `coupon-harness
load` commands (the real CLI parser and option resolution accept them), inline no secret, and agree with
themselves: the workers reach the master on the port it binds, and the master waits for as many workers as
the Kubernetes example runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from coupon_harness.cli.main import build_parser
from coupon_harness.cli.option_table import LOAD, resolve, sources_from_namespace

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
KUBERNETES = ROOT / "deploy" / "kubernetes.yaml"
#: Variables that carry a credential: never given a value in an example.
SECRET_VARIABLES = {"COUPON_HARNESS_USER", "COUPON_HARNESS_PASSWORD", "COUPON_HARNESS_MD5_PASSWORD",
                    "COUPON_HARNESS_OAUTH_KEY", "COUPON_HARNESS_OAUTH_SECRET", "COUPON_HARNESS_TOKEN"}
SECRET_FLAGS = {"--user", "--password", "--oauth-key", "--oauth-secret", "--token"}
_DEFAULTED = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def _load_args(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """What `coupon-harness <argv>` resolves to, parsed and checked as the CLI does."""
    argv = [_DEFAULTED.sub(lambda match: match.group(1), arg) for arg in argv]  # compose's ${VAR:-default}
    assert argv[0] == "load", argv
    assert not SECRET_FLAGS.intersection(arg.split("=", 1)[0] for arg in argv), f"a credential inlined: {argv}"
    args = build_parser().parse_args(argv)
    return dict(resolve(sources_from_namespace(args, LOAD, environ or {}), LOAD).values)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _kubernetes() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(KUBERNETES.read_text()) if doc]


def _one(docs: list[dict[str, Any]], kind: str, role: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["labels"].get("role") == role]
    assert len(found) == 1, f"{kind} of role {role}: {len(found)}"
    return found[0]


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def test_compose_runs_a_master_and_scalable_workers_on_one_port() -> None:
    services = _compose()["services"]
    assert set(services) == {"master", "worker"}
    master, worker = services["master"], services["worker"]
    assert "replicas" not in worker.get("deploy", {}) and "container_name" not in worker, "worker must scale"
    master_args = _load_args(master["command"])
    worker_args = _load_args(worker["command"])
    assert master_args["master"] is True and master_args["expect-workers"] >= 1
    assert master_args["master-bind-host"] == "0.0.0.0", "workers in other containers must reach the master"
    assert worker_args["worker"] is True and worker_args["master-host"] == "master"
    assert worker_args["master-port"] == master_args["master-port"] == 5557
    assert "5557" in [str(port) for port in master.get("expose", []) + master.get("ports", [])]
    assert master["entrypoint"][-1] == worker["entrypoint"][-1] == "coupon-harness"
    assert master["entrypoint"][0:2] == ["sh", "-c"] and 'exec coupon-harness "$$@"' in master["entrypoint"][2]


def test_compose_passes_credentials_through_and_inlines_none() -> None:
    for name, service in _compose()["services"].items():
        environment = service["environment"]
        assert isinstance(environment, list), name
        for entry in environment:
            variable, _, value = entry.partition("=")
            if variable in SECRET_VARIABLES:
                assert not value, f"{name}: {variable} is given a value in the file"


def test_kubernetes_runs_a_master_its_service_and_worker_replicas() -> None:
    docs = _kubernetes()
    master = _one(docs, "Job", "master")
    service = _one(docs, "Service", "master")
    workers = _one(docs, "Deployment", "worker")
    master_args = _load_args(_container(master)["args"])
    worker_args = _load_args(_container(workers)["args"])
    assert master["spec"]["template"]["spec"]["restartPolicy"] == "Never", "a finished run must not start again"
    assert master_args["master"] is True and master_args["master-bind-host"] == "0.0.0.0"
    assert master_args["expect-workers"] == workers["spec"]["replicas"]
    assert worker_args["worker"] is True and worker_args["master-host"] == service["metadata"]["name"]
    port = master_args["master-port"]
    assert worker_args["master-port"] == port == 5557
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, port)]
    assert [p["containerPort"] for p in _container(master)["ports"]] == [port]
    labels = master["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(key) == value for key, value in service["spec"]["selector"].items())
    assert workers["spec"]["selector"]["matchLabels"] == workers["spec"]["template"]["metadata"]["labels"]


def test_kubernetes_takes_credentials_from_a_secret_only() -> None:
    docs = _kubernetes()
    assert not [doc for doc in docs if doc["kind"] == "Secret"], "a Secret with data belongs in no example file"
    settings = _one_config_map(docs)
    assert not SECRET_VARIABLES.intersection(settings["data"]), "credentials in a ConfigMap"
    _load_args(["load"], dict(settings["data"]))  # the ConfigMap's variables are valid settings
    for workload in (_one(docs, "Job", "master"), _one(docs, "Deployment", "worker")):
        container = _container(workload)
        assert {"secretRef": {"name": "coupon-harness-credentials"}} in container["envFrom"]
        for entry in container.get("env", []):
            if entry["name"] in SECRET_VARIABLES:
                assert "value" not in entry and "secretKeyRef" in entry.get("valueFrom", {}), entry


def _one_config_map(docs: list[dict[str, Any]]) -> dict[str, Any]:
    maps = [doc for doc in docs if doc["kind"] == "ConfigMap"]
    assert len(maps) == 1
    return maps[0]


@pytest.mark.parametrize("path", [COMPOSE, KUBERNETES], ids=lambda path: path.name)
def test_no_credential_looking_value_is_inlined(path: Path) -> None:
    text = path.read_text()
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        assert not re.search(r"(USER|PASSWORD|SECRET|TOKEN|KEY)\s*[:=]\s*['\"]?[^\s'\"$-]", line), line
