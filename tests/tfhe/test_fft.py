import numpy as np

from tfhe.core import fft
from tfhe.core.csprng import Csprng
from tfhe.core.polynomial import mul_binary_accumulate, rotate_negacyclic


def naive_negacyclic(a, b):
    n = len(a)
    out = [0] * n
    for i in range(n):
        for j in range(n):
            if i + j < n:
                out[i + j] += int(a[i]) * int(b[j])
            else:
                out[i + j - n] -= int(a[i]) * int(b[j])
    return np.array([v % 2**64 for v in out], dtype=np.uint64)


def test_fft_product_is_negacyclic():
    rng = np.random.default_rng(7)
    n = 64
    a = rng.integers(-(2**20), 2**20, n).astype(np.int64).view(np.uint64)
    b = rng.integers(-(2**20), 2**20, n).astype(np.int64).view(np.uint64)
    got = fft.backward_u64(fft.forward_u64(a) * fft.forward_u64(b))
    assert np.array_equal(got, naive_negacyclic(a, b))


def test_fft_round_trip_is_exact_for_small_values():
    x = Csprng.from_os().tuniform(2048, 40)
    assert np.array_equal(fft.backward_u64(fft.forward_u64(x)), x)


def test_exact_binary_product_matches_naive():
    rng = Csprng.from_os()
    a = rng.uniform_u64(32)
    s = rng.binary(32)
    out = np.zeros(32, dtype=np.uint64)
    mul_binary_accumulate(out, a, s)
    assert np.array_equal(out, naive_negacyclic(a, s))


def test_rotation():
    a = np.arange(1, 9, dtype=np.uint64)
    out = np.empty_like(a)
    for p in range(16):
        mono = np.zeros(8, dtype=np.uint64)
        mono[p % 8] = np.uint64(1) if p < 8 else np.uint64(2**64 - 1)
        rotate_negacyclic(out, a, p)
        assert np.array_equal(out, naive_negacyclic(a, mono))
