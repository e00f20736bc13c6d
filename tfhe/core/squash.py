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
uint64 arrays (hi, lo); additions carry explicitly. The only large product, digits
(balanced, |d| <= 2^23) times 128-bit key coefficients, is done with float64 FFTs on limbs
of the key: K = v0 + 2^74 (v1 + 2^18 v2 + 2^36 v3) mod 2^128 with v1..v3 balanced 18-bit
integers and v0 the low 74 bits (signed) as a float64. Only the result modulo 2^128 and
above the noise matters, so only the top limbs need exact products:

* Exact limbs. A limb's product sum has 9 rows x 2048 = 2^14.2 terms of rms 2^22.2 x
  2^16.2: rms 2^45.5. The float64 FFT error on it measures rms 0.03 (max 0.125 over 36k
  coefficients; test_external_product_error_at_full_size checks < 0.25), so rounding
  to the nearest integer is exact with 16 sigma to spare, and bits [74, 128) are exact.
* The inexact limb. v0 (rms 2^72.2, rounded to 53 bits) gives a product of rms 2^101.5
  whose FFT error measures rms 2^50.9 (max 2^52.6) per coefficient and CMux. A CMux
  rotates the error already in the accumulator without amplifying it, so after n = 918
  steps each GLWE coefficient carries rms 2^55.8, and the LWE phase (body minus mask
  times ~2048 key bits) rms 2^61.3: variance 2^122.6 against the squash's 2^128.8
  (docs/kms.md): +1.4 % variance, B_e = 2^68.1 unchanged to the first decimal.

Why not fewer limbs: an inexact limb whose top is bit T errs by ~2^(T - 23) per CMux, so
T <= 74 keeps it negligible (T = 77 with three 17-bit limbs measured 2^53.9 per CMux:
variance 2^128.6, as much as all other noise); 54 exact bits need 3 limbs of <= 18 bits
(19 bits would leave 8 sigma). Not tried, by estimate only: a double-double FFT (as
tfhe-rs's f128) costs ~10 float64 operations per operation for 3 instead of 12 inverse
transforms; a multi-prime NTT needs 64-bit modular products that LLVM does not vectorise.

The limbs' spectra (the Fourier key, `fourier_key`: 918 x 1024 x 2 x 108 float64,
1.5 GiB) are computed once per process and key object from the standard-domain key (the
812 MiB file format does not change; ~4 s of CPU). Per CMux and ciphertext that leaves 9
forward FFTs of digit polynomials, a complex product with the key, 12 inverse FFTs and
the recombination. A batch is cut in contiguous chunks, one per thread (Numba kernels
without the GIL, no synchronisation between them); each chunk walks the key in lockstep
(each key step read once per chunk) with its ciphertexts as the SIMD axis, so chunks of 8
or more are the efficient size (one euint64 = 16 LWEs = two chunks of 8 on 2 cores).
Every float operation is IEEE-strict (no fast-math: no FMA contraction, no
reassociation), so a ciphertext's result is bit-for-bit the same whatever the batch,
its position in it or the thread count: the inexact limb makes that worth stating.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from . import fft, fft_batch
from .bootstrap import keyswitch_chunk, modulus_switch
from .csprng import Csprng

LIMB_BITS = 16  # exact limbs of glwe_encrypt_zero128 (binary key: sums < 2^27)
LIMBS = 128 // LIMB_BITS
LOW_BITS = 74  # the Fourier key's inexact low limb: bits [0, 74)
EXACT_BITS = 18  # three exact balanced limbs for bits [74, 128)
FOURIER_LIMBS = 1 + (128 - LOW_BITS) // EXACT_BITS
_FOURIER_LOCK = threading.Lock()
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



