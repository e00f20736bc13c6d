"""LWE ciphertexts: a uint64 vector (a_0 .. a_{n-1}, b) with b = <a, s> + e + m.

Also the LWE keyswitch: from the big key (flattened GLWE key, dimension kN) to the small
key (dimension n) through a gadget decomposition of each mask element.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .csprng import Csprng


def encrypt(key: np.ndarray, plaintexts: np.ndarray, noise_log2: int, rng: Csprng) -> np.ndarray:
    """Encrypt torus plaintexts (uint64, shape (m,)) -> ciphertexts (m, n+1)."""
    plaintexts = np.atleast_1d(np.asarray(plaintexts, dtype=np.uint64))
    m, n = plaintexts.shape[0], key.shape[0]
    out = np.empty((m, n + 1), dtype=np.uint64)
    out[:, :n] = rng.uniform_u64((m, n))
    noise = rng.tuniform(m, noise_log2)
    out[:, n] = out[:, :n] @ key + noise + plaintexts
    return out


def phase(key: np.ndarray, cts: np.ndarray) -> np.ndarray:
    """b - <a, s> for each ciphertext (uint64): the plaintext plus the noise."""
    cts = np.atleast_2d(cts)
    return cts[:, -1] - cts[:, :-1] @ key


def keyswitch_key(
    key_in: np.ndarray, key_out: np.ndarray, base_log: int, level: int, noise_log2: int,
    rng: Csprng,
) -> np.ndarray:
    """KSK[i, j] = LWE_{key_out}(key_in[i] * q / B^(j+1)), shape (n_in, level, n_out+1)."""
    n_in = key_in.shape[0]
    shifts = np.array([64 - base_log * (j + 1) for j in range(level)], dtype=np.uint64)
    msgs = (key_in[:, None] << shifts[None, :]).reshape(-1)
    return encrypt(key_out, msgs, noise_log2, rng).reshape(n_in, level, key_out.shape[0] + 1)


@njit(cache=True)
def keyswitch_into(ct_in: np.ndarray, ksk: np.ndarray, base_log: int, level: int,
                   out: np.ndarray) -> None:
    """out = keyswitch of ct_in (dimension n_in -> n_out) with signed digits."""
    n_in = ct_in.shape[0] - 1
    n_out1 = out.shape[0]
    for t in range(n_out1 - 1):
        out[t] = np.uint64(0)
    out[n_out1 - 1] = ct_in[n_in]
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    base = np.uint64(1 << base_log)
    bl = np.uint64(base_log)
    for i in range(n_in):
        v = (ct_in[i] + rounding) >> rshift
        # least significant digit belongs to the last level
        for j in range(level - 1, -1, -1):
            d = v & mask
            v >>= bl
            if d >= half:
                d -= base  # wraps: negative digit in two's complement
                v += np.uint64(1)
            if d != 0:
                row = ksk[i, j]
                for t in range(n_out1):
                    out[t] += d * row[t]
    # out currently holds b + sum d * KSK; the keyswitch subtracts the masks' part.
    # We accumulated with + so negate the mask sum and restore the body.
    for t in range(n_out1 - 1):
        out[t] = np.uint64(0) - out[t]
    out[n_out1 - 1] = ct_in[n_in] - (out[n_out1 - 1] - ct_in[n_in])


@njit(cache=True, parallel=True)
def keyswitch_batch(cts_in: np.ndarray, ksk: np.ndarray, base_log: int, level: int,
                    out: np.ndarray) -> None:
    for c in prange(cts_in.shape[0]):
        keyswitch_into(cts_in[c], ksk, base_log, level, out[c])
