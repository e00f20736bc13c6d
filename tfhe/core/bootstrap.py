"""Programmable bootstrapping: keyswitch, modulus switch, blind rotation, extraction.

KS-PBS order (ciphertexts live under the big key): keyswitch to the small key, switch the
modulus to 2N with centred-mean noise reduction, blind-rotate the lookup table by the
switched phase with the Fourier-domain bootstrapping key, extract coefficient 0.

Throughput comes from lockstep batches: a chunk of B ciphertexts walks the bootstrapping
key once, so each 64 KiB slice of the 57 MiB key is read from memory once per chunk
rather than once per ciphertext, and the FFTs of the chunk's 2B polynomials run as one
SIMD-vectorised transform (see fft_batch). Chunks run on all cores with `prange`.
A chunk of one ciphertext (sequential carry chains) takes pbs_one's latency path instead.

Key layouts (see keys.ServerKey): the keyswitching key holds the top 32 bits of each
element (uint32); the bits below are far under the keyswitch noise (TUniform(2^45)) and the
small ciphertext is modulus-switched to 2N right after. The bootstrapping key is float64
(n, N/2, 2, (k+1) * level, k+1): per key bit and frequency, the real and imaginary parts of
the GGSW rows, pre-scaled by 2/N so the inverse FFT needs no scaling.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .fft_batch import forward, inverse
from .glwe import sample_extract_into
from .pbs_one import blind_rotate_one, keyswitch_one

_TWO64 = 18446744073709551616.0
_INV_TWO64 = 1.0 / _TWO64


# -- keyswitch (big key, uint64) -> (small key, uint32) ---------------------------------------

@njit(cache=True)
def keyswitch_chunk(cts: np.ndarray, ksk: np.ndarray, base_log: int, level: int,
                    out: np.ndarray) -> None:
    """Keyswitch each row of cts (B, kN+1) uint64 into out (B, n+1) uint32.

    Rows of the key are read once for the whole chunk. Digits are balanced (signed) with
    the closest-representable rounding of the top base_log * level bits.
    """
    nb = cts.shape[0]
    n_in = cts.shape[1] - 1
    width = np.uint64(out.shape[1])
    acc = np.zeros((nb, out.shape[1]), dtype=np.uint64)
    digits = np.empty((nb, level), dtype=np.uint64)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    for i in range(n_in):
        for b in range(nb):
            v = (cts[b, i] + rounding) >> rshift
            for j in range(level - 1, -1, -1):
                t = v & mask
                carry = (t + half) >> bl  # 1 when t >= B/2: digit t - B, carry into v
                digits[b, j] = t - (carry << bl)
                v = (v >> bl) + carry
        for j in range(level):
            row = ksk[i, j]
            for b in range(nb):
                d = digits[b, j]
                if d != 0:
                    dst = acc[b]
                    for t in range(width):
                        dst[t] += d * np.uint64(row[t])
    w = out.shape[1] - 1
    for b in range(nb):
        body = (cts[b, n_in] + (np.uint64(1) << np.uint64(31))) >> np.uint64(32)
        for t in range(w):
            out[b, t] = np.uint32((np.uint64(0) - acc[b, t]) & np.uint64(0xFFFFFFFF))
        out[b, w] = np.uint32((body - acc[b, w]) & np.uint64(0xFFFFFFFF))


# -- modulus switch --------------------------------------------------------------------------

@njit(cache=True)
def modulus_switch(ct: np.ndarray, log2_2n: int, out_a: np.ndarray) -> int:
    """Switch a small LWE ciphertext (uint64 or uint32 torus) to modulus 2N.

    Rounding a_i to the nearest multiple of q/2N leaves errors e_i that the secret bits
    multiply. The binary key has mean 1/2, so half the sum of the errors is known to the
    server and is compensated in the body: only sum e_i (s_i - 1/2) is left, which halves
    the modulus-switch noise variance (centred mean noise reduction).
    """
    bits = ct.itemsize * 8
    n = ct.shape[0] - 1
    shift = np.uint64(bits - log2_2n)
    half = np.uint64(1) << np.uint64(bits - 1 - log2_2n)
    mod_mask = np.uint64((1 << log2_2n) - 1)
    top = np.uint64(64 - bits)
    err_sum = np.int64(0)
    for i in range(n):
        a = np.uint64(ct[i])
        rounded = (a + half) >> shift
        # signed rounding error, computed on the 64-bit scale to stay exact
        err_sum += np.int64(((rounded << shift) - a) << top) >> np.int64(top)
    for i in range(n):
        out_a[i] = np.int64(((np.uint64(ct[i]) + half) >> shift) & mod_mask)
    body = np.uint64(ct[n]) + np.uint64(err_sum >> 1)
    return np.int64(((body + half) >> shift) & mod_mask)


# -- blind rotation --------------------------------------------------------------------------

@njit(cache=True)
def _init_accumulator(acc: np.ndarray, b: int, lut: np.ndarray, b_sw: int) -> None:
    """acc[:, :, b] = trivial GLWE of X^(-b_sw) * lut."""
    kp1, n, _ = acc.shape
    for c in range(kp1 - 1):
        for t in range(n):
            acc[c, t, b] = np.uint64(0)
    p = (2 * n - b_sw) % (2 * n)
    neg = p >= n
    if neg:
        p -= n
    body = kp1 - 1
    for t in range(n - p):
        v = lut[t]
        acc[body, t + p, b] = (np.uint64(0) - v) if neg else v
    for t in range(n - p, n):
        v = lut[t]
        acc[body, t + p - n, b] = v if neg else (np.uint64(0) - v)


@njit(cache=True)
def _rotate_sub(acc: np.ndarray, a_col: np.ndarray, rot: np.ndarray) -> None:
    """rot[c, :, b] = (X^a_col[b] - 1) * acc[c, :, b] (negacyclic), for every b.

    acc and rot are (k+1, N, B): each ciphertext has its own shift, so this pass walks one
    ciphertext at a time; the decomposition that follows is then contiguous across b.
    """
    kp1, n, nb = acc.shape
    for b in range(nb):
        p = a_col[b]
        neg = p >= n
        if neg:
            p -= n
        for c in range(kp1):
            src = acc[c]
            dst = rot[c]
            if neg:
                for t in range(n - p):
                    dst[t + p, b] = (np.uint64(0) - src[t, b]) - src[t + p, b]
                for t in range(n - p, n):
                    dst[t + p - n, b] = src[t, b] - src[t + p - n, b]
            else:
                for t in range(n - p):
                    dst[t + p, b] = src[t, b] - src[t + p, b]
                for t in range(n - p, n):
                    dst[t + p - n, b] = (np.uint64(0) - src[t, b]) - src[t + p - n, b]


@njit(cache=True)
def _decompose(rot: np.ndarray, base_log: int, level: int, plan: np.ndarray,
               xr: np.ndarray, xi: np.ndarray) -> None:
    """Balanced digits of rot (k+1, N, B), folded and twisted, into X (h, rows * B).

    Column (c * level + j) * B + b holds digit j of component c of ciphertext b; reads and
    writes are contiguous across b, so the loop vectorises.
    """
    kp1, n, nb = rot.shape
    h = n // 2
    m = np.uint64(kp1 * level * nb)
    nbu = np.uint64(nb)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    base = np.int64(1 << base_log)
    for c in range(kp1):
        src = rot[c]
        for t in range(h):
            tr = plan[t]
            ti = plan[h + t]
            row = np.uint64(t) * m
            lo = src[t]
            hi = src[t + h]
            for b in range(nbu):
                u0 = (lo[b] + rounding) >> rshift
                u1 = (hi[b] + rounding) >> rshift
                for j in range(level - 1, -1, -1):
                    t0 = u0 & mask
                    t1 = u1 & mask
                    c0 = (t0 + half) >> bl
                    c1 = (t1 + half) >> bl
                    d0 = float(np.int64(t0) - np.int64(c0) * base)
                    d1 = float(np.int64(t1) - np.int64(c1) * base)
                    u0 = (u0 >> bl) + c0
                    u1 = (u1 >> bl) + c1
                    col = row + np.uint64((c * level + j) * nb) + b
                    xr[col] = d0 * tr - d1 * ti
                    xi[col] = d0 * ti + d1 * tr


@njit(cache=True, fastmath=True)
def _multiply_key(xr: np.ndarray, xi: np.ndarray, key: np.ndarray, nb: int, rows: int,
                  kp1: int, outr: np.ndarray, outi: np.ndarray) -> None:
    """out[t, c*B + b] = sum_r x[t, r*B + b] * key[t, r, c] (complex, SIMD across b)."""
    h = key.shape[0]
    mi = np.uint64(rows * nb)
    mo = np.uint64(kp1 * nb)
    nbu = np.uint64(nb)
    if rows == 2 and kp1 == 2:  # k = 1, one level: everything in registers
        for t in range(h):
            xin = np.uint64(t) * mi
            xout = np.uint64(t) * mo
            k00r = key[t, 0, 0, 0]
            k00i = key[t, 1, 0, 0]
            k01r = key[t, 0, 0, 1]
            k01i = key[t, 1, 0, 1]
            k10r = key[t, 0, 1, 0]
            k10i = key[t, 1, 1, 0]
            k11r = key[t, 0, 1, 1]
            k11i = key[t, 1, 1, 1]
            for b in range(nbu):
                ar = xr[xin + b]
                ai = xi[xin + b]
                br = xr[xin + nbu + b]
                bi = xi[xin + nbu + b]
                outr[xout + b] = ar * k00r - ai * k00i + br * k10r - bi * k10i
                outi[xout + b] = ar * k00i + ai * k00r + br * k10i + bi * k10r
                outr[xout + nbu + b] = ar * k01r - ai * k01i + br * k11r - bi * k11i
                outi[xout + nbu + b] = ar * k01i + ai * k01r + br * k11i + bi * k11r
        return
    for t in range(h):
        xin = np.uint64(t) * mi
        xout = np.uint64(t) * mo
        for c in range(kp1):
            o = xout + np.uint64(c * nb)
            kr = key[t, 0, 0, c]
            ki = key[t, 1, 0, c]
            for b in range(nbu):
                ar = xr[xin + b]
                ai = xi[xin + b]
                outr[o + b] = ar * kr - ai * ki
                outi[o + b] = ar * ki + ai * kr
            for r in range(1, rows):
                kr = key[t, 0, r, c]
                ki = key[t, 1, r, c]
                x0 = xin + np.uint64(r * nb)
                for b in range(nbu):
                    ar = xr[x0 + b]
                    ai = xi[x0 + b]
                    outr[o + b] += ar * kr - ai * ki
                    outi[o + b] += ar * ki + ai * kr


@njit(cache=True)
def _accumulate(acc: np.ndarray, outr: np.ndarray, outi: np.ndarray, plan: np.ndarray) -> None:
    """acc[c, :, b] += untwist(out[:, c*B + b]) rounded and wrapped modulo 2^64."""
    kp1, n, nb = acc.shape
    h = n // 2
    mo = np.uint64(kp1 * nb)
    nbu = np.uint64(nb)
    for c in range(kp1):
        dst = acc[c]
        for t in range(h):
            tr = plan[t]
            ti = plan[h + t]
            row = np.uint64(t) * mo + np.uint64(c * nb)
            for b in range(nbu):
                zr = outr[row + b]
                zi = outi[row + b]
                wr = zr * tr + zi * ti
                wi = zi * tr - zr * ti
                wr -= np.floor(wr * _INV_TWO64 + 0.5) * _TWO64
                wi -= np.floor(wi * _INV_TWO64 + 0.5) * _TWO64
                dst[t, b] += np.uint64(np.int64(np.floor(wr + 0.5)))
                dst[t + h, b] += np.uint64(np.int64(np.floor(wi + 0.5)))


@njit(cache=True)
def _blind_rotate_one(acc: np.ndarray, a_sw: np.ndarray, bsk: np.ndarray, plan: np.ndarray,
                      base_log: int, level: int) -> None:
    """Blind rotation of a single accumulator (k+1, N, 1): latency rather than throughput.

    See pbs_one: transforms vectorised inside the polynomials, no allocation per key bit.
    """
    kp1, n, _ = acc.shape
    cur = np.empty((kp1, n), dtype=np.uint64)
    for c in range(kp1):
        for t in range(n):
            cur[c, t] = acc[c, t, 0]
    blind_rotate_one(cur, a_sw[0], bsk, plan, base_log, level)
    for c in range(kp1):
        for t in range(n):
            acc[c, t, 0] = cur[c, t]


@njit(cache=True)
def blind_rotate_chunk(acc: np.ndarray, a_sw: np.ndarray, bsk: np.ndarray, plan: np.ndarray,
                       base_log: int, level: int) -> None:
    """acc[:, :, b] <- X^(sum_i a_sw[b, i] s_i) * acc[:, :, b], B accumulators in lockstep."""
    kp1, n, nb = acc.shape
    if nb == 1:
        _blind_rotate_one(acc, a_sw, bsk, plan, base_log, level)
        return
    h = n // 2
    rows = kp1 * level
    xr = np.empty(h * rows * nb)
    xi = np.empty(h * rows * nb)
    outr = np.empty(h * kp1 * nb)
    outi = np.empty(h * kp1 * nb)
    a_col = np.empty(nb, dtype=np.int64)
    rot = np.empty_like(acc)
    for i in range(a_sw.shape[1]):
        for b in range(nb):
            a_col[b] = a_sw[b, i]
        _rotate_sub(acc, a_col, rot)
        _decompose(rot, base_log, level, plan, xr, xi)
        forward(xr, xi, plan, h, rows * nb)
        _multiply_key(xr, xi, bsk[i], nb, rows, kp1, outr, outi)
        inverse(outr, outi, plan, h, kp1 * nb)
        _accumulate(acc, outr, outi, plan)


@njit(cache=True)
def _log2_2n(n: int) -> int:
    """log2 of the modulus-switch target 2N (N a power of two)."""
    lg = 1
    while (1 << lg) < 2 * n:
        lg += 1
    return lg


@njit(cache=True)
def _switch_and_init(smalls: np.ndarray, luts: np.ndarray, lut_index: np.ndarray,
                     log2_2n: int, acc: np.ndarray, a_sw: np.ndarray) -> None:
    for b in range(smalls.shape[0]):
        b_sw = modulus_switch(smalls[b], log2_2n, a_sw[b])
        _init_accumulator(acc, b, luts[lut_index[b]], b_sw)


@njit(cache=True)
def blind_rotate_lwe(ct_small: np.ndarray, lut: np.ndarray, bsk: np.ndarray, plan: np.ndarray,
                     base_log: int, level: int, kp1: int) -> np.ndarray:
    """Blind rotation of a table by the phase of one small-key LWE: a GLWE (k+1, N)."""
    n = lut.shape[0]
    lg = _log2_2n(n)
    acc = np.empty((kp1, n, 1), dtype=np.uint64)
    a_sw = np.empty((1, ct_small.shape[0] - 1), dtype=np.int64)
    b_sw = modulus_switch(ct_small, lg, a_sw[0])
    _init_accumulator(acc, 0, lut, b_sw)
    blind_rotate_chunk(acc, a_sw, bsk, plan, base_log, level)
    return np.ascontiguousarray(acc[:, :, 0])


@njit(cache=True)
def _ks_pbs_chunk(cts: np.ndarray, lut_index: np.ndarray, luts: np.ndarray, ksk: np.ndarray,
                  ks_base_log: int, ks_level: int, bsk: np.ndarray, plan: np.ndarray,
                  pbs_base_log: int, pbs_level: int) -> np.ndarray:
    """KS + modulus switch + blind rotation of a chunk: the accumulators (k+1, N, B)."""
    nb = cts.shape[0]
    n_small = ksk.shape[2] - 1
    n = luts.shape[1]
    kp1 = bsk.shape[4]
    smalls = np.empty((nb, n_small + 1), dtype=np.uint32)
    if nb == 1:
        keyswitch_one(cts[0], ksk, ks_base_log, ks_level, smalls[0])
    else:
        keyswitch_chunk(cts, ksk, ks_base_log, ks_level, smalls)
    lg = _log2_2n(n)
    acc = np.empty((kp1, n, nb), dtype=np.uint64)
    a_sw = np.empty((nb, n_small), dtype=np.int64)
    _switch_and_init(smalls, luts, lut_index, lg, acc, a_sw)
    blind_rotate_chunk(acc, a_sw, bsk, plan, pbs_base_log, pbs_level)
    return acc


@njit(cache=True, parallel=True, nogil=True)
def ks_pbs_batch(cts: np.ndarray, lut_index: np.ndarray, luts: np.ndarray, ksk: np.ndarray,
                 ks_base_log: int, ks_level: int, bsk: np.ndarray, plan: np.ndarray,
                 pbs_base_log: int, pbs_level: int, chunk: int, out: np.ndarray) -> None:
    """Independent KS-PBS of every ciphertext: chunks in lockstep, chunks across threads."""
    total = cts.shape[0]
    chunks = (total + chunk - 1) // chunk
    for k in prange(chunks):
        lo = k * chunk
        hi = min(total, lo + chunk)
        acc = _ks_pbs_chunk(cts[lo:hi], lut_index[lo:hi], luts, ksk, ks_base_log, ks_level,
                            bsk, plan, pbs_base_log, pbs_level)
        for b in range(hi - lo):
            sample_extract_into(np.ascontiguousarray(acc[:, :, b]), out[lo + b])


@njit(cache=True)
def _extract_many(acc: np.ndarray, stride: int, count: int, out: np.ndarray) -> None:
    """out[j] = extraction of coefficient j * stride of acc (one table per function)."""
    kp1, n = acc.shape
    shifted = np.empty_like(acc)
    sample_extract_into(acc, out[0])
    for j in range(1, count):
        # X^(-j*stride) * acc = -X^(N - j*stride) * acc moves coefficient j*stride to 0
        q = n - j * stride
        for r in range(kp1):
            src = acc[r]
            dst = shifted[r]
            for t in range(n - q):
                dst[t + q] = np.uint64(0) - src[t]
            for t in range(n - q, n):
                dst[t + q - n] = src[t]
        sample_extract_into(shifted, out[j])


@njit(cache=True, parallel=True, nogil=True)
def ks_pbs_many_batch(cts: np.ndarray, lut_index: np.ndarray, luts: np.ndarray,
                      ksk: np.ndarray, ks_base_log: int, ks_level: int, bsk: np.ndarray,
                      plan: np.ndarray, pbs_base_log: int, pbs_level: int, chunk: int,
                      stride: int, count: int, out: np.ndarray) -> None:
    """One blind rotation per ciphertext, `count` results extracted `stride` apart.

    With a packed table (several functions side by side, see shortint.lut), coefficient
    j * stride of the rotated table holds f_j(m): one bootstrap, several lookup tables.
    """
    total = cts.shape[0]
    chunks = (total + chunk - 1) // chunk
    for k in prange(chunks):
        lo = k * chunk
        hi = min(total, lo + chunk)
        acc = _ks_pbs_chunk(cts[lo:hi], lut_index[lo:hi], luts, ksk, ks_base_log, ks_level,
                            bsk, plan, pbs_base_log, pbs_level)
        for b in range(hi - lo):
            _extract_many(np.ascontiguousarray(acc[:, :, b]), stride, count, out[lo + b])


@njit(cache=True, parallel=True, nogil=True)
def blind_rotate_batch(smalls: np.ndarray, lut_index: np.ndarray, luts: np.ndarray,
                       bsk: np.ndarray, plan: np.ndarray, base_log: int, level: int,
                       chunk: int, out: np.ndarray) -> None:
    """Blind rotations of many small-key LWEs (uint64 or uint32): out (B, k+1, N)."""
    total = smalls.shape[0]
    n = luts.shape[1]
    kp1 = bsk.shape[4]
    lg = _log2_2n(n)
    chunks = (total + chunk - 1) // chunk
    for k in prange(chunks):
        lo = k * chunk
        hi = min(total, lo + chunk)
        acc = np.empty((kp1, n, hi - lo), dtype=np.uint64)
        a_sw = np.empty((hi - lo, smalls.shape[1] - 1), dtype=np.int64)
        _switch_and_init(smalls[lo:hi], luts, lut_index[lo:hi], lg, acc, a_sw)
        blind_rotate_chunk(acc, a_sw, bsk, plan, base_log, level)
        for b in range(hi - lo):
            out[lo + b] = acc[:, :, b]


#: Up to this many threads, every ciphertext of a batch takes the one-ciphertext path.
SINGLE_PATH_MAX_THREADS = 8


def choose_chunk(total: int, threads: int, max_chunk: int = 8) -> int:
    """Chunk size of a batch. The one-ciphertext path (pbs_one) costs less CPU per
    bootstrap than a lockstep chunk (about 21 vs 29 ms on DEFAULT), so with few threads
    each ciphertext goes alone. It reads the whole 57 MiB key per bootstrap, though (about
    2.7 GB/s per busy thread), so with many threads lockstep chunks, which share each key
    read among their ciphertexts, keep memory bandwidth from becoming the limit."""
    if threads <= SINGLE_PATH_MAX_THREADS:
        return 1
    return max(1, min(max_chunk, -(-total // max(1, threads))))
