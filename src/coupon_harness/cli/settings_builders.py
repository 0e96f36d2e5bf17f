"""One settings builder per runner, over `option_table.resolve(...)`: the CLI, the pytest plugin and the locustfile
all build their runner's settings here (`contract_settings`, `load_settings`, `locust_settings` for plain Locust,
`run_load_settings` for `run`'s load stage, `diff_settings`). Credentials are one `Credentials` object from the
options to the runner (`credentials`). No builder sends a request: the sandbox discovery stays with the callers.
"""

from __future__ import annotations

import difflib
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from coupon_harness.cli.option_table import (
    CONTRACT,
    CONTRACT_WORKERS_LOOPBACK,
    CONTRACT_WORKERS_REMOTE,
    LOAD,
    LOCUST_OWNS,
    PYTEST,
    RUN,
    Resolved,
    option,
    resolve,
    sources_from_namespace,
)
from coupon_harness.cli.options import check_base_url, userinfo_credentials
from coupon_harness.contract.expectations import Expectations
from coupon_harness.errors import ConfigError
from coupon_harness.log_setup import redact_with
from coupon_harness.runners.load.settings import LoadSettings, Slo, parse_slo
from coupon_harness.safety import coupon_cap, is_loopback, refuse_production
from coupon_harness.transport.auth import Credentials, Redactor
from coupon_harness.transport.credentials import TlsOptions

if TYPE_CHECKING:
    from coupon_harness.runners.contract.diff_settings import DiffSettings
    from coupon_harness.runners.contract.settings import ContractSettings

__all__ = ["against_target", "check_load_options", "contract_settings", "credentials", "diff_settings", "load_settings",
           "locust_options", "locust_settings", "run_load_settings", "run_slos", "secret_values", "target_url"]

DEFAULT_RUN_SLOS = ("p95=500ms", "error-rate=0.01")  # of `run`'s load stage, when none are given


def target_url(resolved: Resolved, base_url: str | None = None, url_flag: str | None = None
               ) -> tuple[str, Credentials | None]:
    """The checked base URL (without userinfo), past the production guard (its messages naming `url_flag`, else
    the way in's --base-url), and the credentials its userinfo held, if any."""
    url = base_url if base_url is not None else resolved.get("base-url")
    prefix = resolved.flag_prefix
    if url is None:
        raise ConfigError(f"no target: give {prefix}base-url URL (or base-url in the config file, or "
                          "COUPON_HARNESS_BASE_URL)")
    bare, from_url = userinfo_credentials(str(url))
    checked = check_base_url(bare, resolved.label("base-url") if base_url is None else "base URL")
    refuse_production(checked, allow=bool(resolved.get("allow-production")), url_flag=url_flag or f"{prefix}base-url",
                      allow_flag=f"{prefix}allow-production")
    return checked, from_url


def secret_values(resolved: Resolved) -> tuple[str, ...]:
    """The value of every secret option given, for the run's Redactor: a USER:PASSWORD value gives USER:PASSWORD
    and PASSWORD (a user name alone is no secret)."""
    found: list[str] = []
    for name, value in resolved.values.items():
        if not option(name).secret or value is None:
            continue
        if name == "header":  # (name, value) pairs: the values are the secrets
            found.extend(text for _, text in value)
            continue
        if isinstance(value, tuple | list):
            parts = [str(part) for part in value if part is not None]
            found.extend([":".join(parts), *parts[1:]] if len(parts) > 1 else [])
        else:
            found.append(str(value))
    return tuple(dict.fromkeys(found))


def credentials(resolved: Resolved, from_url: Credentials | None = None) -> Credentials:
    """The run's one Credentials, as the options give them (else the base URL's userinfo); `extra`: every secret
    option's value, redacted wherever it shows."""
    user, password = resolved.get("user") or (None, None)
    oauth_key, oauth_secret = resolved.get("oauth-key"), resolved.get("oauth-secret")
    one_kind(resolved)
    _oauth_pair(resolved, oauth_key, oauth_secret)
    given = Credentials(user=user, password=password, md5_password=bool(resolved.get("md5-password")),
                        oauth_key=oauth_key, oauth_secret=oauth_secret, token=resolved.get("token"),
                        extra=secret_values(resolved), headers=tuple(resolved.get("header", ())),
                        tls=tls_options(resolved))
    return _or_from_url(given, from_url, f"{resolved.flag_prefix}base-url")


