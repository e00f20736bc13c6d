"""The negacyclic FFT of ONE ciphertext's polynomials, vectorised inside each transform.

fft_batch vectorises across the polynomials of a batch; a single ciphertext has only
(k+1) * level of them, too few to fill a SIMD register. Here the same radix-4
decimation-in-frequency butterflies (same plan, same order of operations, so the same
rounding noise as the batch path) are arranged so that every loop is long and contiguous:

* head: the first stages, while a butterfly's quarter-length q is at least HEAD_MIN_Q,
  run with the j loop innermost (contiguous in memory and in the plan's twiddles), over
  all the polynomials at once;
* the rest of each transform acts on independent blocks of T consecutive points
  (`tail_size`); the blocks are transposed into a (T, blocks) matrix and finished
  column-wise as fft_batch does, vectorised across the blocks of every polynomial.

Frequency e of block b sits at row e, column b of the transposed matrix where fft_batch
(with one column) puts it at b * T + e, so the Fourier bootstrapping key is read in place
(pbs_one._key_product). The inverse undoes the forward stage by stage, unscaled (the key
is pre-scaled by 1/h).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The head runs while q >= HEAD_MIN_Q: below that LLVM's vector loop (8 doubles, with its
# runtime alias checks) is not worth entering and the stage would run scalar.
HEAD_MIN_Q = 64


@njit(cache=True)
def head_stages(h: int) -> int:
    """Number of head stages (0 for h < 4 * HEAD_MIN_Q)."""
    count = 0
    length = h
    while length >= 4 * HEAD_MIN_Q:
        count += 1
        length //= 4
    return count


@njit(cache=True)
def tail_size(h: int) -> int:
    """Block length T left to the column stages: the first stage length whose q is small."""
    length = h
    while length >= 4 * HEAD_MIN_Q:
        length //= 4
    return length


@njit(cache=True)
def _tail_offset(h: int) -> int:
    """Plan offset of the first tail stage."""
    length = h
    off = 2 * h
    while length >= 4 * HEAD_MIN_Q:
        off += 6 * (length // 4)
        length //= 4
    return off


@njit(cache=True, fastmath=True)
def head_forward(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int,
                 ramp: np.ndarray) -> None:
    """The head stages of the forward DIF FFT of each length-h sequence of xr, xi."""
    total = np.uint64(xr.shape[0])
    length = h
    off = 2 * h
    while length >= 4 * HEAD_MIN_Q:
        q = length // 4
        qu = np.uint64(q)
        o0 = np.uint64(off)  # unsigned: no negative-index wraparound, so no gathers
        o1 = o0 + qu
        o2 = o1 + qu
        o3 = o2 + qu
        o4 = o3 + qu
        o5 = o4 + qu
        lu = np.uint64(length)
        for k in range(total // lu):
            blk = ramp[k] * lu  # opaque to LLVM: see `ramp`
            b1 = blk + qu
            b2 = b1 + qu
            b3 = b2 + qu
            for j in range(qu):
                a0r = xr[blk + j] + xr[b2 + j]
                a0i = xi[blk + j] + xi[b2 + j]
                a1r = xr[blk + j] - xr[b2 + j]
                a1i = xi[blk + j] - xi[b2 + j]
                a2r = xr[b1 + j] + xr[b3 + j]
                a2i = xi[b1 + j] + xi[b3 + j]
                a3r = xr[b1 + j] - xr[b3 + j]
                a3i = xi[b1 + j] - xi[b3 + j]
                y1r = a1r + a3i
                y1i = a1i - a3r
                y3r = a1r - a3i
                y3i = a1i + a3r
                y2r = a0r - a2r
                y2i = a0i - a2i
                w1r = plan[o0 + j]
                w1i = plan[o1 + j]
                w2r = plan[o2 + j]
                w2i = plan[o3 + j]
                w3r = plan[o4 + j]
                w3i = plan[o5 + j]
                xr[blk + j] = a0r + a2r
                xi[blk + j] = a0i + a2i
                xr[b1 + j] = y1r * w1r - y1i * w1i
                xi[b1 + j] = y1r * w1i + y1i * w1r
                xr[b2 + j] = y2r * w2r - y2i * w2i
                xi[b2 + j] = y2r * w2i + y2i * w2r
                xr[b3 + j] = y3r * w3r - y3i * w3i
                xi[b3 + j] = y3r * w3i + y3i * w3r
        off += 6 * q
        length = q


@njit(cache=True, fastmath=True)
def head_inverse(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int,
                 ramp: np.ndarray) -> None:
    """Inverse of `head_forward` (unscaled), stages from the shortest to the longest."""
    total = np.uint64(xr.shape[0])
    for s in range(head_stages(h) - 1, -1, -1):
        length = h
        off = 2 * h
        for _ in range(s):
            off += 6 * (length // 4)
            length //= 4
        q = length // 4
        qu = np.uint64(q)
        o0 = np.uint64(off)  # unsigned: no negative-index wraparound, so no gathers
        o1 = o0 + qu
        o2 = o1 + qu
        o3 = o2 + qu
        o4 = o3 + qu
        o5 = o4 + qu
        lu = np.uint64(length)
        for k in range(total // lu):
            blk = ramp[k] * lu  # opaque to LLVM: see `ramp`
            b1 = blk + qu
            b2 = b1 + qu
            b3 = b2 + qu
            for j in range(qu):
                w1r = plan[o0 + j]
                w1i = -plan[o1 + j]
                w2r = plan[o2 + j]
                w2i = -plan[o3 + j]
                w3r = plan[o4 + j]
                w3i = -plan[o5 + j]
                y0r = xr[blk + j]
                y0i = xi[blk + j]
                y1r = xr[b1 + j] * w1r - xi[b1 + j] * w1i
                y1i = xr[b1 + j] * w1i + xi[b1 + j] * w1r
                y2r = xr[b2 + j] * w2r - xi[b2 + j] * w2i
                y2i = xr[b2 + j] * w2i + xi[b2 + j] * w2r
                y3r = xr[b3 + j] * w3r - xi[b3 + j] * w3i
                y3i = xr[b3 + j] * w3i + xi[b3 + j] * w3r
                b0r = y0r + y2r
                b0i = y0i + y2i
                b1r = y0r - y2r
                b1i = y0i - y2i
                b2r = y1r + y3r
                b2i = y1i + y3i
                b3r = y1r - y3r
                b3i = y1i - y3i
                xr[blk + j] = b0r + b2r
                xi[blk + j] = b0i + b2i
                xr[b2 + j] = b0r - b2r
                xi[b2 + j] = b0i - b2i
                xr[b1 + j] = b1r - b3i
                xi[b1 + j] = b1i + b3r
                xr[b3 + j] = b1r + b3i
                xi[b3 + j] = b1i - b3r


@njit(cache=True)
def transpose(src: np.ndarray, rows: int, cols: int, dst: np.ndarray) -> None:
    """dst (cols, rows) = src (rows, cols), both flat; by 8 x 8 tiles where they fit (the
    tile's 8 lines stay in L1: measured twice faster than row by row)."""
    ru = np.uint64(rows)
    cu = np.uint64(cols)
    eight = np.uint64(8)
    if rows % 8 or cols % 8:
        for r in range(ru):
            for c in range(cu):
                dst[c * ru + r] = src[r * cu + c]
        return
    for r0 in range(np.uint64(0), ru, eight):
        for c0 in range(np.uint64(0), cu, eight):
            for c in range(c0, c0 + eight):
                for r in range(r0, r0 + eight):
                    dst[c * ru + r] = src[r * cu + c]


@njit(cache=True, fastmath=True)
def tail_forward(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int) -> None:
    """The tail stages, on (T, m) column-major blocks: as fft_batch.forward on T rows."""
    t_len = tail_size(h)
    m = xr.shape[0] // t_len
    mu = np.uint64(m)
    length = t_len
    off = _tail_offset(h)
    while length >= 4:
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, t_len, length):
            for j in range(q):
                w1r = plan[off + j]
                w1i = plan[off + q + j]
                w2r = plan[off + 2 * q + j]
                w2i = plan[off + 3 * q + j]
                w3r = plan[off + 4 * q + j]
                w3i = plan[off + 5 * q + j]
                b0 = np.uint64((blk + j) * m)
                b1 = b0 + qm
                b2 = b1 + qm
                b3 = b2 + qm
                for c in range(mu):
                    a0r = xr[b0 + c] + xr[b2 + c]
                    a0i = xi[b0 + c] + xi[b2 + c]
                    a1r = xr[b0 + c] - xr[b2 + c]
                    a1i = xi[b0 + c] - xi[b2 + c]
                    a2r = xr[b1 + c] + xr[b3 + c]
                    a2i = xi[b1 + c] + xi[b3 + c]
                    a3r = xr[b1 + c] - xr[b3 + c]
                    a3i = xi[b1 + c] - xi[b3 + c]
                    y1r = a1r + a3i
                    y1i = a1i - a3r
                    y3r = a1r - a3i
                    y3i = a1i + a3r
                    y2r = a0r - a2r
                    y2i = a0i - a2i
                    xr[b0 + c] = a0r + a2r
                    xi[b0 + c] = a0i + a2i
                    xr[b1 + c] = y1r * w1r - y1i * w1i
                    xi[b1 + c] = y1r * w1i + y1i * w1r
                    xr[b2 + c] = y2r * w2r - y2i * w2i
                    xi[b2 + c] = y2r * w2i + y2i * w2r
                    xr[b3 + c] = y3r * w3r - y3i * w3i
                    xi[b3 + c] = y3r * w3i + y3i * w3r
        off += 6 * q
        length = q
    if length == 2:
        _radix2(xr, xi, t_len, m)


