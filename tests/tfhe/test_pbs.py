"""Encryption and programmable bootstrapping of every message, on DEFAULT and the fast set."""

import numpy as np
import pytest

from tfhe.core import bootstrap, glwe, lwe
from tfhe.core.csprng import Csprng
from tfhe.shortint import ShortintClientKey, ShortintServerKey


def test_lwe_encrypt_decrypt_every_value(any_keys):
    ck, _ = any_keys
    p = ck.params
    msgs = np.arange(2 * p.total_modulus, dtype=np.uint64)  # includes the padding bit
    cts = lwe.encrypt(ck.big_lwe_key, msgs << np.uint64(p.delta_log2), p.glwe_noise_log2,
                      Csprng.from_os())
    ph = lwe.phase(ck.big_lwe_key, cts)
    got = (ph + (np.uint64(1) << np.uint64(p.delta_log2 - 1))) >> np.uint64(p.delta_log2)
    assert np.array_equal(got % np.uint64(2 * p.total_modulus), msgs)


def test_glwe_encrypt_decrypt(any_keys):
    ck, _ = any_keys
    p = ck.params
    rng = Csprng.from_os()
    msgs = (rng.uniform_u64((3, p.polynomial_size)) % np.uint64(16)) << np.uint64(59)
    cts = glwe.encrypt(ck.glwe_key, msgs, p.glwe_noise_log2, rng)
    err = (glwe.phase(ck.glwe_key, cts) - msgs).view(np.int64)
    assert np.abs(err).max() <= 1 << p.glwe_noise_log2


def test_sample_extract_matches_coefficient_zero(insecure_keys):
    ck, _ = insecure_keys
    p = ck.params
    rng = Csprng.from_os()
    msgs = rng.uniform_u64((1, p.polynomial_size)) & np.uint64(0xFFFF_0000_0000_0000)
    ct = glwe.encrypt(ck.glwe_key, msgs, p.glwe_noise_log2, rng)[0]
    out = np.empty(p.big_lwe_dimension + 1, dtype=np.uint64)
    glwe.sample_extract_into(ct, out)
    assert lwe.phase(ck.big_lwe_key, out)[0] == glwe.phase(ck.glwe_key, ct[None])[0, 0]


def test_keyswitch_keeps_every_message(any_keys):
    ck, sk = any_keys
    p = ck.params
    msgs = np.arange(p.total_modulus, dtype=np.uint64)
    cts = lwe.encrypt(ck.big_lwe_key, msgs << np.uint64(p.delta_log2), p.glwe_noise_log2,
                      Csprng.from_os())
    out = np.empty((len(msgs), p.lwe_dimension + 1), dtype=np.uint32)
    bootstrap.keyswitch_chunk(cts, sk.ksk, p.ks_base_log, p.ks_level, out)
    # the small ciphertext lives on the 32-bit torus: scale back to 64 bits to decode
    ph = lwe.phase(ck.lwe_key, out.astype(np.uint64)) << np.uint64(32)
    got = (ph + (np.uint64(1) << np.uint64(p.delta_log2 - 1))) >> np.uint64(p.delta_log2)
    assert np.array_equal(got % np.uint64(p.total_modulus), msgs)


FUNCTIONS = {
    "identity": lambda m: m,
    "affine": lambda m: (3 * m + 1) % 16,
    "square": lambda m: (m * m) % 16,
    "is_odd": lambda m: m & 1,
    "constant": lambda m: 9,
}


@pytest.fixture(params=["insecure", "default"])
def shortint(request, shortint_insecure, shortint_default):
    return shortint_insecure if request.param == "insecure" else shortint_default


def test_pbs_every_message_several_luts(shortint):
    ck, sk = shortint
    p = ck.params
    cts = [ck.encrypt_raw(m) for m in range(p.total_modulus)]
    names = list(FUNCTIONS)
    luts = [sk.lookup_table(FUNCTIONS[n]) for n in names]
    batch_cts = [c for c in cts for _ in names]
    batch_luts = [lut for _ in cts for lut in luts]
    out = sk.apply_lookup_tables(batch_cts, batch_luts)
    got = [ck.decrypt_message_and_carry(c) for c in out]
    want = [FUNCTIONS[n](m) for m in range(p.total_modulus) for n in names]
    assert got == want


def test_bivariate_luts_every_pair(shortint):
    ck, sk = shortint
    m = ck.params.message_modulus
    ops = {
        "add": lambda x, y: (x + y) % m,
        "mul": lambda x, y: (x * y) % m,
        "lt": lambda x, y: int(x < y),
        "max": max,
    }
    pairs, luts, want = [], [], []
    for x in range(m):
        for y in range(m):
            for f in ops.values():
                pairs.append((ck.encrypt(x), ck.encrypt(y)))
                luts.append(sk.bivariate_lookup_table(f))
                want.append(f(x, y))
    out = sk.bivariate_batch(pairs, luts)
    assert [ck.decrypt(c) for c in out] == want


def test_many_luts_from_one_blind_rotation(shortint):
    ck, sk = shortint
    p = ck.params
    fs = [lambda v: v, lambda v: (v + 1) % 16, lambda v: 2 * v, lambda v: 15 - v]
    many = sk.many_lookup_table(fs)
    before = sk.pbs_count
    inputs = list(range(many.input_bound))
    outs = sk.apply_many_lookup_table([ck.encrypt_raw(v) for v in inputs], many)
    assert sk.pbs_count - before == len(inputs)
    for v, results in zip(inputs, outs, strict=True):
        assert [ck.decrypt_message_and_carry(c) for c in results] == [f(v) % 16 for f in fs]
    assert p.total_modulus // len(fs) == many.input_bound


def test_bootstrap_blind_rotation_is_linear_in_table(insecure_keys):
    """The accumulator of a zero table decrypts to zero everywhere (noise only)."""
    ck, sk = insecure_keys
    p = ck.params
    small = lwe.encrypt(ck.lwe_key, np.array([5 << p.delta_log2], dtype=np.uint64),
                        p.lwe_noise_log2, Csprng.from_os())[0]
    acc = bootstrap.blind_rotate_lwe(small, np.zeros(p.polynomial_size, dtype=np.uint64),
                                     sk.bsk, sk.plan, p.pbs_base_log, p.pbs_level,
                                     p.glwe_dimension + 1)
    err = glwe.phase(ck.glwe_key, acc[None])[0].view(np.int64)
    assert np.abs(err).max() < 1 << (p.delta_log2 - 2)


def test_shortint_keys_do_not_print_secrets(shortint_insecure):
    ck, _ = shortint_insecure
    assert "secret" in repr(ck) and "secret" in repr(ck.key)
    assert isinstance(ck, ShortintClientKey)
    assert ShortintServerKey.__name__ in repr(shortint_insecure[1])
