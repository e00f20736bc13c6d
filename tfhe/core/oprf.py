"""Oblivious pseudo-random blocks: random values that nobody learns, not even the server.

As in tfhe-rs's OPRF: a public seed is expanded (ChaCha20) into the mask of a small-key LWE
ciphertext whose body is zero. Its phase -<a, s> is uniform and unknown without the secret
key. Switched to Z_2N, the phase selects a coefficient of a lookup table by blind rotation;
the negacyclic table T[l] = (2 g(l) + 1) * delta / 2 with g(l) = floor(l * M / N) gives
+-(2 g + 1) * delta / 2, and adding (M - 1/2) * delta makes the block uniform on [0, 2M).

The blind rotations go through the engine's batch API (see `blind_rotator`), so they run
on every core with the engine's fastest kernels and never embed a stale copy of them.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from ..keys import ServerKey
from .csprng import Csprng


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
    """Public masks (count, n), expanded from the seed, one independent stream per block."""
    rng = Csprng(hashlib.blake2b(seed, digest_size=32, person=b"fhevm-py-oprf").digest())
    out = np.empty((count, lwe_dimension), dtype=np.uint64)
    for i in range(count):
        out[i] = rng.fork(b"block-%d" % i).uniform_u64(lwe_dimension)
    return out


def blind_rotator(server_key: ServerKey, bsk: np.ndarray, small_dimension: int,
                  pbs_base_log: int, pbs_level: int):
    """A shortint server key that blind-rotates LWEs already under a small key.

    Its keyswitching key is the public, noiseless identity from the small key to itself
    (row (i, j) is the LWE (a = -q/B^(j+1) e_i, b = 0), whose phase is s_i q/B^(j+1)), laid
    out like the engine's; inputs are the small LWEs padded with zero mask entries up to the
    big dimension. Keyswitching then only rounds each mask entry to base_log * level bits,
    which is exact for values already on a 2N grid. Nothing secret is involved.
    """
    from ..shortint import ShortintServerKey

    p = server_key.params
    big = p.big_lwe_dimension
    if small_dimension > big:
        raise ValueError("small dimension above the big one")
    real = server_key.ksk
    ksk = np.zeros((big, p.ks_level, small_dimension + 1), dtype=real.dtype)
    idx = np.arange(small_dimension)
    for j in range(p.ks_level):
        # minus the gadget value, in the top 32 bits the engine keeps of each element
        ksk[idx, j, idx] = ((1 << 64) - (1 << (64 - p.ks_base_log * (j + 1)))) >> 32
    params = dataclasses.replace(p, lwe_dimension=small_dimension, pbs_base_log=pbs_base_log,
                                 pbs_level=pbs_level)
    return ShortintServerKey(ServerKey(params, ksk, bsk, server_key.plan))


def pad_small(masks: np.ndarray, bodies: np.ndarray, big_dimension: int) -> np.ndarray:
    """Small LWEs (masks (B, n), bodies (B,)) as rows of width big_dimension + 1."""
    out = np.zeros((masks.shape[0], big_dimension + 1), dtype=np.uint64)
    out[:, :masks.shape[1]] = masks
    out[:, big_dimension] = bodies
    return out