# -- the Fourier key: one inexact low limb, three exact limbs ---------------------------------
# A 128-bit key coefficient K is split as K = v0 + 2^74 (v1 + 2^18 v2 + 2^36 v3) mod 2^128,
# v0 in [-2^73, 2^73) (inexact: a float64), v1..v3 balanced 18-bit integers in [-2^17, 2^17).
# Spectra are stored per step i as (h, 2, R * W): row t holds the real parts of the R * W
# values then their imaginary parts; value r' * W + w' is limb l of GLWE component c of
# the GGSW row c' * 3 + j, with r' = j * C + c' (level-major) and w' = l * C + c
# (limb-major), C = k + 1, W = 4 C: the blind rotation's layouts. See the module
# docstring for the error argument.

@njit(cache=True, inline="always")
def _split_key(h: np.uint64, lo: np.uint64):
    """(v0, v1, v2, v3) as float64 with K = v0 + 2^74 (v1 + 2^18 v2 + 2^36 v3) mod 2^128;
    v1..v3 are exact, v0 is rounded to 53 bits (an error below 2^20)."""
    top = h & np.uint64((1 << (LOW_BITS - 64)) - 1)
    sign = top >> np.uint64(LOW_BITS - 65)  # 1 when bits [0, 74) are >= 2^73: v0 < 0
    v0 = float(np.int64(top) - np.int64(sign << np.uint64(LOW_BITS - 64))) * 2.0 ** 64 \
        + float(lo)
    rest = (h >> np.uint64(LOW_BITS - 64)) + sign
    mask = np.uint64((1 << EXACT_BITS) - 1)
    half = np.uint64(1 << (EXACT_BITS - 1))
    eb = np.uint64(EXACT_BITS)
    t = rest & mask
    c = (t + half) >> eb
    v1 = np.int64(t) - np.int64(c << eb)
    rest = (rest >> eb) + c
    t = rest & mask
    c = (t + half) >> eb
    v2 = np.int64(t) - np.int64(c << eb)
    rest = (rest >> eb) + c
    t = rest & mask
    c = (t + half) >> eb
    v3 = np.int64(t) - np.int64(c << eb)  # the carry out is a multiple of 2^128: dropped
    return v0, float(v1), float(v2), float(v3)


@njit(cache=True, nogil=True)
def _fourier_key_steps(bsk_hi: np.ndarray, bsk_lo: np.ndarray, plan: np.ndarray, i0: int,
                       i1: int, out: np.ndarray) -> None:
    """out[i] = spectra (times 1/h) of the four limbs of key step i, for i in [i0, i1)."""
    _, rows, cols, n = bsk_hi.shape
    if rows != 3 * cols:
        raise ValueError("the Fourier key is written for 3 decomposition levels")
    h = n // 2
    m = rows * cols * FOURIER_LIMBS
    scale = 1.0 / h
    yr = np.empty(h * m)
    yi = np.empty(h * m)
    for i in range(i0, i1):
        for t in range(h):
            tr = plan[t] * scale
            ti = plan[h + t] * scale
            for r in range(rows):
                for c in range(cols):
                    a = _split_key(bsk_hi[i, r, c, t], bsk_lo[i, r, c, t])
                    b = _split_key(bsk_hi[i, r, c, t + h], bsk_lo[i, r, c, t + h])
                    # row r = c' * 3 + j of the GGSW goes to row j * C + c' (level-major),
                    # limb l of component c to column l * C + c: see _blind_rotate
                    rr = (r % 3) * cols + r // 3
                    for limb in range(FOURIER_LIMBS):
                        col = m * t + rr * cols * FOURIER_LIMBS + limb * cols + c
                        yr[col] = a[limb] * tr - b[limb] * ti
                        yi[col] = a[limb] * ti + b[limb] * tr
        fft_batch.forward_cols(yr, yi, plan, h, m, 0, m)
        out[i, :, 0] = yr.reshape(h, m)
        out[i, :, 1] = yi.reshape(h, m)


