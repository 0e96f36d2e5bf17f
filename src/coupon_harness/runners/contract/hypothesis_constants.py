"""One seed, one run, whatever else the process imported.

Hypothesis now and then draws a constant found in the source of the process's "local" modules
(`providers._get_local_constants`), and which are loaded depends on how the harness runs (CLI, pytest plugin, one
worker of a suite): the same `--seed` sent other cases. The passes run with that pool empty. The package's one
reach into Hypothesis internals, pinned by tests/contract_layer/test_hypothesis_constants.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["without_local_constants"]

#: The patch is a module global of Hypothesis, shared by blocks in several threads: the first to enter patches, the
#: last to leave restores.
_lock = threading.Lock()
_inside = 0
_saved: Callable[[], Any] | None = None


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis draws no constant from the process's local modules inside the block (thread-safe: see `_lock`)."""
    global _inside, _saved
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    with _lock:
        if _inside == 0:
            empty = Constants()
            _saved = providers._get_local_constants
            providers._get_local_constants = lambda: empty
            providers.CONSTANTS_CACHE.cache.clear()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _saved is not None:
                providers._get_local_constants = _saved
                _saved = None
                providers.CONSTANTS_CACHE.cache.clear()