def tls_options(resolved: Resolved) -> TlsOptions:
    """--tls-verify, --cacert, --client-cert, --client-key, each file checked (PEM) before any request."""
    import ssl

    def path(name: str) -> str | None:
        value = resolved.get(name)
        if value is None:
            return None
        if not value.is_file():
            raise ConfigError(f"{resolved.label(name)} {str(value)[:80]!r} is not a file: give a PEM file")
        return str(value)

    cacert, cert, key = path("cacert"), path("client-cert"), path("client-key")
    if key is not None and cert is None:
        raise ConfigError(f"{resolved.label('client-key')} gives a key but no certificate: give "
                          f"{resolved.flag_prefix}client-cert FILE too")
    try:
        context = ssl.create_default_context(cafile=cacert)
        if cert is not None:
            context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError, ValueError) as exc:
        which = [name for name in ("cacert", "client-cert", "client-key") if resolved.given(name)]
        raise ConfigError(f"{' / '.join(resolved.label(name) for name in which)}: not a usable PEM certificate or "
                          f"key ({type(exc).__name__}: {str(exc)[:80]})") from None
    return TlsOptions(verify=resolved.get("tls-verify", True) is not False, cacert=cacert, client_cert=cert,
                      client_key=key)


def _or_from_url(given: Credentials, from_url: Credentials | None, label: str) -> Credentials:
    """`given`, else (none given, as curl's -u wins over a URL's) the base URL's userinfo with `given`'s other
    settings; registered with the log redactor (`log_setup.redact_with`)."""
    if not given.any and from_url is not None:
        if from_url.user is not None and from_url.password is None:
            raise ConfigError(f"{label} holds a user but no password (http://USER@host): write "
                              "http://USER:PASSWORD@host, or give the credentials with --user USER:PASSWORD")
        given = replace(from_url, md5_password=given.md5_password, extra=given.extra, headers=given.headers,
                        tls=given.tls)
    redact_with(given, Redactor(given).text)
    return given


def one_kind(resolved: Resolved, *, against: bool = False) -> None:
    """Two kinds of credentials (Basic, OAuth, a token) are refused: the run would silently ignore one. `against`:
    those of `diff`'s second target."""
    pre = resolved.flag_prefix + ("against-" if against else "")
    names = "against-" if against else ""
    kinds = ((f"{names}user",), (f"{names}oauth-key", f"{names}oauth-secret"), (f"{names}token",))
    given = [next(resolved.label(name) for name in kind if resolved.given(name)) for kind in kinds
             if any(resolved.given(name) for name in kind)]
    if len(given) > 1:
        raise ConfigError(f"{given[0]} and {given[1]} are two kinds of credentials: give one of them ({pre}user "
                          f"USER:PASSWORD, {pre}token TOKEN, or {pre}oauth-key KEY with {pre}oauth-secret SECRET)")


def _oauth_pair(resolved: Resolved, key: str | None, secret: str | None, *, against: bool = False) -> None:
    """An OAuth key needs its secret, and a secret its key (`against`: those of diff's second target)."""
    name = "against-oauth" if against else "oauth"
    flag = resolved.flag_prefix + name
    if key is not None and secret is None:
        raise ConfigError(f"{resolved.label(name + '-key')} needs {flag}-secret"
                          + ("" if against else " (or COUPON_HARNESS_OAUTH_SECRET)"))
    if secret is not None and key is None:
        raise ConfigError(f"{resolved.label(name + '-secret')} is the secret of {flag}-key: give {flag}-key KEY too"
                          + ("" if against else " (or COUPON_HARNESS_OAUTH_KEY)"))


def _expectations(resolved: Resolved) -> Expectations:
    valid = frozenset(resolved.get("series-ids", ()))
    invalid = frozenset(resolved.get("invalid-series-ids", ()))
    if valid & invalid:
        raise ConfigError(f"series {sorted(valid & invalid)[0]} is in both {resolved.label('series-ids')} and "
                          f"{resolved.label('invalid-series-ids')}")
    return Expectations(valid_series=valid, invalid_series=invalid,
                        generic_series=frozenset(resolved.get("generic-series-ids", ())))


