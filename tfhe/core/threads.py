"""Whether the engine's kernels may run from several Python threads at once.

The bootstrap kernels release the GIL, so two operations started from two threads use two
cores. Their parallel loops go through Numba's threading layer: the OpenMP and TBB layers
accept calls from concurrent threads, the "workqueue" fallback (no OpenMP runtime, no TBB
installed) aborts the process. Callers check before running operations concurrently.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

_CONCURRENT_LAYERS = frozenset({"omp", "tbb"})


@njit(cache=True, parallel=True)
def _probe(x: np.ndarray) -> None:
    for i in prange(x.shape[0]):
        x[i] += 1.0


def concurrent_calls_safe() -> bool:
    """True when Numba's threading layer accepts parallel kernels from concurrent threads."""
    _probe(np.zeros(2))  # the layer is chosen at the first parallel call
    return numba.threading_layer() in _CONCURRENT_LAYERS
