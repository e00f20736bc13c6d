"""Key files: round trips, and clear errors for every kind of bad file."""

import numpy as np
import pytest

from tfhe import DEFAULT, INSECURE_TEST_PARAMS, ClientKey, KeyFileError, ServerKey
from tfhe.core import lwe
from tfhe.core.csprng import Csprng
from tfhe.keys import MAGIC


@pytest.fixture(scope="module")
def saved(tmp_path_factory, insecure_keys):
    ck, sk = insecure_keys
    d = tmp_path_factory.mktemp("keys")
    ck.save(d / "client")
    sk.save(d / "server")
    return d


def test_round_trip(saved, insecure_keys):
    ck, sk = insecure_keys
    ck2 = ClientKey.load(saved / "client", INSECURE_TEST_PARAMS)
    sk2 = ServerKey.load(saved / "server")
    assert np.array_equal(ck2.lwe_key, ck.lwe_key)
    assert np.array_equal(ck2.glwe_key, ck.glwe_key)
    assert np.array_equal(sk2.ksk, sk.ksk) and np.array_equal(sk2.bsk, sk.bsk)
    p = ck.params
    ct = lwe.encrypt(ck2.big_lwe_key, np.array([3 << p.delta_log2], dtype=np.uint64),
                     p.glwe_noise_log2, Csprng.from_os())
    assert lwe.phase(ck.big_lwe_key, ct)[0] >> np.uint64(p.delta_log2 - 1) in (5, 6)


def test_default_server_key_round_trip(default_keys, tmp_path):
    _, sk = default_keys
    sk.save(tmp_path / "server")
    loaded = ServerKey.load(tmp_path / "server", DEFAULT)
    assert loaded.params == DEFAULT
    assert np.array_equal(loaded.bsk, sk.bsk)


def test_missing_file(tmp_path):
    with pytest.raises(KeyFileError, match="no such key file"):
        ServerKey.load(tmp_path / "nope")


def test_not_a_key_file(tmp_path):
    (tmp_path / "junk").write_bytes(b"hello world" * 10)
    with pytest.raises(KeyFileError, match="not a key file"):
        ServerKey.load(tmp_path / "junk")


def test_truncated_file(saved, tmp_path):
    blob = (saved / "server").read_bytes()
    (tmp_path / "cut").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(KeyFileError, match="checksum"):
        ServerKey.load(tmp_path / "cut")


def test_corrupt_byte(saved, tmp_path):
    blob = bytearray((saved / "server").read_bytes())
    blob[len(blob) // 3] ^= 0x40
    (tmp_path / "flip").write_bytes(bytes(blob))
    with pytest.raises(KeyFileError, match="checksum"):
        ServerKey.load(tmp_path / "flip")


def test_wrong_kind(saved):
    with pytest.raises(KeyFileError, match="client key, expected a server key"):
        ServerKey.load(saved / "client")


def test_mismatched_parameters(saved):
    with pytest.raises(KeyFileError, match="expected PARAM_MESSAGE_2_CARRY_2"):
        ClientKey.load(saved / "client", DEFAULT)


def test_other_version(saved, tmp_path):
    import hashlib
    import struct

    blob = bytearray((saved / "client").read_bytes())
    struct.pack_into("<I", blob, len(MAGIC), 99)
    body = bytes(blob[:-32])
    blob[-32:] = hashlib.blake2b(body, digest_size=32).digest()
    (tmp_path / "v99").write_bytes(bytes(blob))
    with pytest.raises(KeyFileError, match="version 99"):
        ClientKey.load(tmp_path / "v99")


def test_saving_is_atomic(saved, tmp_path, insecure_keys):
    """A save never leaves a half-written file under the final name."""
    ck, _ = insecure_keys
    ck.save(tmp_path / "k")
    assert [p.name for p in tmp_path.iterdir()] == ["k"]


def test_compressed_server_key_regenerates_the_same_key(insecure_keys, tmp_path):
    """Bodies + public mask seed rebuild exactly the evaluation key, and it bootstraps."""
    from tfhe import CompressedServerKey
    from tfhe.shortint import ShortintClientKey, ShortintServerKey

    ck, _ = insecure_keys
    compressed = CompressedServerKey.generate(ck)
    sk = compressed.decompress()
    compressed.save(tmp_path / "c")
    again = CompressedServerKey.load(tmp_path / "c", INSECURE_TEST_PARAMS).decompress()
    assert np.array_equal(again.ksk, sk.ksk) and np.array_equal(again.bsk, sk.bsk)
    assert compressed.size_bytes < sk.size_bytes / 2
    c, s = ShortintClientKey(ck), ShortintServerKey(again)
    lut = s.lookup_table(lambda m: (m + 3) % 16)
    out = s.apply_lookup_tables([c.encrypt_raw(v) for v in range(16)], lut)
    assert [c.decrypt_message_and_carry(x) for x in out] == [(v + 3) % 16 for v in range(16)]


def test_compressed_key_file_is_not_a_server_key(insecure_keys, tmp_path):
    from tfhe import CompressedServerKey

    CompressedServerKey.generate(insecure_keys[0]).save(tmp_path / "c")
    with pytest.raises(KeyFileError, match="compressed-server key, expected a server key"):
        ServerKey.load(tmp_path / "c")
