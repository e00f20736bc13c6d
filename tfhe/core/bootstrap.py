"""Programmable bootstrapping: modulus switch, blind rotation, sample extraction.

KS-PBS order (ciphertexts live under the big key): keyswitch to the small key, switch the
modulus to 2N with centred-mean noise reduction, blind-rotate the lookup table by the
switched phase with the Fourier-domain bootstrapping key, extract coefficient 0.

The kernels are small Numba functions; `pbs_batch` runs independent ciphertexts on all
cores with `prange`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .fft import wrap_to_u64
from .glwe import sample_extract_into
from .lwe import keyswitch_into


@njit(cache=True)
def modulus_switch(ct: np.ndarray, log2_2n: int, out_a: np.ndarray) -> int:
    """Switch the small LWE ciphertext to modulus 2N; returns the switched body.

    Rounding a_i to the nearest multiple of q/2N leaves errors e_i that the secret bits
    multiply. The binary key has mean 1/2, so half the sum of the errors is known to the
    server and is compensated in the body: only sum e_i (s_i - 1/2) is left, which halves
    the modulus-switch noise variance (centred mean noise reduction).
    """
    n = ct.shape[0] - 1
    shift = np.uint64(64 - log2_2n)
    half = np.uint64(1) << np.uint64(63 - log2_2n)
    mod_mask = np.uint64((1 << log2_2n) - 1)
    err_sum = np.int64(0)
    for i in range(n):
        rounded = (ct[i] + half) >> shift
        # signed error of the rounding, in units of the 64-bit torus (|.| <= 2^(63-log))
        err_sum += np.int64((rounded << shift) - ct[i])
        out_a[i] = np.int64(rounded & mod_mask)
    body = ct[n] + np.uint64(err_sum >> 1)
    return np.int64(((body + half) >> shift) & mod_mask)


@njit(cache=True)
def _decompose_fold(poly: np.ndarray, base_log: int, level: int, tw: np.ndarray,
                    out: np.ndarray, row0: int) -> None:
    """Signed gadget digits of poly, folded and twisted into out[row0 + j] (pre-FFT)."""
    n = poly.shape[0]
    h = n // 2
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    base = np.int64(1 << base_log)
    bl = np.uint64(base_log)
    for t in range(h):
        v0 = (poly[t] + rounding) >> rshift
        v1 = (poly[t + h] + rounding) >> rshift
        for j in range(level - 1, -1, -1):
            d0 = np.int64(v0 & mask)
            d1 = np.int64(v1 & mask)
            v0 >>= bl
            v1 >>= bl
            if d0 >= half:
                d0 -= base
                v0 += np.uint64(1)
            if d1 >= half:
                d1 -= base
                v1 += np.uint64(1)
            out[row0 + j, t] = complex(float(d0), float(d1)) * tw[t]


@njit(cache=True)
def blind_rotate(acc: np.ndarray, a_sw: np.ndarray, bsk: np.ndarray, tw: np.ndarray,
                 base_log: int, level: int) -> None:
    """acc <- X^(sum a_sw[i] s_i) * acc, one CMux per key bit (in place)."""
    kp1, n = acc.shape
    h = n // 2
    rows = kp1 * level
    rot = np.empty(n, dtype=np.uint64)
    folded = np.empty((rows, h), dtype=np.complex128)
    spec = np.empty((rows, h), dtype=np.complex128)
    out = np.empty(h, dtype=np.complex128)
    ctw = np.conj(tw)
    for i in range(a_sw.shape[0]):
        ai = a_sw[i]
        if ai == 0:
            continue
        # rot = (X^ai - 1) * acc_c, decomposed and transformed, for each component c
        for c in range(kp1):
            src = acc[c]
            p = ai
            neg = p >= n
            if neg:
                p -= n
            for t in range(n - p):
                v = src[t]
                rot[t + p] = ((np.uint64(0) - v) if neg else v) - src[t + p]
            for t in range(n - p, n):
                v = src[t]
                rot[t + p - n] = (v if neg else (np.uint64(0) - v)) - src[t + p - n]
            _decompose_fold(rot, base_log, level, tw, folded, c * level)
        for r in range(rows):
            spec[r] = np.fft.fft(folded[r])
        key = bsk[i]
        for c in range(kp1):
            for t in range(h):
                out[t] = spec[0, t] * key[0, c, t]
            for r in range(1, rows):
                for t in range(h):
                    out[t] += spec[r, t] * key[r, c, t]
            z = np.fft.ifft(out)
            dst = acc[c]
            for t in range(h):
                w = z[t] * ctw[t]
                dst[t] += wrap_to_u64(w.real)
                dst[t + h] += wrap_to_u64(w.imag)


@njit(cache=True)
def _init_accumulator(acc: np.ndarray, lut: np.ndarray, b_sw: int) -> None:
    """acc = trivial GLWE of X^(-b_sw) * lut."""
    kp1, n = acc.shape
    for c in range(kp1 - 1):
        for t in range(n):
            acc[c, t] = np.uint64(0)
    p = (2 * n - b_sw) % (2 * n)
    body = acc[kp1 - 1]
    neg = p >= n
    if neg:
        p -= n
    for t in range(n - p):
        v = lut[t]
        body[t + p] = (np.uint64(0) - v) if neg else v
    for t in range(n - p, n):
        v = lut[t]
        body[t + p - n] = v if neg else (np.uint64(0) - v)


@njit(cache=True)
def blind_rotate_lwe(ct_small: np.ndarray, lut: np.ndarray, bsk: np.ndarray, tw: np.ndarray,
                     base_log: int, level: int, kp1: int) -> np.ndarray:
    """Blind rotation of a lookup table by the phase of a small-key LWE: a GLWE (k+1, N)."""
    n = lut.shape[0]
    log2_2n = 1
    while (1 << log2_2n) < 2 * n:
        log2_2n += 1
    a_sw = np.empty(ct_small.shape[0] - 1, dtype=np.int64)
    b_sw = modulus_switch(ct_small, log2_2n, a_sw)
    acc = np.empty((kp1, n), dtype=np.uint64)
    _init_accumulator(acc, lut, b_sw)
    blind_rotate(acc, a_sw, bsk, tw, base_log, level)
    return acc


@njit(cache=True)
def ks_pbs_into(ct: np.ndarray, lut: np.ndarray, ksk: np.ndarray, ks_base_log: int,
                ks_level: int, bsk: np.ndarray, tw: np.ndarray, pbs_base_log: int,
                pbs_level: int, out: np.ndarray) -> None:
    """out = PBS(KS(ct)) with one lookup table (body polynomial of size N)."""
    small = np.empty(ksk.shape[2], dtype=np.uint64)
    keyswitch_into(ct, ksk, ks_base_log, ks_level, small)
    kp1 = bsk.shape[2]
    acc = blind_rotate_lwe(small, lut, bsk, tw, pbs_base_log, pbs_level, kp1)
    sample_extract_into(acc, out)


@njit(cache=True, parallel=True)
def ks_pbs_batch(cts: np.ndarray, lut_index: np.ndarray, luts: np.ndarray, ksk: np.ndarray,
                 ks_base_log: int, ks_level: int, bsk: np.ndarray, tw: np.ndarray,
                 pbs_base_log: int, pbs_level: int, out: np.ndarray) -> None:
    """Independent KS-PBS of every ciphertext, spread over all threads."""
    for c in prange(cts.shape[0]):
        ks_pbs_into(cts[c], luts[lut_index[c]], ksk, ks_base_log, ks_level, bsk, tw,
                    pbs_base_log, pbs_level, out[c])


@njit(cache=True, parallel=True)
def ks_pbs_many_batch(cts: np.ndarray, lut_index: np.ndarray, luts: np.ndarray,
                      ksk: np.ndarray, ks_base_log: int, ks_level: int, bsk: np.ndarray,
                      tw: np.ndarray, pbs_base_log: int, pbs_level: int, stride: int,
                      count: int, out: np.ndarray) -> None:
    """One blind rotation per ciphertext, `count` results extracted `stride` apart.

    With a packed table (several functions interleaved, see shortint.lut), coefficient
    j * stride of the rotated table holds f_j(m): one bootstrap, several lookup tables.
    """
    for c in prange(cts.shape[0]):
        small = np.empty(ksk.shape[2], dtype=np.uint64)
        keyswitch_into(cts[c], ksk, ks_base_log, ks_level, small)
        kp1 = bsk.shape[2]
        acc = blind_rotate_lwe(small, luts[lut_index[c]], bsk, tw, pbs_base_log, pbs_level,
                               kp1)
        n = acc.shape[1]
        shifted = np.empty_like(acc)
        for j in range(count):
            if j == 0:
                sample_extract_into(acc, out[c, j])
                continue
            # X^(-j*stride) * acc puts coefficient j*stride at position 0
            p = 2 * n - j * stride
            for r in range(kp1):
                src = acc[r]
                dst = shifted[r]
                q = p - n  # p in (n, 2n): negacyclic rotation by p = -1 * X^(p-n)
                for t in range(n - q):
                    dst[t + q] = np.uint64(0) - src[t]
                for t in range(n - q, n):
                    dst[t + q - n] = src[t]
            sample_extract_into(shifted, out[c, j])