def fourier_key(key: SquashKey, threads: int | None = None) -> np.ndarray:
    """The key's limb spectra, (n, h, 2, R * W) float64 (1.5 GiB on SQUASH): computed
    once per process and per key object (the file format stays the standard-domain key),
    on `threads` threads (default: the CPUs this process may use)."""
    cached = key.__dict__.get("_fourier")
    if cached is not None:
        return cached
    with _FOURIER_LOCK:
        cached = key.__dict__.get("_fourier")
        if cached is not None:
            return cached
        count, rows, cols, n = key.bsk_hi.shape
        plan = fft_batch.make_plan(n)
        out = np.empty((count, n // 2, 2, rows * cols * FOURIER_LIMBS))
        workers = _threads(threads, count)
        bounds = np.linspace(0, count, workers + 1).astype(int)
        _run_threads(_fourier_key_steps, [
            (key.bsk_hi, key.bsk_lo, plan, int(bounds[w]), int(bounds[w + 1]), out)
            for w in range(workers)])
        out.flags.writeable = False
        object.__setattr__(key, "_fourier", out)
        return out


def _threads(threads: int | None, work: int) -> int:
    """Worker threads: `threads`, or the CPUs this process may run on; at most `work`."""
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if threads < 1:
        raise ValueError("threads must be >= 1")
    return max(1, min(threads, work))


def _run_threads(kernel, arg_lists: list[tuple]) -> None:
    """kernel(*args) for each args, on threads (the kernels release the GIL)."""
    if len(arg_lists) == 1:
        kernel(*arg_lists[0])
        return
    with ThreadPoolExecutor(len(arg_lists)) as pool:
        for f in [pool.submit(kernel, *args) for args in arg_lists]:
            f.result()


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


@njit(cache=True, inline="always")
def _digits(rh: np.uint64, rl: np.uint64, ch: np.uint64, cl: np.uint64):
    """Balanced 24-bit digits (top first) of r - c (128-bit), its top 72 bits rounded to
    nearest (the 56 bits below are dropped). Branch-free: the caller's loop vectorises."""
    lo = rl - cl
    h = rh - ch - np.uint64(rl < cl)
    rounded = lo + np.uint64(1 << 55)
    h = h + np.uint64(rounded < lo)
    mask = np.uint64((1 << 24) - 1)
    half = np.int64(1 << 23)
    u0 = np.int64(h >> np.uint64(40))
    u1 = np.int64((h >> np.uint64(16)) & mask)
    u2 = np.int64(((h & np.uint64(0xFFFF)) << np.uint64(8)) | (rounded >> np.uint64(56)))
    c2 = (u2 + half) >> 24
    u1 += c2
    c1 = (u1 + half) >> 24
    u0 += c1
    c0 = (u0 + half) >> 24
    return float(u0 - (c0 << 24)), float(u1 - (c1 << 24)), float(u2 - (c2 << 24))


# Inside the blind rotation the batch is the fastest axis ("lanes"): accumulators are
# (N, C, B), spectra (h, rows, B) with rows level-major (j * C + c) and outputs limb-major
# (l * C + c), real and imaginary parts in separate arrays. The innermost loops then run
# over C * B contiguous values (24 for a chunk of 8 on SQUASH): LLVM only takes the SIMD
# path of a loop with runtime alias checks above a trip count of 16 to 24, and one
# buffer for both real and imaginary parts failed the check outright (2.3x slower FFTs).

@njit(cache=True, nogil=True)
def _rotate(acc_hi: np.ndarray, acc_lo: np.ndarray, a: np.ndarray, rot_hi: np.ndarray,
            rot_lo: np.ndarray) -> None:
    """rot[., c, b] = X^a[b] * acc[., c, b] (negacyclic, (N, C, B) layout). Rows of rot
    are written whole; each lane reads its source rows in order."""
    n, kp1, nb = acc_hi.shape
    p = np.empty(nb, dtype=np.int64)
    for b in range(nb):
        p[b] = a[b] % (2 * n)
    for t in range(n):
        for b in range(nb):
            s = t - p[b]  # in (-2N, N)
            w1 = s < 0
            s = s + n if w1 else s
            w2 = s < 0
            s = s + n if w2 else s
            neg = np.uint64(0) - np.uint64(w1 != w2)  # odd number of wraps: negate
            for c in range(kp1):
                h, lo = acc_hi[s, c, b], acc_lo[s, c, b]
                rot_lo[t, c, b] = (lo ^ neg) - neg
                rot_hi[t, c, b] = (h ^ neg) + (neg & np.uint64(lo == 0))


@njit(cache=True, nogil=True)
def _decompose_fold(rot_hi: np.ndarray, rot_lo: np.ndarray, acc_hi: np.ndarray,
                    acc_lo: np.ndarray, plan: np.ndarray, xr: np.ndarray,
                    xi: np.ndarray) -> None:
    """Digits of rot - acc (that is (X^a - 1) * acc), folded and twisted into (xr, xi)
    (h, 3 C, B): row j * C + c holds digit j of component c (gadget 2^(104 - 24 j))."""
    n, kp1, nb = acc_hi.shape
    h = n // 2
    rh = rot_hi.reshape(-1)
    rl = rot_lo.reshape(-1)
    ah = acc_hi.reshape(-1)
    al = acc_lo.reshape(-1)
    cb = np.uint64(kp1 * nb)
    for t in range(h):
        tr = plan[t]
        ti = plan[h + t]
        i = np.uint64(t) * cb
        k = np.uint64(t + h) * cb
        x0 = np.uint64(3 * t) * cb
        x1 = x0 + cb
        x2 = x1 + cb
        for j in range(cb):
            d00, d01, d02 = _digits(rh[i + j], rl[i + j], ah[i + j], al[i + j])
            d10, d11, d12 = _digits(rh[k + j], rl[k + j], ah[k + j], al[k + j])
            xr[x0 + j] = d00 * tr - d10 * ti
            xi[x0 + j] = d00 * ti + d10 * tr
            xr[x1 + j] = d01 * tr - d11 * ti
            xi[x1 + j] = d01 * ti + d11 * tr
            xr[x2 + j] = d02 * tr - d12 * ti
            xi[x2 + j] = d02 * ti + d12 * tr


@njit(cache=True, inline="always")
def _cmac(sr: float, si: float, ar: float, ai: float, kr: float, ki: float):
    return sr + (ar * kr - ai * ki), si + (ar * ki + ai * kr)


@njit(cache=True, nogil=True)
def _multiply(xr: np.ndarray, xi: np.ndarray, fk: np.ndarray, nb: int, rows: int,
              outr: np.ndarray, outi: np.ndarray) -> None:
    """out[t, w, b] = sum_r x[t, r, b] * fk[t, r, w] (complex; (h, ., B) layouts), for
    rows = (k+1) * 3 in {6, 9}.

    The rows are unrolled so that each lane's sum stays in registers (one store per
    output; 1.9x faster than accumulating in memory at B = 8); the sum runs over r in
    order in every lane, so a ciphertext's result does not depend on B."""
    h = fk.shape[0]
    width = fk.shape[2] // rows
    nine = rows == 9
    if rows != 6 and not nine:
        raise ValueError("the squash product is written for 6 or 9 rows")
    mx = np.uint64(rows * nb)
    mo = np.uint64(width * nb)
    nbu = np.uint64(nb)
    for t in range(h):
        xb = np.uint64(t) * mx
        ob = np.uint64(t) * mo
        for w in range(width):
            kr = fk[t, 0, w::width]
            ki = fk[t, 1, w::width]
            k0r, k1r, k2r, k3r, k4r, k5r = kr[0], kr[1], kr[2], kr[3], kr[4], kr[5]
            k0i, k1i, k2i, k3i, k4i, k5i = ki[0], ki[1], ki[2], ki[3], ki[4], ki[5]
            k6r, k7r, k8r = (kr[6], kr[7], kr[8]) if nine else (0.0, 0.0, 0.0)
            k6i, k7i, k8i = (ki[6], ki[7], ki[8]) if nine else (0.0, 0.0, 0.0)
            o0 = ob + np.uint64(w) * nbu
            for b in range(nbu):
                j = xb + b
                sr, si = _cmac(0.0, 0.0, xr[j], xi[j], k0r, k0i)
                j += nbu
                sr, si = _cmac(sr, si, xr[j], xi[j], k1r, k1i)
                j += nbu
                sr, si = _cmac(sr, si, xr[j], xi[j], k2r, k2i)
                j += nbu
                sr, si = _cmac(sr, si, xr[j], xi[j], k3r, k3i)
                j += nbu
                sr, si = _cmac(sr, si, xr[j], xi[j], k4r, k4i)
                j += nbu
                sr, si = _cmac(sr, si, xr[j], xi[j], k5r, k5i)
                if nine:
                    j += nbu
                    sr, si = _cmac(sr, si, xr[j], xi[j], k6r, k6i)
                    j += nbu
                    sr, si = _cmac(sr, si, xr[j], xi[j], k7r, k7i)
                    j += nbu
                    sr, si = _cmac(sr, si, xr[j], xi[j], k8r, k8i)
                outr[o0 + b] = sr
                outi[o0 + b] = si


@njit(cache=True, inline="always")
def _to128(f: float, w: np.int64):
    """f (the inexact low limb's product, a float64 integer below 2^127) + w * 2^74, as
    128 bits modulo 2^128 (branch-free, so that the caller's loop vectorises)."""
    hf = np.rint(f * 2.0 ** -64)
    rem = f - hf * 2.0 ** 64  # exact (Sterbenz), |rem| <= 2^63
    up = rem >= 2.0 ** 63  # rint rounded a tie down: rem = 2^63 does not fit an int64
    rem = rem - 2.0 ** 64 if up else rem
    hf = hf + 1.0 if up else hf
    lo = np.int64(rem)
    hi = np.uint64(np.int64(hf)) + np.uint64(lo >> 63) \
        + (np.uint64(w) << np.uint64(LOW_BITS - 64))
    return hi, np.uint64(lo)


@njit(cache=True, inline="always")
def _exact3(z1: float, z2: float, z3: float) -> np.int64:
    """v1 + 2^18 v2 + 2^36 v3 of the rounded exact limb products, modulo 2^64."""
    return np.int64(np.rint(z1)) + (np.int64(np.rint(z2)) << np.int64(EXACT_BITS)) \
        + (np.int64(np.rint(z3)) << np.int64(2 * EXACT_BITS))


@njit(cache=True, nogil=True)
def _untwist_accumulate(outr: np.ndarray, outi: np.ndarray, plan: np.ndarray,
                        acc_hi: np.ndarray, acc_lo: np.ndarray) -> None:
    """acc ((N, C, B) layout) += the limb products in out (h, 4 C, B; limb l of component
    c in row l * C + c), recombined mod 2^128: the three exact limbs are rounded and
    summed in 64 bits (only bits [74, 128) count)."""
    n, kp1, nb = acc_hi.shape
    h = n // 2
    ah = acc_hi.reshape(-1)
    al = acc_lo.reshape(-1)
    cb = np.uint64(kp1 * nb)
    for t in range(h):
        tr = plan[t]
        ti = plan[h + t]
        k0 = np.uint64(FOURIER_LIMBS * t) * cb
        k1 = k0 + cb
        k2 = k1 + cb
        k3 = k2 + cb
        a0 = np.uint64(t) * cb
        a1 = np.uint64(t + h) * cb
        for j in range(cb):
            z0r, z0i = outr[k0 + j], outi[k0 + j]
            z1r, z1i = outr[k1 + j], outi[k1 + j]
            z2r, z2i = outr[k2 + j], outi[k2 + j]
            z3r, z3i = outr[k3 + j], outi[k3 + j]
            w = _exact3(z1r * tr + z1i * ti, z2r * tr + z2i * ti, z3r * tr + z3i * ti)
            xh, xl = _to128(z0r * tr + z0i * ti, w)
            ah[a0 + j], al[a0 + j] = _add128(ah[a0 + j], al[a0 + j], xh, xl)
            w = _exact3(z1i * tr - z1r * ti, z2i * tr - z2r * ti, z3i * tr - z3r * ti)
            xh, xl = _to128(z0i * tr - z0r * ti, w)
            ah[a1 + j], al[a1 + j] = _add128(ah[a1 + j], al[a1 + j], xh, xl)


@njit(cache=True, nogil=True)
def _blind_rotate(acc_hi: np.ndarray, acc_lo: np.ndarray, a_sw: np.ndarray, fk: np.ndarray,
                  plan: np.ndarray) -> None:
    """acc[b] <- X^(sum a_sw[b, i] s_i) acc[b] (acc: (B, k+1, N)) by CMuxes with the
    Fourier key, all ciphertexts of the chunk in lockstep (each key step read once)."""
    nb, kp1, n = acc_hi.shape
    h = n // 2
    mx = kp1 * 3 * nb
    mo = kp1 * FOURIER_LIMBS * nb
    lh = np.empty((n, kp1, nb), dtype=np.uint64)
    ll = np.empty((n, kp1, nb), dtype=np.uint64)
    for b in range(nb):
        lh[:, :, b] = acc_hi[b].T
        ll[:, :, b] = acc_lo[b].T
    rh = np.empty_like(lh)
    rl = np.empty_like(ll)
    xr = np.empty(h * mx)
    xi = np.empty(h * mx)
    outr = np.empty(h * mo)
    outi = np.empty(h * mo)
    for i in range(a_sw.shape[1]):
        _rotate(lh, ll, a_sw[:, i], rh, rl)
        _decompose_fold(rh, rl, lh, ll, plan, xr, xi)
        fft_batch.forward_cols(xr, xi, plan, h, mx, 0, mx)
        _multiply(xr, xi, fk[i], nb, kp1 * 3, outr, outi)
        fft_batch.inverse_cols(outr, outi, plan, h, mo, 0, mo)
        _untwist_accumulate(outr, outi, plan, lh, ll)
    for b in range(nb):
        acc_hi[b] = lh[:, :, b].T
        acc_lo[b] = ll[:, :, b].T


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
           key: SquashKey, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Squash LWEs (B, kN+1) uint64 under the big 2^64 key whose plaintexts are in [0, 16)
    with delta 2^59 into LWEs mod 2^128 (hi, lo) of shape (B, k'N' + 1), delta 2^124.

    The batch is split in contiguous chunks over `threads` threads (default: the CPUs
    this process may use); a ciphertext's result does not depend on the split.
    """
    p = key.params
    if p.base_log != 24 or p.level != 3:
        raise ValueError("the squash decomposition is written for 3 levels of 24 bits")
    cts = np.ascontiguousarray(np.atleast_2d(cts), dtype=np.uint64)
    nb = cts.shape[0]
    k, n = p.glwe_dimension, p.polynomial_size
    kp1 = k + 1
    small_n = ksk.shape[2] - 1
    if key.bsk_hi.shape[0] != small_n:
        raise ValueError("squash key is not for this keyswitching key's small LWE key")
    fk = fourier_key(key, threads)
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
    plan = fft_batch.make_plan(n)
    workers = _threads(threads, nb)
    bounds = np.linspace(0, nb, workers + 1).astype(int)
    _run_threads(_blind_rotate, [
        (acc_hi[s:e], acc_lo[s:e], a_sw[s:e], fk, plan)
        for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)])
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
