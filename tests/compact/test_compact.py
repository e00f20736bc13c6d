"""Compact public-key encryption of inputs: client encrypt -> bytes -> node expand -> decrypt.

Insecure set for breadth (every type, a full 2048-bit list, malformed bytes, malicious
plaintexts), DEFAULT for a small sample and the noise of expanded blocks.
"""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfhe.core import compact_pke as cpke
from tfhe.core import lwe
from tfhe.core.csprng import Csprng
from tfhe.integer.compact_list import (
    TYPE_BITS,
    CastingKey,
    CompactCiphertextList,
    CompactListBuilder,
    CompactListError,
    CompactPkePrivateKey,
    CompactPublicKey,
    expand_bytes,
    generate_compact_keys,
    load_public_key,
    save_public_key,
)
from tfhe.keys import KeyFileError

ADDRESS = "0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D"


def _random_value(rnd: random.Random, code: int) -> int:
    return rnd.getrandbits(TYPE_BITS[code])


def _roundtrip(setup, values: list[tuple[object, int]]) -> list[int]:
    b = CompactListBuilder(setup.pk)
    for v, code in values:
        b.push(v, code)
    blob = b.encrypt().to_bytes()
    types, cts = expand_bytes(blob, setup.pk, setup.casting, setup.server)
    assert types == [c for _, c in values]
    for ct, (_, code) in zip(cts, values, strict=True):
        assert ct.bits == TYPE_BITS[code]
        for blk in ct.blocks:
            assert blk.noise_level == 1
            assert blk.degree == (1 if code == 0 else 3)
    return [setup.client.decrypt(ct) for ct in cts]


# -- the PKE itself ---------------------------------------------------------------------------

@pytest.mark.parametrize("params", [cpke.INSECURE_PKE_TEST_PARAMS, cpke.PKE_DEFAULT])
def test_pke_phases_and_slot_masks(params):
    rng = Csprng.from_os()
    s = cpke.generate_secret(params, rng)
    pk = cpke.CompactPublicKey.generate(params, s, rng)
    k = 700
    m = rng.uniform_u64(k) & np.uint64(15)
    c1, c2 = pk.encrypt(m << np.uint64(params.delta_log2), rng)
    err = (cpke.phases(s, c1, c2) - (m << np.uint64(params.delta_log2))).astype(np.int64)
    # e*r + e2 - e1*s: std about sqrt(N/2 + 1 + N/2) * 2^b / sqrt(3)
    bound = 2.0 ** params.noise_log2 * np.sqrt(params.lwe_dimension) * 8
    assert np.abs(err).max() < bound
    assert np.abs(err).max() > 0  # there is noise
    # the LWE view of each slot: (A_j, c2_j) under the secret as an LWE key
    lwes = np.concatenate([cpke.slot_masks(c1, k), c2[:, None]], axis=1)
    assert np.array_equal(lwe.phase(s, lwes), cpke.phases(s, c1, c2))
    # a fresh mask each time: two encryptions of the same list differ everywhere
    c1b, _ = pk.encrypt(m << np.uint64(params.delta_log2), rng)
    assert not np.any(c1b == c1)


def test_public_key_bytes(insecure):
    pk = insecure.pk
    blob = pk.to_bytes()
    assert len(blob) == 11 + 2 + len(pk.params.name) + 32 + 8 * pk.params.lwe_dimension
    back = CompactPublicKey.from_bytes(blob)
    assert back.params == pk.params and back.seed == pk.seed
    assert np.array_equal(back.body, pk.body) and np.array_equal(back.mask, pk.mask)
    assert back.fingerprint == pk.fingerprint
    for bad, msg in [(blob[:-1], "bytes, expected"), (blob + b"\0", "bytes, expected"),
                     (b"X" + blob[1:], "not a compact public key"),
                     (blob[:11] + b"\x07" + blob[12:], "version 7"),
                     (blob[:11], "truncated")]:
        with pytest.raises(cpke.CompactPkeError, match=msg):
            CompactPublicKey.from_bytes(bad)
    name = pk.params.name.encode()
    renamed = blob.replace(name, b"X" * len(name), 1)
    with pytest.raises(cpke.CompactPkeError, match="unknown compact public key parameters"):
        CompactPublicKey.from_bytes(renamed)


