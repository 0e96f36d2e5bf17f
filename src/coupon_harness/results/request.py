"""A request as the harness sent it, credentials already redacted, and the curl command that replays it
(runners record samples, results and reports keep and show them).

The curl runs as pasted once the shell holds the secret: a redacted credential header becomes a double-quoted
reference to the variable the CLI reads it from (`-u "$COUPON_HARNESS_USER"`); every other word is single-quoted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from coupon_harness.results.codec import FrozenRecord, decode

__all__ = ["REDACTED_MARK", "TOKEN_VARIABLE", "USER_VARIABLE", "RequestSample", "credentials_help",
           "cross_request_notes", "finding_curl", "header_variable", "header_words", "headers_help", "request_dict",
           "to_curl"]

#: What `transport.auth.Redactor` puts where a secret was (results may not import transport).
REDACTED_MARK = "<redacted>"
#: The variables of --user (USER:PASSWORD) and --token (the CLI's option table names them the same way).
USER_VARIABLE = "COUPON_HARNESS_USER"
TOKEN_VARIABLE = "COUPON_HARNESS_TOKEN"
_TOKEN_HEADER = "x-cap-api-oauth-token"
#: A `.` or `..` segment of a path.
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


@dataclass(frozen=True, slots=True)
class RequestSample(FrozenRecord):
    """A request as sent, credentials already redacted."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None

    @property
    def curl(self) -> str:
        return to_curl(self)

    @classmethod
    def from_dict(cls, data: Any) -> RequestSample:
        """From `request_dict`'s form (a load result's `SampleData`); `codec.CodecError` (a ValueError) on
        anything else."""
        sample: RequestSample = decode(cls, data, "request")
        return sample


def request_dict(request: RequestSample) -> dict[str, Any]:
    """The sample as plain JSON-able data (what summary.json and the load recorders' deltas carry)."""
    return {"method": request.method, "url": request.url,
            "headers": [[name, value] for name, value in request.headers], "body": request.body}


def header_variable(name: str) -> str:
    """The variable that holds an extra header's value (`-H`) for a pasted replay line or curl:
    X-Api-Key -> COUPON_HARNESS_HEADER_X_API_KEY (the value itself is never written)."""
    return "COUPON_HARNESS_HEADER_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def header_words(name: str) -> str:
    """`-H "Name: ${COUPON_HARNESS_HEADER_NAME}"`: the header sent with its value from the environment (a name
    with a character the shell expands inside double quotes is single-quoted)."""
    reference = f'"${{{header_variable(name)}}}"'
    if re.fullmatch(r"[A-Za-z0-9._-]+", name):
        return f'-H "{name}: {reference[1:]}'
    return f"-H {shlex.quote(name + ': ')}{reference}"


def headers_help(names: Sequence[str]) -> str | None:
    """One sentence on the variables the extra headers (`-H`) of a run need; None without any."""
    if not names:
        return None
    listed = ", ".join(f"{header_variable(name)} ({name})" for name in names)
    return f"The replay line and the curl commands read each -H header's value from its variable: {listed}."


def _credential_words(name: str, value: str) -> str | None:
    """The curl words (already shell-quoted) that send the run's own credential from the environment, or None
    when the header is not a redacted credential."""
    if REDACTED_MARK not in value:
        return None
    lowered = name.lower()
    if lowered == "authorization" and value == f"Basic {REDACTED_MARK}":
        return f'-u "${USER_VARIABLE}"'
    scheme = value.partition(" ")[0]
    if lowered == "authorization" and scheme.lower() == "basic" and value == f"{scheme} {REDACTED_MARK}":
        # Another spelling of the scheme (the auth pass's lower-case probe): curl -u would write "Basic".
        return f'-H "{name}: {scheme} $(printf %s "${USER_VARIABLE}" | base64 | tr -d \'\\n\')"'
    if lowered == _TOKEN_HEADER and value == REDACTED_MARK:
        return f'-H "{name}: ${TOKEN_VARIABLE}"'
    if value == REDACTED_MARK and lowered != "authorization":  # an extra header's (-H) redacted value
        return header_words(name)
    return None


def to_curl(request: RequestSample, *, own_credentials: bool = True, without_credentials: bool = False) -> str:
    """A one-line curl command that runs as pasted into a POSIX shell, the run's redacted credentials read from
    $COUPON_HARNESS_USER (USER:PASSWORD) or $COUPON_HARNESS_TOKEN. `own_credentials=False`: the request carried
    wrong credentials of its own (an auth probe's), kept as recorded, never the user's. `without_credentials`:
    every redacted header left out (a step that must be refused 401)."""
    words = ["curl", "-X", shlex.quote(request.method)]
    for name, value in request.headers:
        if without_credentials and REDACTED_MARK in value:
            continue
        own = _credential_words(name, value) if own_credentials else None
        words.append(own or f"-H {shlex.quote(f'{name}: {value}')}")
    if request.body is not None:
        words += ["--data-raw", shlex.quote(request.body)]
    if _DOT_SEGMENT.search(urlsplit(request.url).path):
        words.append("--path-as-is")  # curl removes /./ and /../ otherwise (a routes probe sends them as is)
    words.append(shlex.quote(request.url))
    return " ".join(words)


