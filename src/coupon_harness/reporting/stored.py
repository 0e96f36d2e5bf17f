"""A run read back from its summary.json: the `result` member, in the result's own versioned JSON form
(`results/codec.py`). Replay, --compare, the index and the tests read a run this way only; the rest of
summary.json is for people and pipelines and is never parsed back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from coupon_harness.input_files import DATA_LIMIT, NESTED_TOO_DEEPLY, read_text
from coupon_harness.reporting.setup_error import refuse_setup_error
from coupon_harness.results.codec import FORMAT_PREFIX, CodecError, JsonRecord

__all__ = ["RESULT_KEY", "read_stored", "read_stored_any", "stored_member"]

#: summary.json's member that holds the run (`to_json`).
RESULT_KEY = "result"

R = TypeVar("R", bound=JsonRecord)


def stored_member(result: JsonRecord) -> dict[str, Any]:
    """What a summary.json writer adds for the run to be read back: `{"result": result.to_json()}`."""
    return {RESULT_KEY: result.to_json()}


def read_stored(path: Path, kind: type[R]) -> R:
    """The run of type `kind` that the summary.json at `path` holds (see `read_stored_any`)."""
    return cast(R, read_stored_any(path, (kind,)))


def read_stored_any(path: Path, kinds: Sequence[type[JsonRecord]]) -> JsonRecord:
    """The run, of one of `kinds`, that the summary.json at `path` holds; ValueError with one line on anything else
    (unreadable, no JSON, a setup error's, older than the `result` member, another kind, an unread version)."""
    try:
        data = json.loads(read_text(path, limit=DATA_LIMIT))
    except RecursionError:
        raise ValueError(f"{path} {NESTED_TOO_DEEPLY}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    refuse_setup_error(data, path)
    stored = data.get(RESULT_KEY) if isinstance(data, dict) else None
    name = " or ".join(FORMAT_PREFIX + kind.JSON_FORMAT for kind in kinds)
    if stored is None:
        schema = data.get("schema") if isinstance(data, dict) else None
        if isinstance(schema, str) and schema.startswith(FORMAT_PREFIX):
            raise ValueError(f"{path} was written by an older coupon-harness (before 0.2.0), whose summary.json "
                             f"cannot be read back: run again with this version to get a {name} record")
        raise ValueError(f"{path} is not a summary.json of coupon-harness (no {RESULT_KEY!r} member)")
    fmt = stored.get("format") if isinstance(stored, dict) else None
    kind = next((kind for kind in kinds if fmt == FORMAT_PREFIX + kind.JSON_FORMAT), kinds[0])
    try:
        return kind.from_json(stored)
    except CodecError as exc:
        raise ValueError(f"{path}: {exc}") from None