def contract_settings(resolved: Resolved, *, base_url: str | None = None) -> ContractSettings:
    """The contract run's settings, the production guard passed. `base_url`: a target the caller started."""
    from coupon_harness.runners.contract.settings import ContractSettings

    url, from_url = target_url(resolved, base_url)
    seed = resolved.get("seed")
    report_dir = resolved.get("report-dir") if resolved.scope != RUN else None
    return ContractSettings(
        base_url=url, credentials=credentials(resolved, from_url), expectations=_expectations(resolved),
        customer_ids=resolved.get("customer-ids", ()), max_examples=resolved.get("max-examples", 100),
        **({"passes": resolved.get("passes")} if resolved.given("passes") else {}),
        seed=seed if seed is not None else secrets.randbelow(2**31), report_dir=report_dir,
        request_timeout=resolved.get("request-timeout", 5.0), allow_production=bool(resolved.get("allow-production")),
        left_out=left_out_rules(resolved), **_baseline_fields(resolved), **_pace_fields(resolved, url))


def _pace_fields(resolved: Resolved, url: str) -> dict[str, Any]:
    """--workers and --max-rps of a contract run (`load` and `capacity` read --workers as their processes)."""
    if resolved.scope not in (CONTRACT, RUN, PYTEST):
        return {}
    workers = resolved.get("workers") or (CONTRACT_WORKERS_LOOPBACK if is_loopback(url) else CONTRACT_WORKERS_REMOTE)
    return {"workers": workers, "max_rps": resolved.get("max-rps")}


