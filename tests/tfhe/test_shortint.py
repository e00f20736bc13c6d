"""Leveled shortint operations, degree and noise tracking, automatic cleaning."""

import pytest

from tfhe.shortint.ciphertext import NOMINAL_NOISE


def test_add_tracks_degree_and_noise(shortint_insecure):
    ck, sk = shortint_insecure
    a, b = ck.encrypt(3), ck.encrypt(2)
    c = sk.unchecked_add(a, b)
    assert (c.degree, c.noise_level) == (6, 2)
    assert ck.decrypt_message_and_carry(c) == 5


@pytest.mark.parametrize("x,y", [(0, 0), (1, 3), (3, 3), (2, 1)])
def test_smart_ops_modulo_message(shortint_insecure, x, y):
    ck, sk = shortint_insecure
    m = ck.params.message_modulus
    a, b = ck.encrypt(x), ck.encrypt(y)
    assert ck.decrypt(sk.add(a, b)) == (x + y) % m
    assert ck.decrypt(sk.sub(a, b)) == (x - y) % m
    assert ck.decrypt(sk.scalar_add(a, y)) == (x + y) % m
    assert ck.decrypt(sk.scalar_mul(a, 3)) == (3 * x) % m
    assert ck.decrypt(sk.unchecked_neg(a)) == (-x) % m


def test_repeated_additions_clean_automatically(shortint_insecure):
    """Adding many times never overflows the padding bit nor the noise budget."""
    ck, sk = shortint_insecure
    p = ck.params
    acc = ck.encrypt(1)
    for i in range(2, 12):
        acc = sk.add(acc, ck.encrypt(1))
        assert acc.degree < p.total_modulus and acc.noise_level <= p.max_noise_level
        assert ck.decrypt(acc) == i % p.message_modulus


def test_clean_resets_noise_and_keeps_value(shortint_insecure):
    ck, sk = shortint_insecure
    c = sk.unchecked_add(sk.unchecked_add(ck.encrypt(3), ck.encrypt(3)), ck.encrypt(3))
    (clean,) = sk.clean([c])
    assert clean.noise_level == NOMINAL_NOISE
    assert ck.decrypt_message_and_carry(clean) == 9
    msg, carry = sk.message_extract([c])[0], sk.carry_extract([c])[0]
    assert (ck.decrypt(msg), ck.decrypt_message_and_carry(carry)) == (1, 2)


def test_trivial_blocks(shortint_insecure):
    ck, sk = shortint_insecure
    t = sk.trivial(7)
    assert t.noise_level == 0 and ck.decrypt_message_and_carry(t) == 7
    assert ck.decrypt(sk.apply_lookup_table(t, sk.lookup_table(lambda v: v + 1))) == 0
    with pytest.raises(ValueError):
        sk.trivial(16)


def test_bivariate_cleans_carries_first(shortint_insecure):
    ck, sk = shortint_insecure
    a = sk.unchecked_add(ck.encrypt(3), ck.encrypt(2))  # 5: a carry is set
    lut = sk.bivariate_lookup_table(lambda x, y: x * y % 4)
    assert ck.decrypt(sk.bivariate(a, ck.encrypt(3), lut)) == (5 % 4) * 3 % 4


def test_pbs_counter(shortint_insecure):
    ck, sk = shortint_insecure
    before = sk.pbs_count
    sk.apply_lookup_tables([ck.encrypt(1)] * 3, sk.lookup_table(lambda v: v))
    assert sk.pbs_count - before == 3


def test_pbs_counter_counts_every_thread(shortint_insecure):
    """Operations of one block graph run on several threads: none of their bootstraps is
    lost from the count."""
    from concurrent.futures import ThreadPoolExecutor

    ck, sk = shortint_insecure
    lut, ct = sk.lookup_table(lambda v: v), ck.encrypt(1)
    before = sk.pbs_count
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: sk.apply_lookup_tables([ct] * 2, lut), range(20)))
    assert sk.pbs_count - before == 40


def test_bad_table_sizes(shortint_insecure):
    ck, sk = shortint_insecure
    with pytest.raises(ValueError):
        sk.apply_lookup_tables([ck.encrypt(1)] * 2, [sk.lookup_table(lambda v: v)])
    with pytest.raises(ValueError):
        sk.many_lookup_table([lambda v: v] * 3)
