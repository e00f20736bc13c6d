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


def _packed(default_keys, pairs):
    ck, _ = default_keys
    client = ShortintClientKey(ck)
    cts = []
    for lo_m, hi_m in pairs:
        lo_ct, hi_ct = client.encrypt_batch([lo_m, hi_m])
        cts.append(lo_ct.data + np.uint64(4) * hi_ct.data)  # level 1 + 4 * 1 <= 5
    return np.stack(cts)


def test_squash_packed_blocks_decrypts_with_bounded_noise(default_keys, squash_pair) -> None:
    """Packed pairs decrypt, and the squashed noise (the FFT error included) stays far
    inside the bound the threshold layer floods against (B_e = 2^68.1, docs/kms.md)."""
    _, sk = default_keys
    sec, key = squash_pair
    pairs = [(0, 3), (2, 1), (3, 3), (1, 0)]
    hi, lo = sq.squash(_packed(default_keys, pairs), sk.ksk, DEFAULT.ks_base_log,
                       DEFAULT.ks_level, key)
    assert hi.shape == (len(pairs), sec.params.lwe_dimension + 1)
    for b, (lo_m, hi_m) in enumerate(pairs):
        phase = sq.phase128(sec.lwe_key, hi[b], lo[b])
        assert sq.decode128(phase) == lo_m + 4 * hi_m
        noise = _signed(phase - ((lo_m + 4 * hi_m) << 124))
        assert abs(noise) < 1 << 67  # sigma ~2^64.4: 2^67 is 6 sigma; delta / 2 = 2^123


def test_squash_is_independent_of_batch_and_threads(default_keys, squash_pair) -> None:
    """Bit-for-bit: a ciphertext squashed alone, in a batch on one thread, or in a batch
    split over two threads gives the same LWE (the low key limb is inexact, so this
    needs every float operation to be the same wherever the ciphertext sits)."""
    _, sk = default_keys
    _, key = squash_pair
    cts = _packed(default_keys, [(1, 2), (3, 0), (0, 1)])
    args = (sk.ksk, DEFAULT.ks_base_log, DEFAULT.ks_level, key)
    one_hi, one_lo = sq.squash(cts, *args, threads=1)
    two_hi, two_lo = sq.squash(cts, *args, threads=2)
    alone_hi, alone_lo = sq.squash(cts[2:], *args)
    assert np.array_equal(one_hi, two_hi) and np.array_equal(one_lo, two_lo)
    assert np.array_equal(alone_hi[0], one_hi[2]) and np.array_equal(alone_lo[0], one_lo[2])


def test_key_split_recombines() -> None:
    """K = v0 + 2^74 (v1 + 2^18 v2 + 2^36 v3) mod 2^128 up to v0's float rounding
    (< 2^20), exact limbs balanced in [-2^17, 2^17)."""
    raw = Csprng.from_os().uniform_u64((500, 2))
    raw[:4] = [[0, 0], [2**64 - 1, 2**64 - 1], [(1 << 9) + 5, 0], [(1 << 10) - 1, 7]]
    for (h, lo_), k in zip(raw.tolist(), sq.to_ints(raw[:, 0], raw[:, 1]), strict=True):
        v0, v1, v2, v3 = sq._split_key(np.uint64(h), np.uint64(lo_))
        assert all(v == int(v) and -(1 << 17) <= v < 1 << 17 for v in (v1, v2, v3))
        assert abs(v0) <= 2.0 ** 73
        total = int(v0) + (1 << 74) * (int(v1) + (int(v2) << 18) + (int(v3) << 36))
        assert abs(_signed(total - k)) < 1 << 20


def _lanes(hi: np.ndarray) -> np.ndarray:
    """(B, C, N) -> the blind rotation's (N, C, B) layout."""
    return np.ascontiguousarray(np.transpose(hi, (2, 1, 0)))


