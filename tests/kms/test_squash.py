"""Noise squashing on DEFAULT: a 2^64 block (or two packed) -> LWE mod 2^128, small noise."""

from __future__ import annotations

import numpy as np
import pytest

from tfhe import DEFAULT
from tfhe.core import fft
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng
from tfhe.shortint import ShortintClientKey

_Q = 1 << 128


def _signed(x: int) -> int:
    x %= _Q
    return x - _Q if x >= _Q // 2 else x


def test_limb_product_is_exact() -> None:
    """The FFT limb product equals the schoolbook negacyclic product modulo 2^128."""
    rng = Csprng.from_os()
    n = 64
    raw = rng.uniform_u64((n, 2))
    digits = (rng.uniform_u64(n) % np.uint64(1 << 24)).astype(np.int64) - (1 << 23)
    spec = fft.forward(sq._limbs(raw[:, 0], raw[:, 1])) * fft.forward(
        digits.astype(np.float64))
    hi = np.zeros((1, n), np.uint64)
    lo = np.zeros((1, n), np.uint64)
    prods = np.rint(fft.backward(spec[None])).astype(np.int64)
    sq._accumulate_limbs(hi, lo, np.ascontiguousarray(prods))
    g = sq.to_ints(raw[:, 0], raw[:, 1])
    d = digits.tolist()
    want = [0] * n
    for i in range(n):
        for j in range(n):
            k = i + j
            if k < n:
                want[k] += g[i] * d[j]
            else:
                want[k - n] -= g[i] * d[j]
    assert sq.to_ints(hi[0], lo[0]) == [w % _Q for w in want]


def test_glwe128_encryption_decrypts_to_small_noise(squash_pair) -> None:
    sec, _ = squash_pair
    hi, lo = sq.glwe_encrypt_zero128(sec.glwe_key, 1, 30, Csprng.from_os())
    lwe_hi = np.empty(sec.params.lwe_dimension + 1, np.uint64)
    lwe_lo = np.empty_like(lwe_hi)
    sq._sample_extract(hi[0], lo[0], lwe_hi, lwe_lo)
    assert abs(_signed(sq.phase128(sec.lwe_key, lwe_hi, lwe_lo))) <= 1 << 30


def test_squash_packed_blocks_decrypts(default_keys, squash_pair) -> None:
    ck, sk = default_keys
    sec, key = squash_pair
    client = ShortintClientKey(ck)
    pairs = [(0, 3), (2, 1), (3, 3)]
    cts = []
    for lo_m, hi_m in pairs:
        lo_ct, hi_ct = client.encrypt_batch([lo_m, hi_m])
        cts.append(lo_ct.data + np.uint64(4) * hi_ct.data)  # level 1 + 4 * 1 <= 5
    hi, lo = sq.squash(np.stack(cts), sk.ksk, DEFAULT.ks_base_log, DEFAULT.ks_level, key)
    assert hi.shape == (len(pairs), sec.params.lwe_dimension + 1)
    for b, (lo_m, hi_m) in enumerate(pairs):
        phase = sq.phase128(sec.lwe_key, hi[b], lo[b])
        assert sq.decode128(phase) == lo_m + 4 * hi_m
        noise = _signed(phase - ((lo_m + 4 * hi_m) << 124))
        assert abs(noise) < 1 << 70  # ~2^64 expected; delta / 2 = 2^123


def test_fourier_external_product_is_exact_at_full_size(squash_pair) -> None:
    """Real key rows times uniform 24-bit digits, N = 2048: every limb product lands within
    0.25 of an integer (rounding is exact) and matches an integer convolution."""
    from tfhe.core import fft_batch

    _, key = squash_pair
    nb, rows, n, h = 2, 9, 2048, 1024
    width = 3 * sq.LIMBS
    gen = np.random.default_rng(int.from_bytes(Csprng.from_os().random_bytes(4), "big"))
    digits = gen.integers(-(1 << 23), (1 << 23) + 1, size=(nb, rows, n)).astype(np.float64)
    plan = fft_batch.make_plan(n)
    xr, xi = np.empty(h * nb * rows), np.empty(h * nb * rows)
    yr, yi = np.empty(h * rows * width), np.empty(h * rows * width)
    outr, outi = np.empty(h * nb * width), np.empty(h * nb * width)
    i = int(gen.integers(key.bsk_hi.shape[0]))
    sq._fold_digits(digits, plan, xr, xi)
    fft_batch.forward(xr, xi, plan, h, nb * rows)
    sq._fold_limbs(key.bsk_hi[i], key.bsk_lo[i], plan, 1.0 / h, yr, yi)
    fft_batch.forward(yr, yi, plan, h, rows * width)
    sq._multiply(xr, xi, yr, yi, nb, rows, width, outr, outi)
    fft_batch.inverse(outr, outi, plan, h, nb * width)
    o_r, o_i = outr.reshape(h, nb, width), outi.reshape(h, nb, width)
    tr, ti = plan[:h][:, None, None], plan[h:2 * h][:, None, None]
    vals = np.concatenate([o_r * tr + o_i * ti, o_i * tr - o_r * ti], axis=0)
    assert np.abs(vals - np.rint(vals)).max() < 0.25
    limbs = sq._limbs(key.bsk_hi[i], key.bsk_lo[i])
    b, c, limb = 1, 2, 7
    exact = [0] * n
    for r in range(rows):
        full = np.convolve(digits[b, r].astype(np.int64), limbs[r, c, limb].astype(np.int64))
        for t in range(n):
            exact[t] += int(full[t]) - (int(full[t + n]) if t + n < len(full) else 0)
    assert np.rint(vals[:, b, c * sq.LIMBS + limb]).astype(np.int64).tolist() == exact


def test_squash_key_file_roundtrip_and_corruption(tmp_path) -> None:
    rng = Csprng.from_os()
    hi = rng.uniform_u64((2, 9, 3, 8))
    lo = rng.uniform_u64((2, 9, 3, 8))
    path = tmp_path / "k.bsk"
    sq.SquashKey(hi, lo).save(path)
    back = sq.SquashKey.load(path)
    assert np.array_equal(back.bsk_hi, hi) and np.array_equal(back.bsk_lo, lo)
    blob = bytearray(path.read_bytes())
    blob[100] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="checksum"):
        sq.SquashKey.load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError):
        sq.SquashKey.load(path)
