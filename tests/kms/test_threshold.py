"""Threshold decryption on the squashed (2^128) LWE: sharing, PRSS, flooding, robust
reconstruction. Ciphertexts here are fresh encryptions mod 2^128 under a random squash
key (test_squash covers the bootstrap into them; test_kms_default covers the chain)."""

from __future__ import annotations

import secrets
import statistics

import numpy as np
import pytest

from fhevm.client import field as F
from fhevm.client import opening, rs
from node.kms import prss, shamir, threshold
from node.kms.dealer import share_key
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng

_Q = 1 << 128


@pytest.fixture(scope="module")
def setup():
    rng = Csprng.from_os()
    key = rng.binary(opening.KEY_DIMENSION)
    n, t = 4, 1
    shares = share_key(key, n, t)
    keys = prss.deal_keys(n, t)
    parties = [prss.party_view(keys, j, n, t) for j in range(1, n + 1)]
    return key, shares, parties, rng


def _lwe(key: np.ndarray, m: int, rng: Csprng) -> list[int]:
    hi, lo = sq.encrypt128(key, m, 61, rng)
    return sq.to_ints(hi, lo)


def _partials(shares, parties, lwe, session: bytes, item: int = 0) -> dict[int, int]:
    ctr = threshold.counter(session, item)
    return {s.index: threshold.partial_decrypt(s, p, lwe, ctr)
            for s, p in zip(shares, parties, strict=True)}


# -- Reed-Solomon and Shamir ------------------------------------------------------------------

@pytest.mark.parametrize("n,t", [(4, 1), (7, 2), (10, 3), (13, 4)])
def test_rs_corrects_t_errors_and_refuses_t_plus_one(n: int, t: int) -> None:
    for _ in range(5):
        secret = secrets.randbelow(F.P)
        ys = shamir.share(secret, n, t)
        bad = dict(enumerate(ys, 1))
        liars = secrets.SystemRandom().sample(range(1, n + 1), t + 1)
        for j in liars[:t]:
            bad[j] = secrets.randbelow(F.P)
        got, wrong = rs.decode_secret(bad, t)
        assert got == secret
        assert sorted(wrong) == sorted(j for j in liars[:t] if bad[j] != ys[j - 1])
        bad[liars[t]] = secrets.randbelow(F.P)
        with pytest.raises(rs.DecodingError):
            rs.decode_secret(bad, t)


def test_rs_with_parties_down() -> None:
    n, t = 7, 2
    secret = secrets.randbelow(F.P)
    ys = dict(enumerate(shamir.share(secret, n, t), 1))
    del ys[1]
    ys[2] = 12345  # one down + one liar = 2 faults <= t
    assert rs.decode_secret(ys, t)[0] == secret
    del ys[3]  # two down + one liar: 2e + d = 4 <= n - t - 1, still corrected
    assert rs.decode_secret(ys, t) == (secret, [2])
    del ys[4]  # three down + one liar: 4 shares of a degree-2 polynomial: refuse
    with pytest.raises(rs.DecodingError):
        rs.decode_secret(ys, t)
    assert shamir.reconstruct({j: v for j, v in ys.items() if j != 2}) == secret


# -- PRSS ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,t", [(4, 1), (7, 2)])
def test_prss_shares_are_a_degree_t_sharing_of_the_sum(n: int, t: int) -> None:
    keys = prss.deal_keys(n, t)
    parties = [prss.party_view(keys, j, n, t) for j in range(1, n + 1)]
    ctr = threshold.counter(secrets.token_bytes(32), 0)
    ys = {p.index: p.flood_share(ctr, 108, 56) for p in parties}
    opened, wrong = rs.decode_secret(ys, t)  # consistent: degree t, no corrections
    assert wrong == []
    e_sum = r_sum = 0
    for a in prss.party_sets(n, t):  # the whole secret, from every set's key
        solo = prss.PrssParty(a[0], n, t, {a: keys[a]})
        e, r = solo.open_secret(ctr, 108, 56)
        e_sum, r_sum = e_sum + e, r_sum + r
    assert F.lift(opened) == e_sum + (r_sum << 128)
    assert abs(e_sum) <= len(keys) << 108
    # a different counter gives an unrelated sharing
    other = {p.index: p.flood_share(threshold.counter(b"\1" * 32, 0), 108, 56) for p in parties}
    assert rs.decode_secret(other, t)[0] != opened