def test_external_product_error_at_full_size(squash_pair) -> None:
    """One CMux step with a real key step, N = 2048, random accumulators: the exact limbs
    land within 0.25 of an integer (their rounding is exact) and the result differs from
    the exact integer product by the low limb's float error only (< 2^58; the module
    docstring derives ~2^54 rms)."""
    from tfhe.core import fft_batch

    _, key = squash_pair
    rng = Csprng.from_os()
    nb, kp1, n, h = 2, 3, 2048, 1024
    i = int(rng.uniform_u64(1)[0] % np.uint64(key.bsk_hi.shape[0]))
    fk = sq.fourier_key(key)[i:i + 1]
    acc_hi, acc_lo = rng.uniform_u64((nb, kp1, n)), rng.uniform_u64((nb, kp1, n))
    a = (rng.uniform_u64((nb, 1)) % np.uint64(2 * n)).astype(np.int64)
    plan = fft_batch.make_plan(n)
    # the exact limbs, through the kernels, untwisted here
    mx, mo = kp1 * 3 * nb, kp1 * sq.FOURIER_LIMBS * nb
    xr, xi, outr, outi = np.empty(h * mx), np.empty(h * mx), np.empty(h * mo), np.empty(h * mo)
    lanes_hi, lanes_lo = _lanes(acc_hi), _lanes(acc_lo)
    rot_hi, rot_lo = np.empty_like(lanes_hi), np.empty_like(lanes_lo)
    sq._rotate(lanes_hi, lanes_lo, a[:, 0], rot_hi, rot_lo)
    sq._decompose_fold(rot_hi, rot_lo, lanes_hi, lanes_lo, plan, xr, xi)
    fft_batch.forward_cols(xr, xi, plan, h, mx, 0, mx)
    sq._multiply(xr, xi, fk[0], nb, kp1 * 3, outr, outi)
    fft_batch.inverse_cols(outr, outi, plan, h, mo, 0, mo)
    zr = outr.reshape(h, sq.FOURIER_LIMBS, kp1, nb)[:, 1:]
    zi = outi.reshape(h, sq.FOURIER_LIMBS, kp1, nb)[:, 1:]
    tr, ti = (plan[:h][:, None, None, None], plan[h:2 * h][:, None, None, None])
    vals = np.concatenate([zr * tr + zi * ti, zi * tr - zr * ti])
    assert np.abs(vals - np.rint(vals)).max() < 0.25
    # the whole step against Python integers, on a sample of coefficients
    _check_cmux_step(key.bsk_hi[i], key.bsk_lo[i], fk, acc_hi, acc_lo, a, plan)


def test_external_product_error_with_k1_n1024() -> None:
    """The same for the INSECURE_SQUASH_TEST_PARAMS shape (k = 1, N = 1024: 6 rows)."""
    from tfhe.core import fft_batch

    rng = Csprng.from_os()
    nb, kp1, n = 3, 2, 1024
    key = sq.SquashKey(rng.uniform_u64((1, 3 * kp1, kp1, n)),
                       rng.uniform_u64((1, 3 * kp1, kp1, n)))
    acc_hi, acc_lo = rng.uniform_u64((nb, kp1, n)), rng.uniform_u64((nb, kp1, n))
    a = (rng.uniform_u64((nb, 1)) % np.uint64(2 * n)).astype(np.int64)
    _check_cmux_step(key.bsk_hi[0], key.bsk_lo[0], sq.fourier_key(key), acc_hi, acc_lo, a,
                     fft_batch.make_plan(n))


def _check_cmux_step(key_hi, key_lo, fk, acc_hi, acc_lo, a, plan) -> None:
    """_blind_rotate over one key step against the exact integer external product (the
    CMux acc + ExtProd((X^a - 1) acc)) on 6 coefficients per ciphertext: error < 2^58."""
    nb, kp1, n = acc_hi.shape
    new_hi, new_lo = acc_hi.copy(), acc_lo.copy()
    sq._blind_rotate(new_hi, new_lo, a, fk, plan)
    keys = [[sq.to_ints(key_hi[r, c], key_lo[r, c]) for c in range(kp1)]
            for r in range(kp1 * 3)]
    rng = Csprng.from_os()
    for b in range(nb):
        p = int(a[b, 0])
        digits = []
        for c in range(kp1):
            acc = sq.to_ints(acc_hi[b, c], acc_lo[b, c])
            rows = [[0] * n for _ in range(3)]
            for t in range(n):
                s, sign = t - p, 1
                while s < 0:
                    s, sign = s + n, -sign
                v = ((sign * acc[s] - acc[t] + (1 << 55)) % _Q) >> 56
                for j in (2, 1, 0):
                    d, v = v & 0xFFFFFF, v >> 24
                    if d >= 1 << 23:
                        d, v = d - (1 << 24), v + 1
                    rows[j][t] = d
            digits += rows
        for t in rng.uniform_u64(6).astype(np.int64) % n:
            for c in range(kp1):
                want = sq.to_ints(acc_hi[b, c, t:t + 1], acc_lo[b, c, t:t + 1])[0]
                for r in range(kp1 * 3):
                    for j in range(n):  # negacyclic: coefficient t of D_r * K_rc
                        s = t - j
                        kv = keys[r][c][s] if s >= 0 else -keys[r][c][s + n]
                        want += digits[r][j] * kv
                got = sq.to_ints(new_hi[b, c, t:t + 1], new_lo[b, c, t:t + 1])[0]
                assert abs(_signed(got - want)) < 1 << 58


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
