"""Measured noise variances against the analytic formulas (within 20 %), on DEFAULT."""

import numpy as np

from tfhe.core import bootstrap, glwe, lwe, noise
from tfhe.core.csprng import Csprng
from tfhe.core.polynomial import rotate_negacyclic


def _signed(x: np.ndarray) -> np.ndarray:
    return x.view(np.int64).astype(np.float64)


def test_fresh_noise(default_keys):
    ck, _ = default_keys
    p = ck.params
    cts = lwe.encrypt(ck.big_lwe_key, np.zeros(20_000, dtype=np.uint64), p.glwe_noise_log2,
                      Csprng.from_os())
    measured = np.var(_signed(lwe.phase(ck.big_lwe_key, cts)))
    assert abs(measured / noise.fresh(p) - 1) < 0.2


def test_keyswitch_noise(default_keys):
    ck, sk = default_keys
    p = ck.params
    count = 1500
    cts = lwe.encrypt(ck.big_lwe_key, np.zeros(count, dtype=np.uint64), p.glwe_noise_log2,
                      Csprng.from_os())
    out = np.empty((count, p.lwe_dimension + 1), dtype=np.uint32)
    bootstrap.keyswitch_chunk(cts, sk.ksk, p.ks_base_log, p.ks_level, out)
    phase32 = lwe.phase(ck.lwe_key, out.astype(np.uint64)) << np.uint64(32)
    measured = np.var(_signed(phase32))
    expected = noise.fresh(p) + noise.keyswitch_added(p)
    assert abs(measured / expected - 1) < 0.2, (np.log2(measured), np.log2(expected))


def _blind_rotation_noise(ck, sk, count: int, chunk: int) -> float:
    """Measured variance of every coefficient of blind-rotated random tables.

    A uniformly random table makes the decomposed digits uniform, as in the analysis; the
    exact rotation is recomputed from the modulus-switched phase with the secret key.
    """
    p = ck.params
    n2 = 2 * p.polynomial_size
    rng = Csprng.from_os()
    smalls = lwe.encrypt(ck.lwe_key, rng.uniform_u64(count), p.lwe_noise_log2, rng)
    tables = rng.uniform_u64((count, p.polynomial_size))
    accs = np.empty((count, p.glwe_dimension + 1, p.polynomial_size), dtype=np.uint64)
    bootstrap.blind_rotate_batch(smalls, np.arange(count), tables, sk.bsk, sk.plan,
                                 p.pbs_base_log, p.pbs_level, chunk, accs)
    samples = []
    for small, table, acc in zip(smalls, tables, accs, strict=True):
        a_sw = np.empty(p.lwe_dimension, dtype=np.int64)
        b_sw = bootstrap.modulus_switch(small, n2.bit_length() - 1, a_sw)
        switched_phase = (b_sw - int(a_sw @ ck.lwe_key.astype(np.int64))) % n2
        expected = np.empty_like(table)
        rotate_negacyclic(expected, table, (n2 - switched_phase) % n2)
        samples.append(_signed(glwe.phase(ck.glwe_key, acc[None])[0] - expected))
    return float(np.var(np.concatenate(samples)))


def test_bootstrap_noise(default_keys):
    """The batched (lockstep) blind rotation against the formula with its FFT term."""
    ck, sk = default_keys
    measured = _blind_rotation_noise(ck, sk, count=32, chunk=8)
    expected = noise.bootstrap(ck.params)
    assert abs(measured / expected - 1) < 0.2, (np.log2(measured), np.log2(expected))


def test_single_ciphertext_bootstrap_noise_within_bound(default_keys):
    """The one-ciphertext path (tfhe.core.pbs_one) uses the batched path's butterflies and
    plan, so the same formula holds to the same 20 %."""
    ck, sk = default_keys
    measured = _blind_rotation_noise(ck, sk, count=32, chunk=1)
    expected = noise.bootstrap(ck.params)
    assert abs(measured / expected - 1) < 0.2, (np.log2(measured), np.log2(expected))


def test_noise_budget_of_default_meets_failure_target(default_keys):
    """Worst-case chain: max_noise_level PBS outputs summed, keyswitched, switched to 2N.

    The decision margin is delta / 2. With the analytic variances, the Gaussian tail at
    that margin must be below 2^-128 (as tfhe-rs states for these parameters).
    """
    from math import erfc, log2, sqrt

    p = default_keys[0].params
    var = (p.max_noise_level * noise.bootstrap(p) + noise.keyswitch_added(p)
           + noise.modulus_switch_added(p))
    z = 2.0 ** (p.delta_log2 - 1) / sqrt(var)
    assert log2(erfc(z / sqrt(2))) <= -128
