"""Blind rotation of ONE ciphertext: latency rather than throughput.

Sequential carry chains in tfhe.integer bootstrap one block after another, so the time of
a single KS + PBS matters as much as the batch throughput. With one ciphertext nothing can
be vectorised across a batch; instead every pass is vectorised inside the polynomials:
the rotation, the decomposition and the twist are contiguous loops, the transforms are
fft_one's (same butterflies and plan as fft_batch, so the same rounding noise as the
batched path), and all buffers are allocated once per blind rotation, not per key bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import fft_one

_TWO64 = 18446744073709551616.0
_INV_TWO64 = 1.0 / _TWO64


@njit(cache=True)
def _rotate_sub_one(src: np.ndarray, p: int, dst: np.ndarray) -> None:
    """dst = (X^p - 1) * src, negacyclic, for one polynomial (0 <= p < 2N)."""
    n = src.shape[0]
    neg = p >= n
    if neg:
        p -= n
    if neg:
        for t in range(p):
            dst[t] = src[t + n - p] - src[t]
        for t in range(p, n):
            dst[t] = (np.uint64(0) - src[t - p]) - src[t]
    else:
        for t in range(p):
            dst[t] = (np.uint64(0) - src[t + n - p]) - src[t]
        for t in range(p, n):
            dst[t] = src[t - p] - src[t]


@njit(cache=True)
def _decompose_twist(rot: np.ndarray, base_log: int, level: int, plan: np.ndarray,
                     first_row: int, xr: np.ndarray, xi: np.ndarray) -> None:
    """Balanced digits of the polynomial rot, folded and twisted, into rows
    first_row .. first_row + level - 1 (row first_row + j holds digit j) of xr, xi."""
    n = rot.shape[0]
    h = n // 2
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    base = np.int64(1 << base_log)
    hu = np.uint64(h)
    for j in range(level - 1, -1, -1):
        # digit j needs the digits below it first: recompute the carry chain per level
        # (level is 1 or 2 in practice; the loop over t stays contiguous and vectorised)
        row = np.uint64((first_row + j) * h)
        for t in range(hu):
            u0 = (rot[t] + rounding) >> rshift
            u1 = (rot[t + hu] + rounding) >> rshift
            for _ in range(level - 1 - j):
                t0 = u0 & mask
                t1 = u1 & mask
                u0 = (u0 >> bl) + ((t0 + half) >> bl)
                u1 = (u1 >> bl) + ((t1 + half) >> bl)
            t0 = u0 & mask
            t1 = u1 & mask
            d0 = float(np.int64(t0) - np.int64((t0 + half) >> bl) * base)
            d1 = float(np.int64(t1) - np.int64((t1 + half) >> bl) * base)
            tr = plan[t]
            ti = plan[hu + t]
            xr[row + t] = d0 * tr - d1 * ti
            xi[row + t] = d0 * ti + d1 * tr


@njit(cache=True, fastmath=True)
def _key_product(xr: np.ndarray, xi: np.ndarray, key: np.ndarray, t_len: int, rows: int,
                 kp1: int, outr: np.ndarray, outi: np.ndarray) -> None:
    """out[c] = sum_r x[r] * key[., r, c] in fft_one's (T, blocks) layout.

    Column r * nblk + b, row e of x is the frequency fft_batch puts at b * T + e, where the
    key (in fft_batch's order) holds it. The key is walked in memory order, one stream the
    prefetcher follows; x (in L1) is read with a stride.
    """
    h = key.shape[0]
    nblk = h // t_len
    nb = np.uint64(nblk)
    mi = np.uint64(rows * nblk)
    mo = np.uint64(kp1 * nblk)
    tl = np.uint64(t_len)
    if rows == 2 and kp1 == 2:  # k = 1, one level: everything in registers
        for b in range(nb):
            for e in range(tl):
                f = b * tl + e
                x0 = e * mi + b
                y0 = e * mo + b
                ar = xr[x0]
                ai = xi[x0]
                br = xr[x0 + nb]
                bi = xi[x0 + nb]
                k00r = key[f, 0, 0, 0]
                k00i = key[f, 1, 0, 0]
                k01r = key[f, 0, 0, 1]
                k01i = key[f, 1, 0, 1]
                k10r = key[f, 0, 1, 0]
                k10i = key[f, 1, 1, 0]
                k11r = key[f, 0, 1, 1]
                k11i = key[f, 1, 1, 1]
                outr[y0] = ar * k00r - ai * k00i + br * k10r - bi * k10i
                outi[y0] = ar * k00i + ai * k00r + br * k10i + bi * k10r
                outr[y0 + nb] = ar * k01r - ai * k01i + br * k11r - bi * k11i
                outi[y0 + nb] = ar * k01i + ai * k01r + br * k11i + bi * k11r
        return
    for b in range(nb):
        for e in range(tl):
            f = b * tl + e
            xin = e * mi + b
            xout = e * mo + b
            for c in range(kp1):
                vr = 0.0
                vi = 0.0
                for r in range(rows):
                    ar = xr[xin + np.uint64(r) * nb]
                    ai = xi[xin + np.uint64(r) * nb]
                    kr = key[f, 0, r, c]
                    ki = key[f, 1, r, c]
                    vr += ar * kr - ai * ki
                    vi += ar * ki + ai * kr
                outr[xout + np.uint64(c) * nb] = vr
                outi[xout + np.uint64(c) * nb] = vi


@njit(cache=True)
def _accumulate_one(acc: np.ndarray, yr: np.ndarray, yi: np.ndarray, plan: np.ndarray,
                    c: int) -> None:
    """acc += untwist(y[c]) rounded and wrapped modulo 2^64 (acc: one polynomial)."""
    h = acc.shape[0] // 2
    hu = np.uint64(h)
    base = np.uint64(c * h)
    for t in range(hu):
        zr = yr[base + t]
        zi = yi[base + t]
        tr = plan[t]
        ti = plan[hu + t]
        wr = zr * tr + zi * ti
        wi = zi * tr - zr * ti
        wr -= np.floor(wr * _INV_TWO64 + 0.5) * _TWO64
        wi -= np.floor(wi * _INV_TWO64 + 0.5) * _TWO64
        acc[t] += np.uint64(np.int64(np.floor(wr + 0.5)))
        acc[t + hu] += np.uint64(np.int64(np.floor(wi + 0.5)))


@njit(cache=True)
def blind_rotate_one(acc: np.ndarray, a_sw: np.ndarray, bsk: np.ndarray, plan: np.ndarray,
                     base_log: int, level: int) -> None:
    """acc (k+1, N) <- X^(sum_i a_sw[i] s_i) * acc, in place (acc C-contiguous)."""
    kp1, n = acc.shape
    h = n // 2
    rows = kp1 * level
    t_len = fft_one.tail_size(h)
    ramp = fft_one.make_ramp(rows * h // (4 * fft_one.HEAD_MIN_Q) + 1)
    xr = np.empty(rows * h)
    xi = np.empty(rows * h)
    tr = np.empty(rows * h)
    ti = np.empty(rows * h)
    outr = np.empty(kp1 * h)
    outi = np.empty(kp1 * h)
    yr = np.empty(kp1 * h)
    yi = np.empty(kp1 * h)
    rot = np.empty(n, dtype=np.uint64)
    for i in range(a_sw.shape[0]):
        p = a_sw[i]
        if p == 0:  # X^0 - 1 = 0: the CMux keeps the accumulator
            continue
        for c in range(kp1):
            _rotate_sub_one(acc[c], p, rot)
            _decompose_twist(rot, base_log, level, plan, c * level, xr, xi)
        fft_one.forward(xr, xi, plan, h, ramp, tr, ti)
        _key_product(tr, ti, bsk[i], t_len, rows, kp1, outr, outi)
        fft_one.inverse(outr, outi, plan, h, ramp, yr, yi)
        for c in range(kp1):
            _accumulate_one(acc[c], yr, yi, plan, c)
