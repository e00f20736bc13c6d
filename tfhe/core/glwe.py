"""GLWE ciphertexts: (k+1, N) uint64, masks A_0..A_{k-1} then body B = sum A_c S_c + E + M.

Sample extraction turns coefficient 0 of a GLWE ciphertext into an LWE ciphertext under
the flattened GLWE key (the "big" LWE key, dimension kN).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .csprng import Csprng
from .polynomial import mul_binary_accumulate


@njit(cache=True)
def _body_from_masks(masks: np.ndarray, key: np.ndarray, out: np.ndarray) -> None:
    """out[r] += sum_c masks[r, c] * key[c] for each row r (exact, binary key)."""
    for r in range(masks.shape[0]):
        for c in range(masks.shape[1]):
            mul_binary_accumulate(out[r], masks[r, c], key[c])


def encrypt(key: np.ndarray, messages: np.ndarray, noise_log2: int, rng: Csprng,
            mask_rng: Csprng | None = None) -> np.ndarray:
    """Encrypt torus polynomials messages (m, N) under key (k, N) -> (m, k+1, N).

    Masks come from `mask_rng` when given (public, regenerable), noise from `rng`.
    """
    messages = np.asarray(messages, dtype=np.uint64)
    m, n = messages.shape
    k = key.shape[0]
    out = np.empty((m, k + 1, n), dtype=np.uint64)
    out[:, :k, :] = (mask_rng or rng).uniform_u64((m, k, n))
    body = rng.tuniform((m, n), noise_log2) + messages
    _body_from_masks(out[:, :k, :], key, body)
    out[:, k, :] = body
    return out


def phase(key: np.ndarray, cts: np.ndarray) -> np.ndarray:
    """B - sum A_c S_c for ciphertexts (m, k+1, N) -> (m, N)."""
    cts = np.asarray(cts, dtype=np.uint64)
    k = key.shape[0]
    acc = np.zeros((cts.shape[0], cts.shape[2]), dtype=np.uint64)
    _body_from_masks(np.ascontiguousarray(cts[:, :k, :]), key, acc)
    return cts[:, k, :] - acc


@njit(cache=True)
def sample_extract_into(glwe: np.ndarray, out: np.ndarray) -> None:
    """LWE of coefficient 0 of the GLWE phase, under the flattened GLWE key."""
    kp1, n = glwe.shape
    for c in range(kp1 - 1):
        base = c * n
        out[base] = glwe[c, 0]
        for j in range(1, n):
            out[base + j] = np.uint64(0) - glwe[c, n - j]
    out[(kp1 - 1) * n] = glwe[kp1 - 1, 0]
