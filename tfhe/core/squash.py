"""Noise squashing: bootstrap a 2^64 block into an LWE modulo 2^128 with small noise.

Threshold decryption floods the phase with noise that must be 2^40 times larger than the
ciphertext noise and still far below the message scale. At q = 2^64 with 4-bit plaintexts
(delta = 2^59) and bootstrap noise around 2^40, there is no room for that gap; at 2^128
(delta = 2^124, squashed noise around 2^64) there is ~2^58 of room. This module is that
bootstrap, after tfhe-rs's noise squashing: keyswitch to the small key (the DEFAULT
keyswitching key), centred modulus switch to 2N, blind rotation with a bootstrapping key of
GGSW encryptions mod 2^128 under a squash GLWE key (k = 2, N = 2048, TUniform(2^30),
decomposition base 2^24, 3 levels), sample extraction. Two 2-bit blocks are packed into one
squashed LWE (lo + 4 * hi, plaintext in [0, 16), delta_out = 2^124).

128-bit representation. Numba has no 128-bit integers, so a torus element is a pair of
uint64 arrays (hi, lo); additions carry explicitly. The only large product, digits (|d| <=
2^23) times 128-bit key coefficients, is done exactly with float64 FFTs by splitting the key
polynomials into 8 limbs of 16 bits: each limb product sum is an integer of typical size
2^44 (bound 2^53), far inside float64's 53-bit mantissa, so rounding the inverse FFT is
exact, and the limbs are recombined with shifts modulo 2^128. Why not a multi-prime NTT:
a Numba NTT of size 2048 over 6 primes of 31 bits plus Garner's recombination would do
more work than pocketfft's float64 transforms, which are already vectorised. The key is
kept in the standard (uint64 hi, lo) domain (812 MiB) and its limbs are transformed per
use: a Fourier-domain copy would be 8 limbs x 16 bytes per coefficient (3.3 GiB).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from . import fft, fft_batch
from .bootstrap import keyswitch_chunk, modulus_switch
from .csprng import Csprng

LIMB_BITS = 16
LIMBS = 128 // LIMB_BITS
_MAGIC = b"FHEVMPY-SQUASHKEY"


@dataclass(frozen=True)
class SquashParameters:
    """The squashing bootstrap (tfhe-rs NOISE_SQUASHING_PARAM ... 2^-128 shape)."""

    glwe_dimension: int = 2
    polynomial_size: int = 2048
    glwe_noise_log2: int = 30  # TUniform bound at modulus 2^128
    base_log: int = 24
    level: int = 3
    delta_log2: int = 124  # 16 plaintext values fill the 2^128 torus
    plaintext_modulus: int = 16

    @property
    def lwe_dimension(self) -> int:
        """Dimension of the squashed LWE (flattened squash GLWE key)."""
        return self.glwe_dimension * self.polynomial_size


SQUASH = SquashParameters()


# -- 128-bit helpers (Numba) ------------------------------------------------------------------

@njit(cache=True, inline="always")
def _add128(hi: np.uint64, lo: np.uint64, ahi: np.uint64, alo: np.uint64):
    s = lo + alo
    c = np.uint64(1) if s < lo else np.uint64(0)
    return hi + ahi + c, s


@njit(cache=True, inline="always")
def _neg128(hi: np.uint64, lo: np.uint64):
    nlo = np.uint64(0) - lo
    nhi = ~hi + (np.uint64(1) if lo == 0 else np.uint64(0))
    return nhi, nlo


@njit(cache=True)
def _accumulate_limbs(acc_hi: np.ndarray, acc_lo: np.ndarray, prods: np.ndarray) -> None:
    """acc (M, N) += sum_l prods[M, l, N] * 2^(16 l) modulo 2^128 (prods are int64)."""
    m, limbs, n = prods.shape
    for r in range(m):
        for t in range(n):
            hi = acc_hi[r, t]
            lo = acc_lo[r, t]
            for limb in range(limbs):
                v = prods[r, limb, t]
                s = limb * 16
                if s == 0:
                    ahi = np.uint64(v >> 63)
                    alo = np.uint64(v)
                elif s < 64:
                    ahi = np.uint64(v >> (64 - s))
                    alo = np.uint64(v) << np.uint64(s)
                else:
                    ahi = np.uint64(v) << np.uint64(s - 64)
                    alo = np.uint64(0)
                hi, lo = _add128(hi, lo, ahi, alo)
            acc_hi[r, t] = hi
            acc_lo[r, t] = lo


def _limbs(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """(..., N) 128-bit -> (..., 8, N) float64 limbs of 16 bits, least significant first."""
    mask = np.uint64(0xFFFF)
    parts = [(lo >> np.uint64(16 * i)) & mask for i in range(4)]
    parts += [(hi >> np.uint64(16 * i)) & mask for i in range(4)]
    return np.stack(parts, axis=-2).astype(np.float64)


def _sign_extend(x: np.ndarray) -> np.ndarray:
    """High word of int64 values (given as uint64 two's complement) sign-extended to 128."""
    return np.where(x.view(np.int64) < 0, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0))


