"""Oblivious pseudo-random blocks: random values that nobody learns, not even the server.

As in tfhe-rs's OPRF: a public seed is expanded (ChaCha20) into the mask of a small-key LWE
ciphertext whose body is zero. Its phase -<a, s> is uniform and unknown without the secret
key. Switched to Z_2N, the phase selects a coefficient of a lookup table by blind rotation;
the negacyclic table T[l] = (2 g(l) + 1) * delta / 2 with g(l) = floor(l * M / N) gives
+-(2 g + 1) * delta / 2, and adding (M - 1/2) * delta makes the block uniform on [0, 2M).
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit, prange

from .bootstrap import blind_rotate_lwe
from .csprng import Csprng
from .glwe import sample_extract_into


def oprf_table(polynomial_size: int, delta_log2: int, random_bits: int) -> tuple[np.ndarray,
                                                                                  np.uint64]:
    """The test polynomial and the body offset for `random_bits` (1 or 2) uniform bits."""
    if random_bits not in (1, 2):
        raise ValueError("one block carries 1 or 2 random bits")
    half_m = 1 << (random_bits - 1)  # M: values g(l) in [0, M)
    n = polynomial_size
    half_delta = np.uint64(1) << np.uint64(delta_log2 - 1)
    g = (np.arange(n, dtype=np.uint64) * np.uint64(half_m)) // np.uint64(n)
    poly = (np.uint64(2) * g + np.uint64(1)) * half_delta
    offset = np.uint64(2 * half_m - 1) * half_delta
    return poly.astype(np.uint64), offset


def seeded_masks(seed: bytes, count: int, lwe_dimension: int) -> np.ndarray:
    """Public masks (count, n + 1), body zero, expanded from the seed."""
    rng = Csprng(hashlib.blake2b(seed, digest_size=32, person=b"fhevm-py-oprf").digest())
    out = np.zeros((count, lwe_dimension + 1), dtype=np.uint64)
    for i in range(count):
        out[i, :lwe_dimension] = rng.fork(b"block-%d" % i).uniform_u64(lwe_dimension)
    return out


@njit(cache=True, parallel=True)
def oprf_batch(masks: np.ndarray, lut_index: np.ndarray, luts: np.ndarray,
               offsets: np.ndarray, bsk: np.ndarray, plan: np.ndarray, base_log: int,
               level: int, kp1: int, out: np.ndarray) -> None:
    """out[c] = sample-extracted blind rotation of luts[lut_index[c]] by masks[c], + offset.

    `plan` is whatever the engine's blind rotation takes with its bootstrapping key.
    """
    for c in prange(masks.shape[0]):
        acc = blind_rotate_lwe(masks[c], luts[lut_index[c]], bsk, plan, base_log, level, kp1)
        sample_extract_into(acc, out[c])
        out[c, out.shape[1] - 1] += offsets[lut_index[c]]