def test_key_files(insecure, tmp_path):
    save_public_key(insecure.pk, tmp_path / "pk")
    pk = load_public_key(tmp_path / "pk")
    assert pk.to_bytes() == insecure.pk.to_bytes()
    insecure.casting.save(tmp_path / "casting")
    casting = CastingKey.load(tmp_path / "casting")
    assert np.array_equal(casting.ksk, insecure.casting.ksk)
    assert (tmp_path / "casting").stat().st_size < 2 * casting.stored_bytes + 4096
    assert casting.public_key_fingerprint == insecure.pk.fingerprint
    insecure.priv.save(tmp_path / "priv")
    priv = CompactPkePrivateKey.load(tmp_path / "priv")
    assert np.array_equal(priv.secret, insecure.priv.secret)
    with pytest.raises(KeyFileError, match="expected a casting key"):
        CastingKey.load(tmp_path / "priv")
    raw = (tmp_path / "casting").read_bytes()
    (tmp_path / "cut").write_bytes(raw[:-100])
    with pytest.raises(KeyFileError):
        CastingKey.load(tmp_path / "cut")


def test_secure_key_refuses_insecure_pke(default):
    with pytest.raises(ValueError, match="insecure"):
        generate_compact_keys(default.ck, params=cpke.INSECURE_PKE_TEST_PARAMS)


# -- round trips through the node's expansion -------------------------------------------------

def test_every_type_insecure(insecure):
    rnd = random.Random()
    extremes = [(False, 0), (True, 0), (0, 1), (15, 1), (0, 2), (255, 2), (65535, 3),
                (2**32 - 1, 4), (2**64 - 1, 5), (0, 5), (2**128 - 1, 6), (ADDRESS, 7),
                (2**160 - 1, 7), (2**256 - 1, 8)]
    rand = [(_random_value(rnd, c), c) for c in range(9)]
    values = extremes + rand
    got = _roundtrip(insecure, values)
    want = [int(v, 16) if isinstance(v, str) else int(v) for v, _ in values]
    assert got == want


def test_full_2048_bit_list_insecure(insecure):
    rnd = random.Random()
    codes = [8] * 7 + [6, 5, 4, 3, 2, 1, 0, 0]  # 7*256+128+64+32+16+8+4+2+2 = 2048 bits
    values = [(_random_value(rnd, c), c) for c in codes]
    b = CompactListBuilder(insecure.pk)
    for v, c in values:
        b.push(v, c)
    assert b.total_bits == 2048
    with pytest.raises(CompactListError, match="at most 2048 bits"):
        b.add_bool(True)
    lst = b.encrypt()
    assert lst.num_blocks == 1024
    assert insecure.priv.decrypt(lst) == [v for v, _ in values]
    cts = lst.expand(insecure.casting, insecure.server)
    assert [insecure.client.decrypt(ct) for ct in cts] == [v for v, _ in values]


def test_sample_default(default):
    rnd = random.Random()
    values = [(True, 0), (rnd.getrandbits(8), 2), (rnd.getrandbits(64), 5), (ADDRESS, 7),
              (rnd.getrandbits(4), 1)]
    got = _roundtrip(default, values)
    assert got == [int(v, 16) if isinstance(v, str) else int(v) for v, _ in values]


# -- noise of expanded blocks -----------------------------------------------------------------

def _errors(setup, cts, want_digits) -> np.ndarray:
    p = setup.ck.params
    data = np.stack([b.data for ct in cts for b in ct.blocks])
    ph = lwe.phase(setup.ck.big_lwe_key, data)
    want = np.array(want_digits, dtype=np.uint64) << np.uint64(p.delta_log2)
    return (ph - want).astype(np.int64)


@pytest.mark.parametrize("which", ["insecure", "default"])
def test_expanded_noise_is_nominal(which, request):
    setup = request.getfixturevalue(which)
    p = setup.ck.params
    rnd = random.Random()
    vals = [rnd.getrandbits(64) for _ in range(2)]
    b = CompactListBuilder(setup.pk)
    for v in vals:
        b.add64(v)
    cts = b.encrypt().expand(setup.casting, setup.server)
    digits = [(v >> (2 * j)) & 3 for v in vals for j in range(32)]
    err = _errors(setup, cts, digits)
    # a fresh bootstrap of a secret-key encryption, for reference
    fresh = setup.server.shortint.clean(setup.client.shortint.encrypt_batch(digits))
    ref = np.stack([c.data for c in fresh])
    ref_err = (lwe.phase(setup.ck.big_lwe_key, ref)
               - (np.array(digits, dtype=np.uint64) << np.uint64(p.delta_log2))).astype(np.int64)
    assert err.std() < 2 * ref_err.std() + 2.0 ** (p.delta_log2 - 12)
    # max_noise_level leveled additions of expanded blocks still decrypt exactly
    sh = setup.server.shortint
    blocks = [blk for ct in cts for blk in ct.blocks]
    for start in range(0, len(blocks) - p.max_noise_level + 1, p.max_noise_level):
        group = blocks[start:start + p.max_noise_level]
        acc = group[0]
        for blk in group[1:]:
            acc = sh.unchecked_add(acc, blk)
        assert acc.noise_level == p.max_noise_level and acc.degree <= 15
        total = sum(digits[start:start + p.max_noise_level])
        assert setup.client.shortint.decrypt_message_and_carry(acc) == total
    # and the integer layer computes on them
    s = setup.server.add(cts[0], cts[1])
    assert setup.client.decrypt(s) == (vals[0] + vals[1]) % 2**64