def test_prss_party_holds_only_its_sets() -> None:
    keys = prss.deal_keys(4, 1)
    p1 = prss.party_view(keys, 1, 4, 1)
    assert len(p1.keys) == 3 and all(1 in a for a in p1.keys)
    assert "secret" not in repr(p1) and keys[(1, 2, 3)].hex() not in repr(p1)
    with pytest.raises(ValueError):
        prss.PrssParty(1, 4, 1, {(2, 3, 4): keys[(2, 3, 4)]})


# -- threshold decryption -------------------------------------------------------------------

def test_every_plaintext_decrypts(setup) -> None:
    key, shares, parties, rng = setup
    for m in range(16):
        lwe = _lwe(key, m, rng)
        got, wrong = opening.combine(_partials(shares, parties, lwe, secrets.token_bytes(32)),
                                       4, 1)
        assert (got, wrong) == (m, [])


def test_t_liars_corrected_t_plus_one_refused(setup) -> None:
    key, shares, parties, rng = setup
    lwe = _lwe(key, 11, rng)
    ys = _partials(shares, parties, lwe, secrets.token_bytes(32))
    liar = dict(ys)
    liar[3] = (liar[3] + (5 << 124)) % F.P  # shifts the plaintext if it were believed
    assert opening.combine(liar, 4, 1) == (11, [3])
    down = {j: v for j, v in ys.items() if j != 2}
    assert opening.combine(down, 4, 1) == (11, [])
    for _ in range(10):
        two = dict(ys)
        for j in secrets.SystemRandom().sample(range(1, 5), 2):
            two[j] = secrets.randbelow(F.P)
        with pytest.raises(opening.ReconstructionError):
            opening.combine(two, 4, 1)
    with pytest.raises(opening.ReconstructionError):  # one down and one liar: 2 > t
        opening.combine({1: ys[1], 2: ys[2], 3: (ys[3] + 1) % F.P}, 4, 1)


def test_opening_out_of_budget_is_refused() -> None:
    with pytest.raises(opening.ReconstructionError):
        opening.open_value(1 << 250, 4, 1)  # not an integer an honest opening gives
    with pytest.raises(opening.ReconstructionError):
        opening.open_value((3 << 124) + (1 << 122), 4, 1)  # noise far beyond flooding


def test_flooding_statistics(setup) -> None:
    """The opened residue e + E has the spread of the PRSS flood, centred, with every
    set's noise present; the wrap mask hides the integer wrap count of <a, s>."""
    key, shares, parties, rng = setup
    lwe = _lwe(key, 6, rng)
    *a, b = lwe
    inner = sum(x for x, s in zip(a, key.tolist(), strict=True) if s)
    wraps = (b - inner - (6 << 124)) // _Q  # what an unmasked opening would reveal
    residues, highs = [], []
    for _ in range(150):
        y, _ = rs.decode_secret(_partials(shares, parties, lwe, secrets.token_bytes(32)), 1)
        v = F.lift(y)
        residues.append(((v % _Q) - (6 << 124) + _Q // 2) % _Q - _Q // 2)
        highs.append(v // _Q)
    scaled = [r / 2.0**108 for r in residues]
    sets = len(prss.party_sets(4, 1))
    expected_sd = (sets / 3) ** 0.5  # sum of 4 uniforms on [-1, 1]
    assert abs(statistics.fmean(scaled)) < 4 * expected_sd / len(scaled) ** 0.5
    assert 0.8 * expected_sd < statistics.pstdev(scaled) < 1.2 * expected_sd
    assert max(abs(s) for s in scaled) <= sets
    # wrap mask: the opened multiple of 2^128 is spread over ~2^56 values, not `wraps`
    assert len(set(highs)) == len(highs)
    assert statistics.pstdev([float(h - wraps) for h in highs]) > 2.0**54
    assert sum(1 for h in highs if h == wraps) == 0


def test_parameters_checked() -> None:
    threshold.check_parameters(13, 4)
    with pytest.raises(ValueError):
        threshold.check_parameters(3, 1)
    with pytest.raises(ValueError):
        threshold.counter(b"short", 0)
