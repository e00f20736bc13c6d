"""Blind rotation of ONE ciphertext: latency rather than throughput.

Sequential carry chains in tfhe.integer bootstrap one block after another, so the time of
a single KS + PBS matters as much as the batch throughput. With one ciphertext nothing can
be vectorised across a batch; instead every pass is vectorised inside the polynomials:
the rotation, the decomposition and the twist are contiguous loops, the transforms are
fft_one's (same butterflies and plan as fft_batch, so the same rounding noise as the
batched path), and all buffers are allocated once per blind rotation, not per key bit.
The keyswitch of one ciphertext (`keyswitch_one`) accumulates on uint32 lanes.

On DEFAULT, one core (process time, 2026-11-21, loaded 2-core machine): KS + PBS 71 ms
wall / 45 ms CPU before (pocketfft through rocket-fft), about 21 ms CPU after; of a blind
rotation's ~18 ms, the key product (scalar: the key's layout interleaves the 8 values of
a frequency) takes ~5 and the transforms ~9.

Numba's on-disk cache keys each function on its own file only: after editing this module
or fft_one, delete tfhe/core/__pycache__/bootstrap.* (and pbs_one.*), or bootstrap keeps
running the machine code it compiled against the old version.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import fft_one

_TWO64 = 18446744073709551616.0
_INV_TWO64 = 1.0 / _TWO64


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Hint the cache line of arr.flat[idx] into L2 (llvm.prefetch: never faults)."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        i8p = ir.PointerType(ir.IntType(8))
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
        builder.call(fn, [ptr, i32(0), i32(2), i32(1)])  # read, L2, data
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _digits_segment(src: np.ndarray, t0: int, t1: int, off_lo: np.uint64, neg_lo: bool,
                    off_hi: np.uint64, neg_hi: bool, base_log: int, level: int, j: int,
                    plan: np.ndarray, row: int, xr: np.ndarray, xi: np.ndarray) -> None:
    """Digit j of v = (X^p - 1) * src at t and t + h for t in [t0, t1), twisted, into row.

    Coefficient u of X^p * src is +-src[u + off] (off = -p, or n - p where it wraps);
    in this segment neither the offsets nor the signs change, so the loop is branch-free
    and contiguous (the offsets are unsigned: t + off wraps around to t - p).
    """
    h = src.shape[0] // 2
    hu = np.uint64(h)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    base = np.int64(1 << base_log)
    m_lo = np.uint64(0) - np.uint64(neg_lo)  # all ones: negate
    m_hi = np.uint64(0) - np.uint64(neg_hi)
    strip = level - 1 - j  # digits below j, peeled first (digit level-1 is the lowest)
    out = np.uint64(row * h)
    for t in range(np.uint64(t0), np.uint64(t1)):
        v0 = ((src[t + off_lo] ^ m_lo) - m_lo) - src[t]
        v1 = ((src[t + hu + off_hi] ^ m_hi) - m_hi) - src[t + hu]
        u0 = (v0 + rounding) >> rshift
        u1 = (v1 + rounding) >> rshift
        for _ in range(strip):
            u0 = (u0 >> bl) + (((u0 & mask) + half) >> bl)
            u1 = (u1 >> bl) + (((u1 & mask) + half) >> bl)
        d0 = u0 & mask
        d1 = u1 & mask
        f0 = float(np.int64(d0) - np.int64((d0 + half) >> bl) * base)
        f1 = float(np.int64(d1) - np.int64((d1 + half) >> bl) * base)
        tr = plan[t]
        ti = plan[hu + t]
        xr[out + t] = f0 * tr - f1 * ti
        xi[out + t] = f0 * ti + f1 * tr


@njit(cache=True)
def _rotate_decompose(src: np.ndarray, p: int, base_log: int, level: int, plan: np.ndarray,
                      first_row: int, xr: np.ndarray, xi: np.ndarray) -> None:
    """Balanced digits of (X^p - 1) * src (negacyclic, 0 <= p < 2N), folded and twisted,
    into rows first_row + j (digit j) of xr, xi: one pass, no rotated copy.

    Coefficients t and t + h are read together (the fold); over t in [0, h) at most one
    of them crosses the wrap-around point, so two segments cover every case.
    """
    n = src.shape[0]
    h = n // 2
    neg = p >= n
    if neg:
        p -= n
    keep = np.uint64(0) - np.uint64(p)  # offset -p
    wrap = np.uint64(n - p)
    for j in range(level):
        row = first_row + j
        if p < h:  # t < p: t wraps, t + h does not
            _digits_segment(src, 0, p, wrap, not neg, keep, neg, base_log, level, j, plan,
                            row, xr, xi)
            _digits_segment(src, p, h, keep, neg, keep, neg, base_log, level, j, plan,
                            row, xr, xi)
        else:  # t always wraps; t + h wraps below p - h
            _digits_segment(src, 0, p - h, wrap, not neg, wrap, not neg, base_log, level, j,
                            plan, row, xr, xi)
            _digits_segment(src, p - h, h, wrap, not neg, keep, neg, base_log, level, j,
                            plan, row, xr, xi)


@njit(cache=True, fastmath=True)
def _key_product(xr: np.ndarray, xi: np.ndarray, key: np.ndarray, next_key: np.ndarray,
                 t_len: int, rows: int, kp1: int, outr: np.ndarray, outi: np.ndarray) -> None:
    """out[c] = sum_r x[r] * key[., r, c] in fft_one's (T, blocks) layout.

    Column r * nblk + b, row e of x is the frequency fft_batch puts at b * T + e, where the
    key (in fft_batch's order) holds it: x and out are walked contiguously, the key (one
    64-byte group per frequency) as one sequential stream per block. Measured 1.7x faster
    than walking the key in memory order and x with a stride. The same line of the next
    key bit's key is prefetched: the key (57 MiB on DEFAULT) comes from memory each
    time, and the hardware prefetcher does not cross into the next 64 KiB.
    """
    h = key.shape[0]
    nblk = h // t_len
    nb = np.uint64(nblk)
    mi = np.uint64(rows * nblk)
    mo = np.uint64(kp1 * nblk)
    tl = np.uint64(t_len)
    if rows == 2 and kp1 == 2:  # k = 1, one level: everything in registers
        kf = key.reshape(-1)
        nf = next_key.reshape(-1)
        eight = np.uint64(8)
        for e in range(tl):
            x0 = e * mi
            y0 = e * mo
            for b in range(nb):
                k = (b * tl + e) * eight
                _prefetch(nf, k)
                ar = xr[x0 + b]
                ai = xi[x0 + b]
                br = xr[x0 + nb + b]
                bi = xi[x0 + nb + b]
                k00r = kf[k]
                k01r = kf[k + 1]
                k10r = kf[k + 2]
                k11r = kf[k + 3]
                k00i = kf[k + 4]
                k01i = kf[k + 5]
                k10i = kf[k + 6]
                k11i = kf[k + 7]
                outr[y0 + b] = ar * k00r - ai * k00i + br * k10r - bi * k10i
                outi[y0 + b] = ar * k00i + ai * k00r + br * k10i + bi * k10r
                outr[y0 + nb + b] = ar * k01r - ai * k01i + br * k11r - bi * k11i
                outi[y0 + nb + b] = ar * k01i + ai * k01r + br * k11i + bi * k11r
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
def keyswitch_one(ct: np.ndarray, ksk: np.ndarray, base_log: int, level: int,
                  out: np.ndarray) -> None:
    """bootstrap.keyswitch_chunk for one ciphertext (kN+1,) uint64 -> out (n+1,) uint32.

    Same digits, same result bit for bit; the sums are kept modulo 2^32 (all the output
    keeps), so they run on 16 uint32 lanes instead of 8 uint64 ones. The 30 MiB key is
    read once, which is most of the time.
    """
    n_in = ct.shape[0] - 1
    width = out.shape[0]
    acc = np.zeros(width, dtype=np.uint32)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    low32 = np.uint64(0xFFFFFFFF)
    wu = np.uint64(width)
    for i in range(n_in):
        v = (ct[i] + rounding) >> rshift
        for j in range(level - 1, -1, -1):
            t = v & mask
            carry = (t + half) >> bl  # 1 when t >= B/2: digit t - B, carry into v
            d = np.uint32((t - (carry << bl)) & low32)
            v = (v >> bl) + carry
            if d != 0:
                row = ksk[i, j]
                for k in range(wu):
                    acc[k] += d * row[k]
    w = width - 1
    body = np.uint32(((ct[n_in] + (np.uint64(1) << np.uint64(31))) >> np.uint64(32)) & low32)
    for k in range(w):
        out[k] = np.uint32(0) - acc[k]
    out[w] = body - acc[w]


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
    # one level: as many outputs as inputs, the key product runs in place and the inverse
    # lands back in xr, xi: half the working set (it must share L1/L2 with the key stream)
    outr = tr if level == 1 else np.empty(kp1 * h)
    outi = ti if level == 1 else np.empty(kp1 * h)
    yr = xr if level == 1 else np.empty(kp1 * h)
    yi = xi if level == 1 else np.empty(kp1 * h)
    last = a_sw.shape[0] - 1
    for i in range(a_sw.shape[0]):
        p = a_sw[i]
        if p == 0:  # X^0 - 1 = 0: the CMux keeps the accumulator
            continue
        for c in range(kp1):
            _rotate_decompose(acc[c], p, base_log, level, plan, c * level, xr, xi)
        fft_one.forward(xr, xi, plan, h, ramp, tr, ti)
        _key_product(tr, ti, bsk[i], bsk[min(i + 1, last)], t_len, rows, kp1, outr, outi)
        fft_one.inverse(outr, outi, plan, h, ramp, yr, yi)
        for c in range(kp1):
            _accumulate_one(acc[c], yr, yi, plan, c)