@pytest.mark.parametrize("code", [5, 0])
def test_malicious_plaintexts_stay_within_degree(insecure, code):
    """Slots holding carries or the padding bit still expand to blocks within their degree."""
    p = insecure.pk.params
    raw = np.arange(32, dtype=np.uint64)  # every box of the torus, padding bit included
    c1, c2 = insecure.pk.encrypt(raw << np.uint64(p.delta_log2))
    codes = (5,) if code == 5 else (0,) * 32  # one euint64 (32 blocks) or 32 ebools
    lst = CompactCiphertextList(p, insecure.pk.fingerprint, codes, c1, c2)
    lst = CompactCiphertextList.from_bytes(lst.to_bytes(), public_key=insecure.pk)
    cts = lst.expand(insecure.casting, insecure.server)
    blocks = [blk for ct in cts for blk in ct.blocks]
    m = 2 if code == 0 else 4
    for z, blk in zip(raw.tolist(), blocks, strict=True):
        got = insecure.client.shortint.decrypt_message_and_carry(blk)
        assert got <= blk.degree == m - 1, (z, got, blk.degree)
        assert got == (z % m if z < 16 else m - 1 - z % m), z


# -- malformed inputs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_blob(insecure) -> bytes:
    return CompactListBuilder(insecure.pk).add8(7).add_bool(True).encrypt().to_bytes()


def _header_len(pk) -> int:
    return 15 + 2 + len(pk.params.name) + 16


def test_malformed_bytes(insecure, small_blob):
    pk = insecure.pk
    blob = small_blob
    h = _header_len(pk)
    ok = CompactCiphertextList.from_bytes(blob, public_key=pk)
    assert ok.types == (2, 0) and insecure.priv.decrypt(ok) == [7, 1]
    cases = [
        (blob[:-1], "truncated compact list"),
        (blob[:h + 1], "truncated compact list"),
        (blob[:20], "truncated"),
        (blob + b"\x00", "trailing bytes"),
        (b"Y" + blob[1:], "bad magic"),
        (blob[:15] + b"\x02" + blob[16:], "version 2"),
        (blob[:h] + struct.pack("<H", 0) + blob[h + 2:], "empty list"),
        (blob[:h + 2] + b"\x09" + blob[h + 3:], "unknown type code 9 at index 0"),
        (blob[:h + 3] + b"\xff" + blob[h + 4:], "unknown type code 255 at index 1"),
        (blob[:h + 2] + b"\x05" + blob[h + 3:], "blocks, but the types need 33"),
        (blob[:h + 4] + struct.pack("<H", 6) + blob[h + 6:], "6 blocks"),
    ]
    for bad, msg in cases:
        with pytest.raises(CompactListError, match=msg):
            CompactCiphertextList.from_bytes(bad, public_key=pk)
    assert issubclass(CompactListError, ValueError)


def test_oversize_list_bytes(insecure, small_blob):
    pk = insecure.pk
    h = _header_len(pk)
    # 9 x euint256 = 2304 bits: a well-formed list that is too large
    types = bytes([8] * 9)
    body = (struct.pack("<H", 9) + types + struct.pack("<H", 9 * 128)
            + b"\x00" * 8 * (pk.params.lwe_dimension + 9 * 128))
    with pytest.raises(CompactListError, match="2304 bits exceeds the 2048-bit limit"):
        CompactCiphertextList.from_bytes(small_blob[:h] + body, public_key=pk)
    many = struct.pack("<H", 1025) + bytes(1025)
    with pytest.raises(CompactListError, match="at most 2048 bits"):
        CompactCiphertextList.from_bytes(small_blob[:h] + many, public_key=pk)
    b = CompactListBuilder(pk)
    for _ in range(8):
        b.add256(1)
    with pytest.raises(CompactListError, match="would make 2056"):
        b.add8(1)


def test_foreign_key_and_params(insecure, small_blob):
    _, other_pk, other_casting = generate_compact_keys(insecure.ck)
    with pytest.raises(CompactListError, match="another public key"):
        CompactCiphertextList.from_bytes(small_blob, public_key=other_pk)
    lst = CompactCiphertextList.from_bytes(small_blob)  # no key given: parses
    with pytest.raises(CompactListError, match="another public key"):
        lst.expand(other_casting, insecure.server)
    with pytest.raises(CompactListError, match="expected PARAM_PKE"):
        CompactCiphertextList.from_bytes(small_blob, params=cpke.PKE_DEFAULT)


