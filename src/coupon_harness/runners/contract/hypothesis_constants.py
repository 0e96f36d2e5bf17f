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

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["without_local_constants"]


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis draws no constant from the process's local modules inside the block."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    empty = Constants()
    saved = providers._get_local_constants
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()