def _comment(text: str) -> str:
    """`text` as shell comment lines (a newline in it must not turn the rest into a command)."""
    return "\n".join(f"# {line}".rstrip() for line in text.splitlines() or [""])


_CODE = re.compile(r"""series (?P<series>\S+) code (?P<code>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
                   r""" issued to customer (?P<customer>.+?), already issued""")
_SERIES = re.compile(r"^series (?P<series>\S+): (?P<changes>.*)$", re.DOTALL)
_CHANGE = re.compile(r"(?P<name>\w+) (?P<old>.*?) -> (?P<new>.*?)(?:; |$)", re.DOTALL)


def cross_request_notes(rule_id: str, received: str, earlier: int) -> list[str | None]:
    """What each request of a cross-request finding's sequence (`earlier` ones, then its own) showed in its answer,
    read from the Ledger's `received` text (the duplicated code; the first and the changed attributes); None where
    the text does not say."""
    notes: list[str | None] = [None] * (earlier + 1)
    if rule_id == "unique-codes" and (match := _CODE.search(received)):
        series, code, customer = match["series"], match["code"], match["customer"]
        for index in range(earlier):
            notes[index] = f"series {series} answered code {code} (its first holder)"
        notes[earlier] = f"series {series} answered the same code {code} to customer {customer}: a duplicate"
    elif rule_id == "series-attributes-stable" and (match := _SERIES.match(received)):
        changes = list(_CHANGE.finditer(match["changes"]))
        if changes:
            series = match["series"]
            before = ", ".join(f"{change['name']} {change['old']}" for change in changes)
            after = ", ".join(f"{change['name']} {change['new']}" for change in changes)
            for index in range(earlier):
                notes[index] = f"series {series} answered {before} (the series' first answer)"
            notes[earlier] = f"series {series} answered {after}: the attributes changed"
    return notes


def finding_curl(rule_id: str, received: str, sequence: Sequence[RequestSample], request: RequestSample, *,
                 own_credentials: bool = True, notes: Sequence[str | None] | None = None,
                 unauthenticated: Sequence[bool] = ()) -> str:
    """A finding's reproducer: the requests a cross-request rule needs first (`Finding.sequence`), then its own,
    each commented with what its answer showed (or its entry of `notes`, the finding's own last).
    `unauthenticated` marks the steps sent without credentials (per request, in order)."""
    if not sequence:
        return to_curl(request, own_credentials=own_credentials)
    if notes is None or len(notes) != len(sequence) + 1:
        notes = cross_request_notes(rule_id, received, len(sequence))
    lines = []
    for number, (step, note) in enumerate(zip([*sequence, request], notes, strict=True), start=1):
        lines.append(_comment(f"{number} of {len(notes)}" + (f": {note}" if note else "")))
        bare = number <= len(unauthenticated) and unauthenticated[number - 1]
        lines.append(to_curl(step, own_credentials=own_credentials, without_credentials=bare))
    return "\n".join(lines)


#: A run's credentials kind (as `RunShape.credentials` names them) -> the environment its curl commands need.
_CREDENTIALS_HELP = {
    "basic": f"The curl commands read the credentials from ${USER_VARIABLE} (USER:PASSWORD, as --user takes them).",
    "basic-md5": (f"The curl commands read the credentials from ${USER_VARIABLE}; the run hashed the password "
                  f"(--md5-password), so set {USER_VARIABLE} to USER:<the password's md5 hex> "
                  "(e.g. printf %s \"$PASSWORD\" | md5sum)."),
    "token": f"The curl commands read the token from ${TOKEN_VARIABLE} (as --token takes it).",
    "oauth": (f"The run fetched its tokens with --oauth-key/--oauth-secret: set {TOKEN_VARIABLE} to a token from "
              "POST /v3/oauth/token/generate (body {\"key\": ..., \"secret\": ...}, the token is "
              "data.accessToken) before pasting a curl command."),
}


def credentials_help(kind: str | None) -> str | None:
    """One sentence on the environment the curl commands need, for a run's credentials `kind`; None without
    credentials."""
    return _CREDENTIALS_HELP.get(kind) if kind is not None else None