def test_builder_rejects_bad_values(insecure):
    b = CompactListBuilder(insecure.pk)
    for value, code, msg in [(256, 2, "out of range for euint8"), (-1, 5, "out of range"),
                             (2, 0, "out of range for ebool"), (16, 1, "euint4"),
                             (1, 9, "unknown type code 9"), (1, -1, "unknown type code"),
                             ("0x1234", 7, "20 bytes"), ("0x" + "zz" * 20, 7, "not a hex"),
                             (b"\x01" * 19, 7, "20 bytes"), (1.5, 5, "takes an int"),
                             ("12", 5, "takes an int")]:
        with pytest.raises(CompactListError, match=msg):
            b.push(value, code)
    assert len(b) == 0
    with pytest.raises(CompactListError, match="empty list"):
        b.encrypt()
    b.add_address(bytes(range(20)))
    assert insecure.priv.decrypt(b.encrypt()) == [int.from_bytes(bytes(range(20)), "big")]


def test_expand_checks_lists_built_in_memory(insecure):
    lst = CompactListBuilder(insecure.pk).add16(3).encrypt()
    short = CompactCiphertextList(lst.params, lst.key_fingerprint, lst.types, lst.c1,
                                  lst.bodies[:-1])
    with pytest.raises(CompactListError, match="7 blocks, but the types need 8"):
        short.expand(insecure.casting, insecure.server)
    bad = CompactCiphertextList(lst.params, lst.key_fingerprint, (12,), lst.c1, lst.bodies)
    with pytest.raises(CompactListError, match="unknown type code 12"):
        bad.expand(insecure.casting, insecure.server)


def test_casting_keyswitch_noise_default(default):
    """After the casting keyswitch a slot is an LWE under the compute small key with the
    expected noise (std about 2^53 on DEFAULT), well inside half a box (2^58)."""
    p = default.ck.params
    lst = CompactListBuilder(default.pk).add256(2**256 - 1).add64(12345).encrypt()
    smalls = cpke.cast_to_small(lst.c1, lst.bodies, default.casting.ksk, lst.params)
    assert smalls.shape == (160, p.lwe_dimension + 1) and smalls.dtype == np.uint32
    ph = lwe.phase(default.ck.lwe_key, smalls.astype(np.uint64) << np.uint64(32))
    pts = cpke.phases(default.priv.secret, lst.c1, lst.bodies)  # exact plaintext + PKE noise
    delta = np.uint64(1) << np.uint64(p.delta_log2)
    want = ((pts + (delta >> np.uint64(1))) // delta) * delta
    err = (ph - want).astype(np.int64).astype(np.float64)
    assert 50 < np.log2(err.std()) < 54.5
    assert np.abs(err).max() < 2.0 ** 57


# -- properties of the wire format (no bootstrap: fast) -------------------------------------

_FIXTURES = [HealthCheck.function_scoped_fixture]  # session fixtures, not reset per example

@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_lists_roundtrip_client_side(insecure, codes, rnd):
    b = CompactListBuilder(insecure.pk)
    values = []
    for c in codes:
        if b.total_bits + (2 if c == 0 else TYPE_BITS[c]) > 2048:
            break
        values.append(_random_value(rnd, c))
        b.push(values[-1], c)
    lst = b.encrypt()
    back = CompactCiphertextList.from_bytes(lst.to_bytes(), public_key=insecure.pk)
    assert back.types == tuple(codes[:len(values)])
    assert back.to_bytes() == lst.to_bytes()
    assert insecure.priv.decrypt(back) == values


@settings(max_examples=200, deadline=None, suppress_health_check=_FIXTURES)
@given(st.data())
def test_mutated_bytes_give_clear_errors(insecure, small_blob, data):
    """Whatever the bytes, parsing either succeeds or raises CompactListError."""
    blob = bytearray(small_blob)
    h = _header_len(insecure.pk) + 6
    kind = data.draw(st.sampled_from(["flip", "cut", "extend"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            blob[data.draw(st.integers(0, h - 1))] = data.draw(st.integers(0, 255))
    elif kind == "cut":
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    else:
        blob += data.draw(st.binary(min_size=1, max_size=64))
    try:
        lst = CompactCiphertextList.from_bytes(bytes(blob), public_key=insecure.pk)
    except CompactListError:
        return
    lst.validate()
    assert kind == "flip"


@settings(max_examples=100, deadline=None, suppress_health_check=_FIXTURES)
@given(st.data())
def test_mutated_public_key_bytes_give_clear_errors(insecure, data):
    blob = bytearray(insecure.pk.to_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        blob[data.draw(st.integers(0, 13 + len(insecure.pk.params.name)))] = data.draw(
            st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    try:
        CompactPublicKey.from_bytes(bytes(blob[:cut]))
    except cpke.CompactPkeError:
        return
