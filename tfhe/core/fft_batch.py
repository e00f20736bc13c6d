"""A radix-4 FFT over many polynomials at once, vectorised across the polynomials.

Arrays have shape (h, M): row t holds coefficient t of M independent sequences, so each
butterfly is a loop over M contiguous doubles that LLVM turns into SIMD code. The forward
transform is decimation in frequency and leaves its output in digit-reversed order; the
inverse undoes it stage by stage. The order of frequencies never matters here because
the only thing done in the Fourier domain is pointwise products with keys stored in the
same order. Neither direction scales: keys are stored pre-scaled by 1/h.

The plan is one float64 array: the negacyclic twist (re, im) followed by the twiddles of
each radix-4 stage (w^j, w^2j, w^3j for j < L/4, re then im).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def make_plan(polynomial_size: int) -> np.ndarray:
    h = polynomial_size // 2
    parts = [np.cos(np.pi * np.arange(h) / polynomial_size),
             np.sin(np.pi * np.arange(h) / polynomial_size)]
    length = h
    while length >= 4:
        q = length // 4
        j = np.arange(q)
        for k in (1, 2, 3):
            w = np.exp(-2j * np.pi * j * k / length)
            parts += [w.real, w.imag]
        length = q
    return np.ascontiguousarray(np.concatenate(parts))


@njit(cache=True, fastmath=True)
def _radix2(xr: np.ndarray, xi: np.ndarray, h: int, m: int) -> None:
    """The last stage when log2(h) is odd: twiddles are all one, it is its own inverse."""
    mu = np.uint64(m)
    for blk in range(0, h, 2):
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


# forward and inverse are single functions on purpose: splitting the stages into calls
# measured twice slower (LLVM loses the loop structure across the call).

@njit(cache=True, fastmath=True)
def forward(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int, m: int) -> None:
    """In-place DIF FFT of the m interleaved columns of flat (h * m) arrays.

    Indices are unsigned so that Numba emits no negative-index wraparound and LLVM can
    vectorise the column loop.
    """
    length = h
    off = 2 * h
    mu = np.uint64(m)
    while length >= 4:
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, h, length):
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
        _radix2(xr, xi, h, m)


@njit(cache=True, fastmath=True)
def inverse(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int, m: int) -> None:
    """In-place inverse of `forward`, times h (no scaling)."""
    # the plan offsets of the stages, walked backwards
    count = 0
    length = h
    while length >= 4:
        count += 1
        length //= 4
    if length == 2:
        _radix2(xr, xi, h, m)
    mu = np.uint64(m)
    for s in range(count - 1, -1, -1):
        length = h
        off = 2 * h
        for _ in range(s):
            off += 6 * (length // 4)
            length //= 4
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, h, length):
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


def forward_u64(polys: np.ndarray, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform torus polynomials (M, N) uint64 -> (re, im) of shape (h, M), twisted."""
    m, n = polys.shape
    h = n // 2
    signed = polys.view(np.int64).astype(np.float64)
    tr, ti = plan[:h], plan[h:2 * h]
    a, b = signed[:, :h], signed[:, h:]
    xr = np.ascontiguousarray((a * tr - b * ti).T)
    xi = np.ascontiguousarray((a * ti + b * tr).T)
    forward(xr.reshape(-1), xi.reshape(-1), plan, h, m)
    return xr, xi


# -- IEEE-strict variants on a range of columns (the squash) ----------------------------------
# Same butterflies as forward / inverse, compiled without fast-math: LLVM may not contract
# a * b + c into an FMA or reassociate, so a column's result is bit-for-bit the same
# whether it lands in a SIMD lane or in the scalar remainder loop. The squash relies on it:
# its low key limb is inexact, so a result that depended on where a ciphertext sits in
# a batch (or on which thread ran it) would not be deterministic.

@njit(cache=True, nogil=True)
def forward_cols(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int, m: int,
                 c0: int, c1: int) -> None:
    """`forward` on columns [c0, c1) of flat (h * m) arrays, IEEE-strict."""
    length = h
    off = 2 * h
    lo = np.uint64(c0)
    hi = np.uint64(c1)
    while length >= 4:
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, h, length):
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
                for c in range(lo, hi):
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
        _radix2_cols(xr, xi, h, m, c0, c1)


@njit(cache=True, nogil=True)
def _radix2_cols(xr: np.ndarray, xi: np.ndarray, h: int, m: int, c0: int, c1: int) -> None:
    mu = np.uint64(m)
    for blk in range(0, h, 2):
        b0 = np.uint64(blk * m)
        b1 = b0 + mu
        for c in range(np.uint64(c0), np.uint64(c1)):
            ar = xr[b0 + c]
            ai = xi[b0 + c]
            br = xr[b1 + c]
            bi = xi[b1 + c]
            xr[b0 + c] = ar + br
            xi[b0 + c] = ai + bi
            xr[b1 + c] = ar - br
            xi[b1 + c] = ai - bi


@njit(cache=True, nogil=True)
def inverse_cols(xr: np.ndarray, xi: np.ndarray, plan: np.ndarray, h: int, m: int,
                 c0: int, c1: int) -> None:
    """`inverse` on columns [c0, c1) of flat (h * m) arrays, IEEE-strict (times h)."""
    count = 0
    length = h
    while length >= 4:
        count += 1
        length //= 4
    if length == 2:
        _radix2_cols(xr, xi, h, m, c0, c1)
    lo = np.uint64(c0)
    hi = np.uint64(c1)
    for s in range(count - 1, -1, -1):
        length = h
        off = 2 * h
        for _ in range(s):
            off += 6 * (length // 4)
            length //= 4
        q = length // 4
        qm = np.uint64(q * m)
        for blk in range(0, h, length):
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
                for c in range(lo, hi):
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
