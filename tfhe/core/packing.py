"""Ciphertext compression: packing keyswitch, storage modulus switch, bit packing, and
decompression by bootstrap (the scheme of tfhe-rs's compressed ciphertext lists).

Packing: each LWE ciphertext (big key, dimension kN) is keyswitched into a GLWE ciphertext
under a small compression GLWE key (k' x N') whose *constant* coefficient decrypts to the
LWE's plaintext; the i-th is multiplied by X^i and all are summed, so one GLWE holds up to
N' values. Its coefficients are then rounded to the storage modulus 2^s = 2N (of the compute
parameters), so that decompression needs no further modulus switch: the LWE of coefficient
i (under the flattened compression key) is blind-rotated directly with a bootstrapping key
that encrypts the compression key's bits under the compute GLWE key (through the engine's
batch API, see tfhe.core.oprf.blind_rotator).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import glwe
from .csprng import Csprng


def packing_keyswitch_key(lwe_key: np.ndarray, glwe_key: np.ndarray, base_log: int,
                          level: int, noise_log2: int, rng: Csprng) -> np.ndarray:
    """PKSK[j, l] = GLWE_glwe_key(lwe_key[j] * q / B^(l+1) as a constant polynomial).

    Shape (len(lwe_key), level, k+1, N) uint64.
    """
    n_in = lwe_key.shape[0]
    k, n = glwe_key.shape
    msgs = np.zeros((n_in * level, n), dtype=np.uint64)
    shifts = np.array([64 - base_log * (j + 1) for j in range(level)], dtype=np.uint64)
    msgs[:, 0] = (lwe_key.astype(np.uint64)[:, None] << shifts[None, :]).reshape(-1)
    return glwe.encrypt(glwe_key, msgs, noise_log2, rng).reshape(n_in, level, k + 1, n)


@njit(cache=True)
def _keyswitch_one(ct: np.ndarray, pksk: np.ndarray, base_log: int, level: int,
                   out: np.ndarray) -> None:
    """out = (0, .., 0, b) - sum_j sum_l digit_l(a_j) * PKSK[j, l]: a GLWE of constant m."""
    n_in = ct.shape[0] - 1
    kp1, n = out.shape
    for c in range(kp1):
        for t in range(n):
            out[c, t] = np.uint64(0)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    base = np.uint64(1 << base_log)
    bl = np.uint64(base_log)
    for j in range(n_in):
        v = (ct[j] + rounding) >> rshift
        for lv in range(level - 1, -1, -1):
            d = v & mask
            v >>= bl
            if d >= half:
                d -= base  # negative digit, two's complement
                v += np.uint64(1)
            if d != 0:
                key = pksk[j, lv]
                for c in range(kp1):
                    for t in range(n):
                        out[c, t] += d * key[c, t]
    for c in range(kp1):
        for t in range(n):
            out[c, t] = np.uint64(0) - out[c, t]
    out[kp1 - 1, 0] += ct[n_in]


@njit(cache=True, parallel=True)
def keyswitch_to_constants(cts: np.ndarray, pksk: np.ndarray, base_log: int, level: int,
                           out: np.ndarray) -> None:
    """Each LWE (count, n_in+1) to a GLWE (count, k+1, N) of its plaintext as a constant."""
    for i in prange(cts.shape[0]):
        _keyswitch_one(cts[i], pksk, base_log, level, out[i])


@njit(cache=True)
def pack_constants(consts: np.ndarray, out: np.ndarray) -> None:
    """out = sum_i X^i * consts[i]: value i lands on coefficient i."""
    count, kp1, n = consts.shape
    for c in range(kp1):
        for t in range(n):
            out[c, t] = np.uint64(0)
    for i in range(count):  # X^i * p: coefficients move up by i, those past N negated
        for c in range(kp1):
            src = consts[i, c]
            for t in range(n - i):
                out[c, t + i] += src[t]
            for t in range(n - i, n):
                out[c, t + i - n] -= src[t]


def switch_to_storage(glwe_ct: np.ndarray, log_modulus: int) -> np.ndarray:
    """Round torus coefficients to Z_{2^s} (uint16)."""
    shift = np.uint64(64 - log_modulus)
    half = np.uint64(1) << np.uint64(63 - log_modulus)
    return (((glwe_ct + half) >> shift) & np.uint64((1 << log_modulus) - 1)).astype(np.uint16)


def pack_bits(values: np.ndarray, width: int) -> bytes:
    """Concatenate `width`-bit unsigned values, little-endian bit order."""
    bits = ((values.astype(np.uint32)[:, None] >> np.arange(width, dtype=np.uint32)) & 1)
    return np.packbits(bits.astype(np.uint8).reshape(-1), bitorder="little").tobytes()


def unpack_bits(blob: bytes, width: int, count: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8), bitorder="little")
    if bits.shape[0] < width * count:
        raise ValueError("truncated bit-packed data")
    bits = bits[:width * count].reshape(count, width).astype(np.uint32)
    return (bits << np.arange(width, dtype=np.uint32)).sum(axis=1).astype(np.int64)


def extract_switched(masks: np.ndarray, bodies: np.ndarray, count: int,
                     log2_2n: int) -> tuple[np.ndarray, np.ndarray]:
    """LWEs of coefficients 0 .. count-1 of a stored GLWE (values in Z_2N) under the
    flattened compression key, on the 64-bit torus (value << (64 - log2 2N)), so that the
    engine's modulus switch back to 2N is exact: masks (count, k'N'), bodies (count,)."""
    kc, nc = masks.shape
    two_n = 1 << log2_2n
    i = np.arange(count)[:, None]
    t = np.arange(nc)[None, :]
    out = np.empty((count, kc * nc), dtype=np.int64)
    for g in range(kc):
        direct = masks[g][np.clip(i - t, 0, nc - 1)]
        wrapped = (two_n - masks[g][(nc + i - t) % nc]) % two_n
        out[:, g * nc:(g + 1) * nc] = np.where(t <= i, direct, wrapped)
    shift = np.uint64(64 - log2_2n)
    return (out.astype(np.uint64) << shift,
            bodies[:count].astype(np.uint64) << shift)
