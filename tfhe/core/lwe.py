"""LWE ciphertexts: a uint64 vector (a_0 .. a_{n-1}, b) with b = <a, s> + e + m.

Also the keyswitching key, from the big key (flattened GLWE key, dimension kN) to the small
key (dimension n); the keyswitch itself runs inside the bootstrap kernels.
"""

from __future__ import annotations

import numpy as np

from .csprng import Csprng


def encrypt(key: np.ndarray, plaintexts: np.ndarray, noise_log2: int, rng: Csprng,
            mask_rng: Csprng | None = None) -> np.ndarray:
    """Encrypt torus plaintexts (uint64, shape (m,)) -> ciphertexts (m, n+1).

    Masks come from `mask_rng` when given (a public seed: the masks of a key can then be
    regenerated and need not be stored), noise always from the secret `rng`.
    """
    plaintexts = np.atleast_1d(np.asarray(plaintexts, dtype=np.uint64))
    m, n = plaintexts.shape[0], key.shape[0]
    out = np.empty((m, n + 1), dtype=np.uint64)
    out[:, :n] = (mask_rng or rng).uniform_u64((m, n))
    noise = rng.tuniform(m, noise_log2)
    out[:, n] = out[:, :n] @ key + noise + plaintexts
    return out


def phase(key: np.ndarray, cts: np.ndarray) -> np.ndarray:
    """b - <a, s> for each ciphertext (uint64): the plaintext plus the noise."""
    cts = np.atleast_2d(cts)
    return cts[:, -1] - cts[:, :-1] @ key


def keyswitch_key(
    key_in: np.ndarray, key_out: np.ndarray, base_log: int, level: int, noise_log2: int,
    rng: Csprng, mask_rng: Csprng | None = None,
) -> np.ndarray:
    """KSK[i, j] = LWE_{key_out}(key_in[i] * q / B^(j+1)), shape (n_in, level, n_out+1)."""
    n_in = key_in.shape[0]
    shifts = np.array([64 - base_log * (j + 1) for j in range(level)], dtype=np.uint64)
    msgs = (key_in[:, None] << shifts[None, :]).reshape(-1)
    cts = encrypt(key_out, msgs, noise_log2, rng, mask_rng)
    return cts.reshape(n_in, level, key_out.shape[0] + 1)