# -- keys -------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SquashSecretKey:
    """The squash GLWE key (k, N) bits; flattened, the key of squashed LWEs."""

    glwe_key: np.ndarray
    params: SquashParameters = SQUASH

    def __repr__(self) -> str:
        return "SquashSecretKey(<secret>)"

    @property
    def lwe_key(self) -> np.ndarray:
        return self.glwe_key.reshape(-1)

    @classmethod
    def generate(cls, rng: Csprng, params: SquashParameters = SQUASH) -> SquashSecretKey:
        return cls(rng.binary((params.glwe_dimension, params.polynomial_size)), params)


@dataclass(frozen=True, eq=False)
class SquashKey:
    """Public squashing bootstrapping key: GGSW(s_i) mod 2^128 as (hi, lo) uint64 arrays
    of shape (n, (k+1) * level, k+1, N)."""

    bsk_hi: np.ndarray
    bsk_lo: np.ndarray
    params: SquashParameters = SQUASH

    def __repr__(self) -> str:
        return f"SquashKey(n={self.bsk_hi.shape[0]}, {2 * self.bsk_hi.nbytes / 2**20:.0f} MiB)"

    def save(self, path: str | os.PathLike) -> None:
        """Raw arrays + header + BLAKE2b checksum; written atomically."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        header = struct.pack("<5I", *self.bsk_hi.shape, 0)
        digest = hashlib.blake2b(digest_size=32)
        with open(tmp, "wb") as f:
            for chunk in (_MAGIC, header, memoryview(np.ascontiguousarray(self.bsk_hi)).cast("B"),
                          memoryview(np.ascontiguousarray(self.bsk_lo)).cast("B")):
                f.write(chunk)
                digest.update(chunk)
            f.write(digest.digest())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SquashKey:
        """Memory-mapped, read-only: processes loading the same file share its pages."""
        with open(path, "rb") as f:
            try:
                blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # empty file
                raise ValueError(f"{path}: not a squash key") from None
        if blob[:len(_MAGIC)] != _MAGIC or len(blob) < len(_MAGIC) + 20 + 32:
            raise ValueError(f"{path}: not a squash key")
        view = memoryview(blob)
        if hashlib.blake2b(view[:-32], digest_size=32).digest() != blob[-32:]:
            raise ValueError(f"{path}: checksum mismatch")
        shape = struct.unpack_from("<4I", blob, len(_MAGIC))
        off = len(_MAGIC) + 20
        count = int(np.prod(shape))
        if len(blob) - 32 != off + 16 * count:
            raise ValueError(f"{path}: wrong length")
        hi = np.frombuffer(blob, np.uint64, count, off).reshape(shape)
        lo = np.frombuffer(blob, np.uint64, count, off + 8 * count).reshape(shape)
        return cls(hi, lo)


def glwe_encrypt_zero128(key: np.ndarray, count: int, noise_log2: int,
                         rng: Csprng) -> tuple[np.ndarray, np.ndarray]:
    """`count` GLWE encryptions of zero mod 2^128: (hi, lo) of shape (count, k+1, N)."""
    k, n = key.shape
    key_spec = fft.forward(key.astype(np.float64))  # (k, h)
    raw = rng.uniform_u64((count, k, n, 2))
    hi = np.empty((count, k + 1, n), dtype=np.uint64)
    lo = np.empty((count, k + 1, n), dtype=np.uint64)
    hi[:, :k] = raw[..., 0]
    lo[:, :k] = raw[..., 1]
    noise = rng.tuniform((count, n), noise_log2)
    body_hi = np.ascontiguousarray(_sign_extend(noise))
    body_lo = np.ascontiguousarray(noise)
    # sum_c A_c * S_c: limbs of A (<2^16) times binary S, sums < 2^27: exact in float64
    spec = fft.forward(_limbs(hi[:, :k], lo[:, :k]))  # (count, k, 8, h)
    prod = np.einsum("cklh,kh->clh", spec, key_spec)
    # exact: the limb products stay below 2^53
    prods = np.rint(fft.backward(prod)).astype(np.int64)
    _accumulate_limbs(body_hi, body_lo, np.ascontiguousarray(prods))
    hi[:, k] = body_hi
    lo[:, k] = body_lo
    return hi, lo


def generate_squash_key(small_lwe_key: np.ndarray, secret: SquashSecretKey, rng: Csprng,
                        chunk: int = 32) -> SquashKey:
    """GGSW encryptions mod 2^128 of each bit of the (DEFAULT) small LWE key."""
    p = secret.params
    k, n, level = p.glwe_dimension, p.polynomial_size, p.level
    rows = (k + 1) * level
    count = small_lwe_key.shape[0]
    bsk_hi = np.empty((count, rows, k + 1, n), dtype=np.uint64)
    bsk_lo = np.empty_like(bsk_hi)
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        hi, lo = glwe_encrypt_zero128(secret.glwe_key, (stop - start) * rows,
                                      p.glwe_noise_log2, rng)
        hi = hi.reshape(stop - start, rows, k + 1, n)
        lo = lo.reshape(stop - start, rows, k + 1, n)
        bits = small_lwe_key[start:stop].astype(np.uint64)
        for c in range(k + 1):
            for j in range(level):
                shift = 128 - p.base_log * (j + 1)  # gadget 2^shift
                if shift >= 64:
                    hi[:, c * level + j, c, 0] += bits << np.uint64(shift - 64)
                else:
                    old = lo[:, c * level + j, c, 0].copy()
                    lo[:, c * level + j, c, 0] = old + (bits << np.uint64(shift))
                    carry = (lo[:, c * level + j, c, 0] < old).astype(np.uint64)
                    hi[:, c * level + j, c, 0] += carry
        bsk_hi[start:stop] = hi
        bsk_lo[start:stop] = lo
    return SquashKey(bsk_hi, bsk_lo, p)



# -- the external product in the Fourier domain (fft_batch layout: (h, M), M columns) ---------

@njit(cache=True)
def _fold_digits(digits: np.ndarray, plan: np.ndarray, xr: np.ndarray, xi: np.ndarray) -> None:
    """Fold and twist digit polynomials (B, R, N) into columns b * R + r of X."""
    nb, rows, n = digits.shape
    h = n // 2
    m = nb * rows
    for t in range(h):
        tr = plan[t]
        ti = plan[h + t]
        base = t * m
        for b in range(nb):
            for r in range(rows):
                d0 = digits[b, r, t]
                d1 = digits[b, r, t + h]
                xr[base + b * rows + r] = d0 * tr - d1 * ti
                xi[base + b * rows + r] = d0 * ti + d1 * tr


@njit(cache=True)
def _fold_limbs(hi: np.ndarray, lo: np.ndarray, plan: np.ndarray, scale: float,
                yr: np.ndarray, yi: np.ndarray) -> None:
    """16-bit limbs of 128-bit polynomials (R, C, N), folded and twisted into columns
    (r * C + c) * 8 + l, times `scale` (the 1/h that the inverse FFT leaves out)."""
    rows, cols, n = hi.shape
    h = n // 2
    m = rows * cols * LIMBS
    mask = np.uint64(0xFFFF)
    for t in range(h):
        tr = plan[t] * scale
        ti = plan[h + t] * scale
        base = t * m
        for r in range(rows):
            for c in range(cols):
                h0, l0 = hi[r, c, t], lo[r, c, t]
                h1, l1 = hi[r, c, t + h], lo[r, c, t + h]
                for limb in range(LIMBS):
                    sh = np.uint64(16 * (limb % 4))
                    if limb < 4:
                        d0 = float((l0 >> sh) & mask)
                        d1 = float((l1 >> sh) & mask)
                    else:
                        d0 = float((h0 >> sh) & mask)
                        d1 = float((h1 >> sh) & mask)
                    col = base + (r * cols + c) * LIMBS + limb
                    yr[col] = d0 * tr - d1 * ti
                    yi[col] = d0 * ti + d1 * tr


@njit(cache=True, fastmath=True)
def _multiply(xr: np.ndarray, xi: np.ndarray, yr: np.ndarray, yi: np.ndarray, nb: int,
              rows: int, width: int, outr: np.ndarray, outi: np.ndarray) -> None:
    """out[t, b * W + w] = sum_r X[t, b * R + r] * Y[t, r * W + w] (W = C * 8 columns)."""
    h = xr.shape[0] // (nb * rows)
    for t in range(h):
        xb = t * nb * rows
        yb = t * rows * width
        ob = t * nb * width
        for b in range(nb):
            x0 = xb + b * rows
            o = ob + b * width
            for w in range(width):
                sr = 0.0
                si = 0.0
                for r in range(rows):
                    ar = xr[x0 + r]
                    ai = xi[x0 + r]
                    br = yr[yb + r * width + w]
                    bi = yi[yb + r * width + w]
                    sr += ar * br - ai * bi
                    si += ar * bi + ai * br
                outr[o + w] = sr
                outi[o + w] = si


@njit(cache=True)
def _untwist_accumulate(outr: np.ndarray, outi: np.ndarray, plan: np.ndarray,
                        acc_hi: np.ndarray, acc_lo: np.ndarray) -> None:
    """acc (B, C, N) += sum_l round(limb product l) * 2^(16 l), modulo 2^128."""
    nb, cols, n = acc_hi.shape
    h = n // 2
    width = cols * LIMBS
    for t in range(h):
        tr = plan[t]
        ti = plan[h + t]
        ob = t * nb * width
        for b in range(nb):
            for c in range(cols):
                h0, l0 = acc_hi[b, c, t], acc_lo[b, c, t]
                h1, l1 = acc_hi[b, c, t + h], acc_lo[b, c, t + h]
                for limb in range(LIMBS):
                    o = ob + b * width + c * LIMBS + limb
                    zr = outr[o]
                    zi = outi[o]
                    v0 = np.int64(np.rint(zr * tr + zi * ti))
                    v1 = np.int64(np.rint(zi * tr - zr * ti))
                    s = limb * 16
                    if s == 0:
                        a0h, a0l = np.uint64(v0 >> 63), np.uint64(v0)
                        a1h, a1l = np.uint64(v1 >> 63), np.uint64(v1)
                    elif s < 64:
                        a0h, a0l = np.uint64(v0 >> (64 - s)), np.uint64(v0) << np.uint64(s)
                        a1h, a1l = np.uint64(v1 >> (64 - s)), np.uint64(v1) << np.uint64(s)
                    else:
                        a0h, a0l = np.uint64(v0) << np.uint64(s - 64), np.uint64(0)
                        a1h, a1l = np.uint64(v1) << np.uint64(s - 64), np.uint64(0)
                    h0, l0 = _add128(h0, l0, a0h, a0l)
                    h1, l1 = _add128(h1, l1, a1h, a1l)
                acc_hi[b, c, t], acc_lo[b, c, t] = h0, l0
                acc_hi[b, c, t + h], acc_lo[b, c, t + h] = h1, l1


# -- blind rotation mod 2^128 -----------------------------------------------------------------

@njit(cache=True)
def _init_acc(lut_hi: np.ndarray, lut_lo: np.ndarray, b_sw: int, kp1: int,
              acc_hi: np.ndarray, acc_lo: np.ndarray) -> None:
    """acc = trivial GLWE of X^(-b_sw) * lut (one accumulator: (k+1, N))."""
    n = lut_hi.shape[0]
    acc_hi[:] = 0
    acc_lo[:] = 0
    p = (2 * n - b_sw) % (2 * n)
    neg = p >= n
    if neg:
        p -= n
    body = kp1 - 1
    for t in range(n):
        dst = t + p
        flip = neg
        if dst >= n:
            dst -= n
            flip = not flip
        h, lo = lut_hi[t], lut_lo[t]
        if flip:
            h, lo = _neg128(h, lo)
        acc_hi[body, dst] = h
        acc_lo[body, dst] = lo


@njit(cache=True)
def _rotate_decompose(acc_hi: np.ndarray, acc_lo: np.ndarray, a: np.ndarray, base_log: int,
                      level: int, out: np.ndarray) -> None:
    """Signed digits of (X^a[b] - 1) * acc[b]: out (B, (k+1) * level, N) float64.

    Digit j of component c goes to row c * level + j (gadget 2^(128 - base_log (j+1))); the
    top base_log * level bits are rounded to nearest, digits balanced in [-B/2, B/2].
    """
    nb, kp1, n = acc_hi.shape
    total = base_log * level
    drop = 128 - total  # bits below the decomposition (here 56 < 64)
    rnd = np.uint64(1) << np.uint64(drop - 1)
    mask = np.uint64((1 << base_log) - 1)
    half = np.int64(1 << (base_log - 1))
    base = np.int64(1 << base_log)
    digits = np.empty(level, dtype=np.int64)
    u = np.empty(3, dtype=np.uint64)
    if total != 72 or level != 3:
        raise ValueError("decomposition layout is written for 3 levels of 24 bits")
    for b in range(nb):
        p = a[b] % (2 * n)
        for c in range(kp1):
            for t in range(n):
                s = t - p
                neg = False
                while s < 0:
                    s += n
                    neg = not neg
                h, lo = acc_hi[b, c, s], acc_lo[b, c, s]
                if neg:
                    h, lo = _neg128(h, lo)
                nh, nl = _neg128(acc_hi[b, c, t], acc_lo[b, c, t])
                h, lo = _add128(h, lo, nh, nl)
                h, lo = _add128(h, lo, np.uint64(0), rnd)
                # value of the top `total` bits, as a 72-bit number split in 3 digits
                # (only valid for base_log * level = 72 with the layout below)
                u[0] = h >> np.uint64(40)
                u[1] = (h >> np.uint64(16)) & mask
                u[2] = ((h & np.uint64(0xFFFF)) << np.uint64(8)) | (lo >> np.uint64(56))
                carry = np.int64(0)
                for j in range(level - 1, -1, -1):
                    v = np.int64(u[j]) + carry
                    if v >= half:
                        digits[j] = v - base
                        carry = np.int64(1)
                    else:
                        digits[j] = v
                        carry = np.int64(0)
                for j in range(level):
                    out[b, c * level + j, t] = float(digits[j])


@njit(cache=True)
def _sample_extract(acc_hi: np.ndarray, acc_lo: np.ndarray, out_hi: np.ndarray,
                    out_lo: np.ndarray) -> None:
    """Coefficient 0 of the GLWE (k+1, N) as an LWE under the flattened key."""
    kp1, n = acc_hi.shape
    for c in range(kp1 - 1):
        out_hi[c * n] = acc_hi[c, 0]
        out_lo[c * n] = acc_lo[c, 0]
        for j in range(1, n):
            h, lo = _neg128(acc_hi[c, n - j], acc_lo[c, n - j])
            out_hi[c * n + j] = h
            out_lo[c * n + j] = lo
    out_hi[(kp1 - 1) * n] = acc_hi[kp1 - 1, 0]
    out_lo[(kp1 - 1) * n] = acc_lo[kp1 - 1, 0]


def identity_lut(params: SquashParameters, input_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Table of m -> m * 2^delta_log2 for inputs m in [0, input_values), rotated half a box."""
    n = params.polynomial_size
    box = n // input_values
    vals = np.repeat(np.arange(input_values, dtype=np.uint64), box)
    hi = vals << np.uint64(params.delta_log2 - 64)
    lo = np.zeros(n, dtype=np.uint64)
    half = box // 2
    out_hi = np.empty(n, dtype=np.uint64)
    out_hi[: n - half] = hi[half:]
    out_hi[n - half:] = np.uint64(0) - hi[:half]  # box 0 is zero: negation is exact
    return out_hi, lo


