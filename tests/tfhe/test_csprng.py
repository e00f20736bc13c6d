import numpy as np
import pytest

from tfhe.core.csprng import Csprng, tuniform_variance


def test_seeded_streams_repeat_and_forks_differ():
    seed = bytes(range(32))
    a, b = Csprng(seed), Csprng(seed)
    assert np.array_equal(a.uniform_u64(100), b.uniform_u64(100))
    assert not np.array_equal(Csprng(seed).fork(b"x").uniform_u64(8),
                              Csprng(seed).fork(b"y").uniform_u64(8))
    assert not np.array_equal(Csprng.from_os().uniform_u64(8), Csprng.from_os().uniform_u64(8))


def test_seed_never_printed():
    assert "secret" in repr(Csprng(bytes(32)))


def test_bad_seed_rejected():
    with pytest.raises(ValueError):
        Csprng(b"short")


@pytest.mark.parametrize("bound_log2", [0, 3, 17, 45])
def test_tuniform_support_and_variance(bound_log2):
    x = Csprng.from_os().tuniform(200_000, bound_log2).view(np.int64)
    assert x.min() >= -(1 << bound_log2) and x.max() <= (1 << bound_log2)
    var = np.var(x.astype(np.float64))
    assert abs(var / tuniform_variance(bound_log2) - 1) < 0.03


def test_tuniform_small_bound_is_exact_distribution():
    x = Csprng.from_os().tuniform(400_000, 1).view(np.int64)
    freq = np.array([np.mean(x == v) for v in (-2, -1, 0, 1, 2)])
    assert np.allclose(freq, [1 / 8, 1 / 4, 1 / 4, 1 / 4, 1 / 8], atol=0.005)


def test_binary_is_balanced():
    bits = Csprng.from_os().binary(100_000)
    assert set(np.unique(bits)) <= {0, 1}
    assert abs(bits.mean() - 0.5) < 0.01
