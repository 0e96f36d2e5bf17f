"""One seed, one run, whatever else the process imported.

Hypothesis (6.13x on) now and then (5% of draws) picks a constant it found in the source of the "local" modules
loaded in the process (`hypothesis/internal/conjecture/providers.py`: `_get_local_constants`, cached per choice in
`CONSTANTS_CACHE`). Which modules are local and loaded depends on how the harness runs: an editable install, the
pytest plugin inside a user's project, one worker of a test suite. So the same `--seed` sent other cases from the
CLI than from the pytest plugin, and a self-test found a bug alone and missed it beside other tests. The harness's
passes run with that pool empty (Hypothesis' own global constants stay). The package's one reach into Hypothesis
internals, pinned by tests/contract_layer/test_hypothesis_constants.py to the version it was written for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["without_local_constants"]

#: The patch is a module global of Hypothesis, so blocks entered from several threads share it: the first to enter
#: patches, the last to leave restores what the first saved (a thread leaving early never restores it under
#: another still inside, nor restores the patch itself).
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