def squash(cts: np.ndarray, ksk: np.ndarray, ks_base_log: int, ks_level: int,
           key: SquashKey) -> tuple[np.ndarray, np.ndarray]:
    """Squash LWEs (B, kN+1) uint64 under the big 2^64 key whose plaintexts are in [0, 16)
    with delta 2^59 into LWEs mod 2^128 (hi, lo) of shape (B, k'N' + 1), delta 2^124."""
    p = key.params
    cts = np.ascontiguousarray(np.atleast_2d(cts), dtype=np.uint64)
    nb = cts.shape[0]
    k, n = p.glwe_dimension, p.polynomial_size
    kp1 = k + 1
    small_n = ksk.shape[2] - 1
    if key.bsk_hi.shape[0] != small_n:
        raise ValueError("squash key is not for this keyswitching key's small LWE key")
    smalls = np.empty((nb, small_n + 1), dtype=np.uint32)
    keyswitch_chunk(cts, ksk, ks_base_log, ks_level, smalls)
    lg = (2 * n).bit_length() - 1
    a_sw = np.empty((nb, small_n), dtype=np.int64)
    lut_hi, lut_lo = identity_lut(p, p.plaintext_modulus)
    acc_hi = np.empty((nb, kp1, n), dtype=np.uint64)
    acc_lo = np.empty((nb, kp1, n), dtype=np.uint64)
    for b in range(nb):
        b_sw = modulus_switch(smalls[b], lg, a_sw[b])
        _init_acc(lut_hi, lut_lo, b_sw, kp1, acc_hi[b], acc_lo[b])
    rows = kp1 * p.level
    h = n // 2
    width = kp1 * LIMBS
    plan = fft_batch.make_plan(n)
    digits = np.empty((nb, rows, n), dtype=np.float64)
    xr = np.empty(h * nb * rows)
    xi = np.empty(h * nb * rows)
    yr = np.empty(h * rows * width)
    yi = np.empty(h * rows * width)
    outr = np.empty(h * nb * width)
    outi = np.empty(h * nb * width)
    a_cols = np.ascontiguousarray(a_sw.T)
    for i in range(small_n):
        _rotate_decompose(acc_hi, acc_lo, a_cols[i], p.base_log, p.level, digits)
        _fold_digits(digits, plan, xr, xi)
        fft_batch.forward(xr, xi, plan, h, nb * rows)
        _fold_limbs(key.bsk_hi[i], key.bsk_lo[i], plan, 1.0 / h, yr, yi)
        fft_batch.forward(yr, yi, plan, h, rows * width)
        _multiply(xr, xi, yr, yi, nb, rows, width, outr, outi)
        fft_batch.inverse(outr, outi, plan, h, nb * width)
        _untwist_accumulate(outr, outi, plan, acc_hi, acc_lo)
    out_hi = np.empty((nb, k * n + 1), dtype=np.uint64)
    out_lo = np.empty((nb, k * n + 1), dtype=np.uint64)
    for b in range(nb):
        _sample_extract(acc_hi[b], acc_lo[b], out_hi[b], out_lo[b])
    return out_hi, out_lo