@njit(cache=True, fastmath=True)
def _radix2(xr: np.ndarray, xi: np.ndarray, rows: int, m: int) -> None:
    """The last stage when log2(h) is odd: twiddles are all one, it is its own inverse."""
    mu = np.uint64(m)
    for blk in range(0, rows, 2):
        b0 = np.uint64(blk * m)
        b1 = b0 + mu
        for c in range(mu):
            ar = xr[b0 + c]
            ai = xi[b0 + c]
            br = xr[b1 + c]
            bi = xi[b1 + c]
            xr[b0 + c] = ar + br
            xi[b0 + c] = ai + bi
            xr[b1 + c] = ar - br
            xi[b1 + c] = ai - bi


@njit(cache=True, fastmath=True)
def tail_inverse(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int) -> None:
    """Inverse of `tail_forward` (unscaled)."""
    t_len = tail_size(h)
    m = xr.shape[0] // t_len
    mu = np.uint64(m)
    base_off = _tail_offset(h)
    count = 0
    length = t_len
    while length >= 4:
        count += 1
        length //= 4
    if length == 2:
        _radix2(xr, xi, t_len, m)
    for s in range(count - 1, -1, -1):
        length = t_len
        off = base_off
        for _ in range(s):
            off += 6 * (length // 4)
            length //= 4
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, t_len, length):
            for j in range(q):
                w1r = plan[off + j]
                w1i = -plan[off + q + j]
                w2r = plan[off + 2 * q + j]
                w2i = -plan[off + 3 * q + j]
                w3r = plan[off + 4 * q + j]
                w3i = -plan[off + 5 * q + j]
                b0 = np.uint64((blk + j) * m)
                b1 = b0 + qm
                b2 = b1 + qm
                b3 = b2 + qm
                for c in range(mu):
                    y0r = xr[b0 + c]
                    y0i = xi[b0 + c]
                    y1r = xr[b1 + c] * w1r - xi[b1 + c] * w1i
                    y1i = xr[b1 + c] * w1i + xi[b1 + c] * w1r
                    y2r = xr[b2 + c] * w2r - xi[b2 + c] * w2i
                    y2i = xr[b2 + c] * w2i + xi[b2 + c] * w2r
                    y3r = xr[b3 + c] * w3r - xi[b3 + c] * w3i
                    y3i = xr[b3 + c] * w3i + xi[b3 + c] * w3r
                    b0r = y0r + y2r
                    b0i = y0i + y2i
                    b1r = y0r - y2r
                    b1i = y0i - y2i
                    b2r = y1r + y3r
                    b2i = y1i + y3i
                    b3r = y1r - y3r
                    b3i = y1i - y3i
                    xr[b0 + c] = b0r + b2r
                    xi[b0 + c] = b0i + b2i
                    xr[b2 + c] = b0r - b2r
                    xi[b2 + c] = b0i - b2i
                    xr[b1 + c] = b1r - b3i
                    xi[b1 + c] = b1i + b3r
                    xr[b3 + c] = b1r + b3i
                    xi[b3 + c] = b1i - b3r


