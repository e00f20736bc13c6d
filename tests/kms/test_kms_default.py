"""The whole decryption path on DEFAULT: radix ciphertext -> squash -> dealt key shares ->
flooded partial decryptions from party directories -> robust reconstruction."""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pytest

from fhevm.client import opening
from node.kms import dealer, squashing, threshold
from tfhe import DEFAULT
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng
from tfhe.integer import IntegerClientKey, RadixCiphertext, blocks_for_bits


@pytest.fixture(scope="module")
def parties(tmp_path_factory, squash_pair):
    sec, _ = squash_pair
    kms_dir = tmp_path_factory.mktemp("kms")
    cfg = dealer.deal_shares(kms_dir, sec.lwe_key, 4, 1, DEFAULT.ks_base_log, DEFAULT.ks_level)
    return kms_dir, cfg, [dealer.load_party(kms_dir / f"party-{j}") for j in range(1, 5)]


def _decrypt(parties, groups, lwes, bits: int, liars=()) -> int:
    session = secrets.token_bytes(32)
    plaintexts = []
    for i, lwe in enumerate(lwes):
        ctr = threshold.counter(session, i)
        ys = {p.index: threshold.partial_decrypt(p.key_share, p.prss, lwe, ctr) for p in parties}
        for j in liars:
            ys[j] = secrets.randbelow(1 << 255)
        plaintexts.append(opening.combine(ys, 4, 1)[0])
    return opening.assemble(groups, plaintexts, bits)


def test_dealer_writes_one_directory_per_party_without_the_key(parties, squash_pair) -> None:
    kms_dir, cfg, material = parties
    sec, _ = squash_pair
    assert len(set(cfg.signers)) == 4 and [m.address for m in material] == list(cfg.signers)
    key_bytes = [np.packbits(sec.lwe_key.astype(np.uint8)).tobytes(), sec.lwe_key.tobytes(),
                 sec.glwe_key.tobytes()]
    for f in Path(kms_dir).rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            assert not any(k in blob for k in key_bytes), f
    for j in range(1, 5):
        d = Path(kms_dir) / f"party-{j}"
        assert (d / "signing.key").stat().st_mode & 0o077 == 0
        assert len(material[j - 1].prss.keys) == 3
    assert "secret" in repr(material[0]) and material[0].signing_key.hex() not in repr(material[0])


def test_threshold_decryption_of_every_type(default_keys, squash_pair, parties) -> None:
    ck, sk = default_keys
    sec, key = squash_pair
    _, _, material = parties
    client = IntegerClientKey(ck)
    rnd = secrets.SystemRandom()
    squashed_types = [1, 4, 8, 16, 32]
    values = {bits: rnd.randrange(1 << bits) for bits in squashed_types}
    cts = [client.encrypt(values[b], b) for b in squashed_types]
    cts.append(RadixCiphertext([c.copy() for c in cts[1].blocks], 4))
    cts[-1].blocks[0].noise_level = 3  # too noisy to pack: squashed alone
    results = squashing.squash_radix(cts, sk.ksk, DEFAULT.ks_base_log, DEFAULT.ks_level, key)
    assert [len(g) for g in results[-1][0]] == [1, 1]
    for bits, (groups, lwes) in zip(squashed_types + [4], results, strict=True):
        assert _decrypt(material, groups, lwes, bits) == values[bits]
    # one liar is corrected on the real squashed ciphertexts too
    groups, lwes = results[2]
    assert _decrypt(material, groups, lwes, 8, liars=(2,)) == values[8]
    # wider types: same grouping and reconstruction; 2^128 LWEs encrypted directly
    rng = Csprng.from_os()
    for bits in (64, 128, 160, 256):
        value = rnd.randrange(1 << bits)
        groups = squashing.group_blocks([(3, 1)] * blocks_for_bits(bits))
        lwes = []
        for g in groups:
            m = sum(((value >> (2 * b)) & 3) << (2 * k) for k, b in enumerate(g))
            hi, lo = sq.encrypt128(sec.lwe_key, m, 61, rng)
            lwes.append(sq.to_ints(hi, lo))
        assert _decrypt(material, groups, lwes, bits) == value


def test_party_reads_the_tfhe_backend_blob(default_keys) -> None:
    from fhevm.backends.tfhe import TfheBackend
    from node.kms.squashing import parse_blob

    ck, sk = default_keys
    backend = TfheBackend(sk, ck)
    ct = IntegerClientKey(ck).encrypt(0xBEEF, 16)
    back = parse_blob(backend.serialize(ct))
    assert back.bits == 16 and len(back.blocks) == 8
    for a, b in zip(ct.blocks, back.blocks, strict=True):
        assert np.array_equal(a.data, b.data) and (a.degree, a.noise_level) == (
            b.degree, b.noise_level)
    with pytest.raises(ValueError):
        parse_blob(backend.serialize(ct)[:-1])