# -- Python-int helpers (decryption with a full key: tests and the dealer's checks) -----------

def to_ints(hi: np.ndarray, lo: np.ndarray) -> list[int]:
    """128-bit values as Python ints."""
    return [(int(h) << 64) | int(lo_) for h, lo_ in zip(hi.tolist(), lo.tolist(), strict=True)]


def phase128(lwe_key: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> int:
    """b - <a, s> mod 2^128 of one squashed LWE (Python ints: exact)."""
    vals = to_ints(hi, lo)
    bits = lwe_key.tolist()
    acc = sum(v for v, s in zip(vals[:-1], bits, strict=True) if s)
    return (vals[-1] - acc) % (1 << 128)


def decode128(phase: int, params: SquashParameters = SQUASH) -> int:
    """Nearest plaintext in [0, plaintext_modulus)."""
    d = params.delta_log2
    return ((phase + (1 << (d - 1))) >> d) % params.plaintext_modulus


def encrypt128(lwe_key: np.ndarray, plaintext: int, noise_log2: int,
               rng: Csprng) -> tuple[np.ndarray, np.ndarray]:
    """A fresh LWE mod 2^128 of plaintext * 2^124 (tests of the threshold layer)."""
    n = lwe_key.shape[0]
    raw = rng.uniform_u64((n, 2))
    a = to_ints(raw[:, 0], raw[:, 1])
    e = int(rng.tuniform(1, noise_log2).view(np.int64)[0])
    body = (sum(x for x, s in zip(a, lwe_key.tolist(), strict=True) if s) + e
            + (plaintext << SQUASH.delta_log2)) % (1 << 128)
    hi = np.append(raw[:, 0], np.uint64(body >> 64))
    lo = np.append(raw[:, 1], np.uint64(body & ((1 << 64) - 1)))
    return hi, lo