@njit(cache=True)
def make_ramp(count: int) -> np.ndarray:
    """0, 1, ..., count - 1 as uint64: block indices read from memory.

    The head's block start comes from this array rather than from the loop counter, so
    LLVM cannot hoist the vector loop's alias checks out of the block loop: hoisted, they
    would compare the ranges of ALL blocks, which overlap in an in-place FFT, and the
    stage would always take the scalar path (measured: twice slower).
    """
    return np.arange(count, dtype=np.uint64)


@njit(cache=True)
def forward(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int, ramp: np.ndarray,
            tr: np.ndarray, ti: np.ndarray) -> None:
    """Forward FFT of the length-h sequences of xr, xi (destroyed) into tr, ti (T, m)."""
    t_len = tail_size(h)
    head_forward(xr, xi, plan, h, ramp)
    transpose(xr, xr.shape[0] // t_len, t_len, tr)
    transpose(xi, xi.shape[0] // t_len, t_len, ti)
    tail_forward(tr, ti, plan, h)


@njit(cache=True)
def inverse(tr: np.ndarray, ti: np.ndarray, plan: np.ndarray, h: int, ramp: np.ndarray,
            xr: np.ndarray, xi: np.ndarray) -> None:
    """Inverse of `forward` (times h): tr, ti (destroyed) back into natural-order xr, xi."""
    t_len = tail_size(h)
    tail_inverse(tr, ti, plan, h)
    transpose(tr, t_len, tr.shape[0] // t_len, xr)
    transpose(ti, t_len, ti.shape[0] // t_len, xi)
    head_inverse(xr, xi, plan, h, ramp)
