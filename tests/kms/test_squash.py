"""Noise squashing on DEFAULT: a 2^64 block (or two packed) -> LWE mod 2^128, small noise."""

from __future__ import annotations

import numpy as np

from tfhe import DEFAULT
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
    twist = sq._twist(n)
    spec = sq._fft(sq._limbs(raw[:, 0], raw[:, 1]), twist) * sq._fft(
        digits.astype(np.float64), twist)
    hi = np.zeros((1, n), np.uint64)
    lo = np.zeros((1, n), np.uint64)
    sq._accumulate_limbs(hi, lo, np.ascontiguousarray(sq._ifft_round(spec[None], twist)))
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
