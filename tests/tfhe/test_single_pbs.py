"""The one-ciphertext path: fft_one against fft_batch, and blind rotations against the
exact rotation computed with the secret key (fast set; DEFAULT's noise is in test_noise)."""

import numpy as np
import pytest

from tfhe import Parameters, generate_keys
from tfhe.core import bootstrap, fft_batch, fft_one, glwe, lwe, pbs_one
from tfhe.core.csprng import Csprng
from tfhe.core.polynomial import rotate_negacyclic
from tfhe.shortint import ShortintServerKey


@pytest.mark.parametrize("polynomial_size", [64, 128, 1024, 2048, 4096])
def test_fft_one_is_fft_batch_in_block_transposed_order(polynomial_size):
    h = polynomial_size // 2
    plan = fft_batch.make_plan(polynomial_size)
    rows = 3
    rng = np.random.default_rng(7)
    x = rng.standard_normal((rows, h)) + 1j * rng.standard_normal((rows, h))
    t_len = fft_one.tail_size(h)
    nblk = h // t_len
    xr, xi = x.real.ravel().copy(), x.imag.ravel().copy()
    tr, ti = np.empty_like(xr), np.empty_like(xi)
    ramp = fft_one.make_ramp(rows * h)
    fft_one.forward(xr, xi, plan, h, ramp, tr, ti)
    mine = (tr + 1j * ti).reshape(t_len, rows, nblk)
    for r in range(rows):
        br, bi = x[r].real.copy(), x[r].imag.copy()
        fft_batch.forward(br, bi, plan, h, 1)
        ref = (br + 1j * bi).reshape(nblk, t_len).T
        assert np.abs(mine[:, r, :] - ref).max() < 1e-12 * h
    yr, yi = np.empty_like(xr), np.empty_like(xi)
    fft_one.inverse(tr, ti, plan, h, ramp, yr, yi)
    assert np.abs((yr + 1j * yi).reshape(rows, h) / h - x).max() < 1e-12


# k = 2, two levels: the general (non-unrolled) key product and multi-level digits
K2_L2 = Parameters(
    name="INSECURE_K2_L2_TEST", lwe_dimension=32, glwe_dimension=2, polynomial_size=512,
    lwe_noise_log2=20, glwe_noise_log2=17, pbs_base_log=10, pbs_level=2, ks_base_log=4,
    ks_level=4, message_modulus=4, carry_modulus=4, max_noise_level=5, log2_p_fail=-128.0,
    secure=False)


@pytest.fixture(scope="module")
def k2_l2_keys():
    return generate_keys(K2_L2)


def _worst_rotation_error(ck, sk, rotate) -> int:
    """Largest error of `rotate` against X^-phase * table, over a few random inputs."""
    p = ck.params
    n2 = 2 * p.polynomial_size
    rng = Csprng.from_os()
    worst = 0
    for _ in range(3):
        small = lwe.encrypt(ck.lwe_key, rng.uniform_u64(1), p.lwe_noise_log2, rng)[0]
        table = rng.uniform_u64(p.polynomial_size)
        acc = rotate(small, table)
        a_sw = np.empty(p.lwe_dimension, dtype=np.int64)
        b_sw = bootstrap.modulus_switch(small, n2.bit_length() - 1, a_sw)
        phase = (b_sw - int(a_sw @ ck.lwe_key.astype(np.int64))) % n2
        expected = np.empty_like(table)
        rotate_negacyclic(expected, table, (n2 - phase) % n2)
        err = (glwe.phase(ck.glwe_key, acc[None])[0] - expected).view(np.int64)
        worst = max(worst, int(np.abs(err).max()))
    return worst


@pytest.mark.parametrize("keys", ["insecure_keys", "k2_l2_keys"])
def test_single_blind_rotation_is_the_exact_rotation(keys, request):
    """Every coefficient of X^-phase * table (random tables and phases), for the path of
    one ciphertext and, as a reference, the lockstep path."""
    ck, sk = request.getfixturevalue(keys)
    p = ck.params

    def single(small, table):
        return bootstrap.blind_rotate_lwe(small, table, sk.bsk, sk.plan, p.pbs_base_log,
                                          p.pbs_level, p.glwe_dimension + 1)

    def lockstep(small, table):
        out = np.empty((2, p.glwe_dimension + 1, p.polynomial_size), dtype=np.uint64)
        bootstrap.blind_rotate_batch(np.stack([small, small]), np.zeros(2, dtype=np.int64),
                                     table[None], sk.bsk, sk.plan, p.pbs_base_log,
                                     p.pbs_level, 2, out)
        return out[0]

    # noise only: a wrong rotation, digit or sign is off by ~2^63
    assert _worst_rotation_error(ck, sk, single) < 1 << 58
    assert _worst_rotation_error(ck, sk, lockstep) < 1 << 58


def test_single_and_batch_paths_decrypt_alike(insecure_keys):
    """A chunk of one (pbs_one) and a chunk of two (lockstep) give the same messages."""
    ck, sk = insecure_keys
    p = ck.params
    rng = Csprng.from_os()
    msgs = np.arange(p.total_modulus, dtype=np.uint64)
    cts = lwe.encrypt(ck.big_lwe_key, msgs << np.uint64(p.delta_log2), p.glwe_noise_log2, rng)
    f = lambda m: (3 * m + 1) % p.total_modulus  # noqa: E731
    table = ShortintServerKey(sk).lookup_table(f).poly
    index = np.zeros(len(cts), dtype=np.int64)
    decoded = []
    for chunk in (1, 2):
        out = np.empty_like(cts)
        bootstrap.ks_pbs_batch(cts, index, table[None], sk.ksk, p.ks_base_log, p.ks_level,
                               sk.bsk, sk.plan, p.pbs_base_log, p.pbs_level, chunk, out)
        ph = lwe.phase(ck.big_lwe_key, out)
        got = (ph + (np.uint64(1) << np.uint64(p.delta_log2 - 1))) >> np.uint64(p.delta_log2)
        decoded.append(got % np.uint64(p.total_modulus))
    assert np.array_equal(decoded[0], f(msgs))
    assert np.array_equal(decoded[0], decoded[1])


def test_keyswitch_one_is_keyswitch_chunk_bit_for_bit(insecure_keys):
    ck, sk = insecure_keys
    p = ck.params
    rng = Csprng.from_os()
    cts = lwe.encrypt(ck.big_lwe_key, rng.uniform_u64(4), p.glwe_noise_log2, rng)
    cts[0, :-1] = 0  # every digit zero but the body's
    want = np.empty((len(cts), p.lwe_dimension + 1), dtype=np.uint32)
    bootstrap.keyswitch_chunk(cts, sk.ksk, p.ks_base_log, p.ks_level, want)
    for ct, expected in zip(cts, want, strict=True):
        got = np.empty(p.lwe_dimension + 1, dtype=np.uint32)
        pbs_one.keyswitch_one(ct, sk.ksk, p.ks_base_log, p.ks_level, got)
        assert np.array_equal(got, expected)
