"""Exact polynomial arithmetic on the torus Z_{2^64}[X]/(X^N + 1).

Encryption and decryption need exact products of uniform masks with binary secret keys
(a float FFT would add noise far above the tiny GLWE noise of the default parameters).
Multiplying by a binary polynomial is a sum of negacyclic rotations, which Numba
vectorises well.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def mul_binary_accumulate(out: np.ndarray, poly: np.ndarray, key: np.ndarray) -> None:
    """out += poly * key mod (X^N + 1), key binary; all uint64, wrapping."""
    n = poly.shape[0]
    for j in range(n):
        if key[j] == 0:
            continue
        # X^j * poly: coefficients shift up by j, those past N come back negated.
        for i in range(n - j):
            out[i + j] += poly[i]
        for i in range(n - j, n):
            out[i + j - n] -= poly[i]


@njit(cache=True)
def rotate_negacyclic(out: np.ndarray, poly: np.ndarray, power: int) -> None:
    """out = X^power * poly mod (X^N + 1), for 0 <= power < 2N."""
    n = poly.shape[0]
    p = power % (2 * n)
    neg = p >= n
    if neg:
        p -= n
    for i in range(n - p):
        v = poly[i]
        out[i + p] = (np.uint64(0) - v) if neg else v
    for i in range(n - p, n):
        v = poly[i]
        out[i + p - n] = v if neg else (np.uint64(0) - v)
