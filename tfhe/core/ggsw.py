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
                 noise_log2: int, rng: Csprng, mask_rng: Csprng | None = None) -> np.ndarray:
    """GGSW encryptions of each bit: (len(bits), (k+1)*level, k+1, N) uint64.

    Row (c, j) must decrypt to -mu * g_j * S_c for a mask component c < k and to mu * g_j
    for the body. Putting both into the body keeps every mask a pure output of the mask
    stream, so a compressed key can store bodies and a seed.
    """
    k, n = glwe_key.shape
    rows = (k + 1) * level
    count = bits.shape[0]
    mu = bits.astype(np.uint64)
    msgs = np.zeros((count, rows, n), dtype=np.uint64)
    for j in range(level):
        gadget = np.uint64(1) << np.uint64(64 - base_log * (j + 1))
        for c in range(k):
            # -mu * g * S_c: S_c is binary, so this is -g on the key's support when mu = 1
            msgs[:, c * level + j, :] = (np.uint64(0) - gadget * glwe_key[c]) * mu[:, None]
        msgs[:, k * level + j, 0] = mu * gadget
    out = glwe.encrypt(glwe_key, msgs.reshape(count * rows, n), noise_log2, rng, mask_rng)
    return out.reshape(count, rows, k + 1, n)


def _to_fourier(std: np.ndarray, plan: np.ndarray, out: np.ndarray) -> None:
    """Standard-domain GGSWs (count, rows, k+1, N) into the bootstrap layout, scaled 2/N."""
    count, rows, kp1, big_n = std.shape
    h = big_n // 2
    re, im = fft_batch.forward_u64(std.reshape(-1, big_n), plan)
    shape = (h, count, rows, kp1)
    out[:, :, 0] = re.reshape(shape).transpose(1, 0, 2, 3) / h
    out[:, :, 1] = im.reshape(shape).transpose(1, 0, 2, 3) / h


BSK_CHUNK = 32  # GGSWs per generation step; fixed, since the mask stream is read in order


def bootstrap_key_bodies(
    lwe_key: np.ndarray, glwe_key: np.ndarray, base_log: int, level: int, noise_log2: int,
    rng: Csprng, mask_rng: Csprng, progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Bodies of the bootstrapping key's GGSW rows, (n, (k+1)*level, N) uint64.

    With the mask seed they are the whole key (seeded, compressed form).
    """
    n = lwe_key.shape[0]
    k, big_n = glwe_key.shape
    rows = (k + 1) * level
    out = np.empty((n, rows, big_n), dtype=np.uint64)
    for start in range(0, n, BSK_CHUNK):
        stop = min(n, start + BSK_CHUNK)
        std = encrypt_ggsw(glwe_key, lwe_key[start:stop], base_log, level, noise_log2, rng,
                           mask_rng)
        out[start:stop] = std[:, :, k, :]
        if progress is not None:
            progress(stop - start)
    return out


def bootstrap_key_from_bodies(
    bodies: np.ndarray, glwe_dimension: int, mask_rng: Csprng, plan: np.ndarray,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Regenerate the masks from their seed and build the Fourier-domain key."""
    n, rows, big_n = bodies.shape
    k = glwe_dimension
    h = big_n // 2
    out = np.empty((n, h, 2, rows, k + 1), dtype=np.float64)
    for start in range(0, n, BSK_CHUNK):
        stop = min(n, start + BSK_CHUNK)
        count = stop - start
        std = np.empty((count, rows, k + 1, big_n), dtype=np.uint64)
        std[:, :, :k, :] = mask_rng.uniform_u64((count * rows, k, big_n)).reshape(
            count, rows, k, big_n)
        std[:, :, k, :] = bodies[start:stop]
        _to_fourier(std, plan, out[start:stop])
        if progress is not None:
            progress(count)
    return out


def bootstrap_key(
    lwe_key: np.ndarray, glwe_key: np.ndarray, base_log: int, level: int, noise_log2: int,
    rng: Csprng, plan: np.ndarray, progress: Callable[[int], None] | None = None,
    chunk: int = BSK_CHUNK,
) -> np.ndarray:
    """Fourier-domain bootstrapping key straight from a generator (masks not kept)."""
    n = lwe_key.shape[0]
    k, big_n = glwe_key.shape
    h = big_n // 2
    rows = (k + 1) * level
    out = np.empty((n, h, 2, rows, k + 1), dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        std = encrypt_ggsw(glwe_key, lwe_key[start:stop], base_log, level, noise_log2, rng)
        _to_fourier(std, plan, out[start:stop])
        if progress is not None:
            progress(stop - start)
    return out