def left_out_rules(resolved: Resolved) -> tuple[tuple[str, str], ...]:
    """(rule id, why) for every rule --rules leaves out or --exclude-rules names."""
    from coupon_harness.contract.catalog import rules

    known = [rule.id for rule in rules()]
    chosen: dict[str, tuple[str, ...]] = {}
    for name in ("rules", "exclude-rules"):
        ids = resolved.get(name, ())
        for rule_id in ids:
            if rule_id not in known:
                close = difflib.get_close_matches(rule_id, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ConfigError(f"{resolved.label(name)}: {rule_id[:60]!r} is not a rule{hint}: the rules are "
                                  "listed in docs/rules.md and in a contract report")
        chosen[name] = ids
    if resolved.given("rules") and not chosen["rules"]:
        raise ConfigError(f"{resolved.label('rules')} is empty: give one or more rule ids")
    out: dict[str, str] = {}
    if resolved.given("rules"):
        out.update((rule_id, f"left out: not in {resolved.label('rules')}") for rule_id in known
                   if rule_id not in chosen["rules"])
    out.update((rule_id, f"left out by {resolved.label('exclude-rules')}") for rule_id in chosen["exclude-rules"])
    if len(out) == len(known):
        which = "exclude-rules" if resolved.given("exclude-rules") else "rules"
        raise ConfigError(f"{resolved.label(which)} leaves no rule to run: keep at least one")
    return tuple((rule_id, out[rule_id]) for rule_id in known if rule_id in out)


def _baseline_fields(resolved: Resolved) -> dict[str, Any]:
    update = bool(resolved.get("baseline-update"))
    if update and not resolved.given("baseline"):
        raise ConfigError(f"{resolved.label('baseline-update')} rewrites a baseline: give {resolved.flag_prefix}"
                          "baseline FILE too")
    path = resolved.get("baseline")
    if path is not None:
        from coupon_harness.results.baseline import Baseline

        Baseline.load(path, missing_ok=update)  # an input like any other: a bad file is exit 2 before the claim
    return {"baseline": path, "baseline_update": update}


def check_load_options(resolved: Resolved) -> None:
    """What the load options say among themselves, before any request (the sandbox discovery included)."""
    prefix = resolved.flag_prefix
    if resolved.get("master") and resolved.get("worker"):
        raise ConfigError(f"{resolved.label('master')} and {resolved.label('worker')} exclude each other: one process "
                          f"is the master ({prefix}master) or one of its workers ({prefix}worker), not both")
    for role in ("master", "worker"):
        if resolved.get(role) and resolved.get("workers", 0):
            raise ConfigError(f"{resolved.label('workers')} starts local workers under a master of its own: drop it "
                              f"with {resolved.label(role)} (a {role} of a distributed run)")
    if resolved.get("arrival-rate") is not None and resolved.get("shape", "steady") != "steady":
        raise ConfigError(f"{resolved.label('arrival-rate')} runs at a constant rate: drop "
                          f"{resolved.flag_prefix}shape (or use {resolved.flag_prefix}users for shapes)")
    _abort_fields(resolved)
    if resolved.given("prometheus-host") and not resolved.given("prometheus-port"):
        raise ConfigError(f"{resolved.label('prometheus-host')} is the address of {resolved.flag_prefix}"
                          f"prometheus-port: give {resolved.flag_prefix}prometheus-port PORT too")


def _abort_fields(resolved: Resolved) -> dict[str, Any]:
    """--abort-on-fail and its two settings (which mean nothing without it: refused alone, not ignored)."""
    on = bool(resolved.get("abort-on-fail"))
    for name in ("abort-violations", "abort-grace"):
        if resolved.given(name) and not on:
            raise ConfigError(f"{resolved.label(name)} only acts with {resolved.flag_prefix}abort-on-fail: add "
                              f"{resolved.flag_prefix}abort-on-fail (or drop it)")
    return {"abort_on_fail": on, "abort_violations": resolved.get("abort-violations", 1),
            "abort_grace_s": resolved.get("abort-grace", 5.0)}


def load_settings(resolved: Resolved, *, base_url: str | None = None, known: ContractSettings | None = None,
                  url_flag: str | None = None, **overrides: Any) -> LoadSettings:
    """The load run's settings. `known`: what a sandbox told of itself, used where the options say nothing.
    `url_flag` (plain Locust: --host) and `overrides` (LoadSettings fields of -u, -r, -t): another way in's."""
    check_load_options(resolved)
    url, from_url = target_url(resolved, base_url, url_flag)
    prefix = resolved.flag_prefix
    creds = credentials(resolved, from_url)
    expectations = _expectations(resolved)
    if known is not None:
        if not creds.any:
            creds = replace(known.credentials, extra=(*known.credentials.extra, *creds.extra))
        if not expectations.valid_series:
            expectations = replace(known.expectations,
                                   generic_series=expectations.generic_series | known.expectations.generic_series)
    if not expectations.valid_series:
        raise ConfigError(f"a load run needs series that issue coupons: give {prefix}series-ids 101,102")
    invalid_share = resolved.get("invalid-share", 0.0)
    if invalid_share > 0 and not expectations.invalid_series:
        raise ConfigError(f"{resolved.label('invalid-share')} needs {prefix}invalid-series-ids")
    arrival_rate = resolved.get("arrival-rate")
    users = resolved.get("users", max(10, int(arrival_rate)) if arrival_rate else 10)
    workers = resolved.get("expect-workers", 1) if resolved.get("master") else resolved.get("workers", 0)
    batch_min, batch_max = resolved.get("batch-size", (1, 2))
    fields: dict[str, Any] = dict(
        base_url=url, series_ids=_ordered(resolved, "series-ids", expectations.valid_series),
        invalid_series_ids=_ordered(resolved, "invalid-series-ids", expectations.invalid_series),
        generic_series_ids=_ordered(resolved, "generic-series-ids", expectations.generic_series),
        invalid_share=invalid_share, batch_min=batch_min, batch_max=batch_max,
        customer_ids=tuple(resolved.get("customer-ids", ())), credentials=creds,
        users=users, spawn_rate=resolved.get("spawn-rate", float(users)), run_time_s=resolved.get("run-time", 30.0),
        wait_s=resolved.get("wait", 0.0), arrival_rate=arrival_rate, shape=resolved.get("shape", "steady"),
        slos=tuple(resolved.get("slo", ())), workers=workers, request_timeout=resolved.get("request-timeout", 10.0),
        allow_production=bool(resolved.get("allow-production")), prometheus_port=resolved.get("prometheus-port"),
        prometheus_host=resolved.get("prometheus-host", "127.0.0.1"), **_abort_fields(resolved))
    fields.update(overrides)
    fields["max_coupons"] = coupon_cap(url, overrides.get("max_coupons", resolved.get("max-coupons")))
    return LoadSettings(**fields)


def locust_options(options: Any) -> Resolved:
    """Plain Locust's load options: the locustfile's flags (`add_options(parser, LOAD, exclude=LOCUST_OWNS)`), their
    variables and, through COUPON_HARNESS_CONFIG, a config-file target."""
    return resolve(sources_from_namespace(options, LOAD, exclude=LOCUST_OWNS), LOAD)


def locust_settings(options: Any, host: str | None, *, known: ContractSettings | None = None,
                    resolved: Resolved | None = None) -> LoadSettings:
    """Plain Locust's load settings: the load options, the target from --host, -u, -r and -t as Locust's."""
    resolved = resolved if resolved is not None else locust_options(options)
    if not host:
        raise ConfigError("no target: give --host URL")
    users = int(getattr(options, "num_users", None) or 1)
    return load_settings(resolved, base_url=host, known=known, url_flag="--host", users=users,
                         spawn_rate=float(getattr(options, "spawn_rate", None) or users),
                         run_time_s=float(getattr(options, "run_time", None) or 0) or 3600.0,
                         # Its workers are not told -t, and the web UI runs until stopped: the timeline's intervals
                         # follow the traffic as it comes (1 s, coarser as it grows), whatever -t says.
                         open_ended=True)


def _ordered(resolved: Resolved, name: str, known: frozenset[int]) -> tuple[int, ...]:
    """The ids as given (their order), or the known ones sorted."""
    return tuple(resolved.get(name)) if resolved.given(name) else tuple(sorted(known))


def run_slos(resolved: Resolved) -> tuple[Slo, ...]:
    if resolved.given("load-slo"):
        return tuple(resolved.get("load-slo"))
    return tuple(parse_slo(text, "--load-slo") for text in DEFAULT_RUN_SLOS)


def run_load_settings(contract: ContractSettings, resolved: Resolved) -> LoadSettings:
    """`run`'s short load stage against the contract run's target, with what that run knew: a smoke load, a
    closed model throttled not to saturate the machine it may share with the sandbox."""
    assert resolved.scope == RUN, resolved.scope
    if not contract.expectations.valid_series:
        raise ConfigError("the load run needs series that issue coupons: give --series-ids (or --no-load)")
    refuse_production(contract.base_url, allow=contract.allow_production)
    users = resolved.get("load-users", 10)
    wait_s = 0.05  # after every answer: at most ~20 requests/s a user; a slow target simply gets fewer
    return LoadSettings(
        base_url=contract.base_url, series_ids=tuple(sorted(contract.expectations.valid_series)),
        invalid_series_ids=tuple(sorted(contract.expectations.invalid_series)),
        generic_series_ids=tuple(sorted(contract.expectations.generic_series)),
        credentials=contract.credentials, users=users, spawn_rate=float(users), wait_s=wait_s,
        run_time_s=resolved.get("load-run-time", 10.0), slos=run_slos(resolved),
        max_coupons=coupon_cap(contract.base_url, resolved.get("max-coupons")),
        allow_production=contract.allow_production,
        # One deadline in every client: a --request-timeout given to `run` holds for its load stage too.
        request_timeout=resolved.get("request-timeout", 10.0), **_abort_fields(resolved))



#: What an `--against-target` table gives the second target of `diff` (the rest of it is not read).
_AGAINST_KEYS = ("base-url", "user", "password", "md5-password", "oauth-key", "oauth-secret", "token")


def _against_table(resolved: Resolved) -> tuple[dict[str, Any], str]:
    """The second target's base URL and credentials from `--against-target NAME` of the same --config file."""
    from coupon_harness.config import read_target_table

    name = resolved.get("against-target")
    if name is None:
        return {}, ""
    config = resolved.get("config")
    prefix = resolved.flag_prefix
    if config is None:
        raise ConfigError(f"{resolved.label('against-target')} names a target of {prefix}config FILE: give "
                          f"{prefix}config too")
    where, table = read_target_table(config, name)
    values = {key: option(key).parse(table[key], f"{where} {key}") for key in _AGAINST_KEYS if key in table}
    return values, where


def against_target(resolved: Resolved) -> tuple[str, Credentials]:
    """`diff`'s second target: its checked base URL and credentials. The `--against-*` options win over the
    `--against-target` table, whose credentials are left out when --against-url names another server."""
    table, where = _against_table(resolved)
    prefix = resolved.flag_prefix
    url = resolved.get("against-url")
    label = resolved.label("against-url")
    if url is None:
        if "base-url" not in table:
            raise ConfigError(f"no second target: give {prefix}against-url URL (or {prefix}against-target NAME of "
                              f"{prefix}config)")
        url, label = table["base-url"], f"{where} base-url"
    elif "base-url" in table and str(table["base-url"]).rstrip("/") != str(url).rstrip("/"):
        table = {}
    bare, from_url = userinfo_credentials(str(url))
    checked = check_base_url(bare, label)
    one_kind(resolved, against=True)
    user, password = resolved.get("against-user") or table.get("user") or (None, None)
    if resolved.given("against-password"):
        if not resolved.given("against-user") and "user" not in table:
            raise ConfigError(f"{resolved.label('against-password')} gives a password but no user: give "
                              f"{prefix}against-user USER too")
        password = resolved.get("against-password")
    elif "password" in table and not resolved.given("against-user"):
        password = table["password"]
    oauth_key = resolved.get("against-oauth-key", table.get("oauth-key"))
    oauth_secret = resolved.get("against-oauth-secret", table.get("oauth-secret"))
    _oauth_pair(resolved, oauth_key, oauth_secret, against=True)
    md5 = bool(resolved.get("against-md5-password", table.get("md5-password", False)))
    given = Credentials(user=user, password=password, md5_password=md5, oauth_key=oauth_key,
                        oauth_secret=oauth_secret, token=resolved.get("against-token", table.get("token")),
                        headers=tuple(resolved.get("header", ())),  # -H and TLS: for both targets
                        tls=tls_options(resolved))
    kinds = [kind for kind, present in (("user", user is not None), ("OAuth key", oauth_key is not None),
                                         ("token", given.token is not None)) if present]
    if len(kinds) > 1:
        raise ConfigError(f"the second target's credentials ({where or label}) hold a {kinds[0]} and a {kinds[1]}, "
                          f"two kinds of credentials: give one of them ({prefix}against-user, {prefix}against-token, "
                          f"or {prefix}against-oauth-key with its secret)")
    if user is not None and password is None:
        source = resolved.label("against-user") if resolved.given("against-user") else f"{where} user"
        raise ConfigError(f"{source} gives a user but no password: write USER:PASSWORD, or give the password with "
                          f"{prefix}against-password")
    return checked, _or_from_url(given, from_url, label)


def diff_settings(resolved: Resolved) -> DiffSettings:
    """`diff`'s settings: the base target as a contract run's, the second one, the maps and the coupon cap; both
    URLs past the production guard (one --allow-production covers both)."""
    from coupon_harness.runners.contract.diff_settings import DiffSettings

    base = contract_settings(resolved)
    url, creds = against_target(resolved)
    prefix = resolved.flag_prefix
    refuse_production(url, allow=base.allow_production, url_flag=f"{prefix}against-url",
                      allow_flag=f"{prefix}allow-production")
    if url.rstrip("/") == base.base_url.rstrip("/"):
        raise ConfigError(f"{resolved.label('against-url')} is {prefix}base-url itself: give the other deployment's "
                          "URL")
    caps = [cap for cap in (coupon_cap(base.base_url, resolved.get("max-coupons")),
                            coupon_cap(url, resolved.get("max-coupons"))) if cap is not None]
    return DiffSettings(base=base, against_url=url, against_credentials=creds,
                        series_map=resolved.get("series-map", {}), customer_map=resolved.get("customer-map", {}),
                        max_coupons=min(caps) if caps else None)
