"""GGSW encryptions and the bootstrapping key.

A GGSW encryption of a bit mu is a matrix of GLWE encryptions of zero to which mu times
the gadget vector (q / B^j on component c) is added: row (c, j) decrypts to mu * q/B^j on
component c. The bootstrapping key holds one GGSW per bit of the small LWE key, stored in
the Fourier domain in the layout of `bootstrap` (float64, (n, N/2, 2, (k+1) * level, k+1),
pre-scaled by 2/N).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import fft_batch, glwe
from .csprng import Csprng


def encrypt_ggsw(glwe_key: np.ndarray, bits: np.ndarray, base_log: int, level: int,
                 noise_log2: int, rng: Csprng) -> np.ndarray:
    """GGSW encryptions of each bit: (len(bits), (k+1)*level, k+1, N) uint64."""
    k, n = glwe_key.shape
    rows = (k + 1) * level
    count = bits.shape[0]
    zeros = np.zeros((count * rows, n), dtype=np.uint64)
    out = glwe.encrypt(glwe_key, zeros, noise_log2, rng).reshape(count, rows, k + 1, n)
    for c in range(k + 1):
        for j in range(level):
            gadget = np.uint64(1) << np.uint64(64 - base_log * (j + 1))
            out[:, c * level + j, c, 0] += bits.astype(np.uint64) * gadget
    return out


def bootstrap_key(
    lwe_key: np.ndarray, glwe_key: np.ndarray, base_log: int, level: int, noise_log2: int,
    rng: Csprng, plan: np.ndarray, progress: Callable[[int], None] | None = None,
    chunk: int = 32,
) -> np.ndarray:
    """Fourier-domain bootstrapping key, generated in chunks to report progress."""
    n = lwe_key.shape[0]
    k, big_n = glwe_key.shape
    h = big_n // 2
    rows = (k + 1) * level
    out = np.empty((n, h, 2, rows, k + 1), dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        std = encrypt_ggsw(glwe_key, lwe_key[start:stop], base_log, level, noise_log2, rng)
        re, im = fft_batch.forward_u64(std.reshape(-1, big_n), plan)
        shape = (h, stop - start, rows, k + 1)
        out[start:stop, :, 0] = re.reshape(shape).transpose(1, 0, 2, 3) / h
        out[start:stop, :, 1] = im.reshape(shape).transpose(1, 0, 2, 3) / h
        if progress is not None:
            progress(stop - start)
    return out
