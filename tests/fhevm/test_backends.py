"""The tfhe backend below the executor: key loading, serialisation, semantics spot checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhevm.backends import BackendError, make_backend
from fhevm.types import FheType
from tests.fhevm.conftest import HAS_TFHE_LAYER
from tests.fhevm.harness import tfhe_test_backend

pytestmark = pytest.mark.skipif(not HAS_TFHE_LAYER, reason="tfhe.integer does not load")


def test_serialisation_roundtrip_and_rejection() -> None:
    b = tfhe_test_backend()
    for t, v in [(FheType.Bool, 1), (FheType.Uint8, 201), (FheType.Uint160, 2**159 + 5)]:
        ct = b.encrypt(v, t)
        blob = b.serialize(ct)
        again = b.deserialize(blob)
        assert b.type_of(again) == t and b.decrypt(again) == v
        assert b.serialize(again) == blob
    good = b.serialize(b.encrypt(3, FheType.Uint8))
    for bad in (b"", good[:-8], good + b"\0", b"XXXX" + good[4:], good[:5] + b"\x05" + good[6:]):
        with pytest.raises(BackendError):
            b.deserialize(bad)
    with pytest.raises(BackendError):
        make_backend("clear").deserialize(good)  # a tfhe blob is not a clear one


def test_keys_from_key_file_bytes(tmp_path: Path) -> None:
    from tfhe import INSECURE_TEST_PARAMS, generate_keys

    client, server = generate_keys(INSECURE_TEST_PARAMS)
    client.save(tmp_path / "c")
    server.save(tmp_path / "s")
    keys = {"tfhe/server_key": (tmp_path / "s").read_bytes()}
    compute_only = make_backend("tfhe", keys)
    with pytest.raises(BackendError):
        compute_only.encrypt(1, FheType.Uint8)  # no client key: cannot encrypt or decrypt
    keys["tfhe/client_key"] = (tmp_path / "c").read_bytes()
    full = make_backend("tfhe", keys)
    x = full.encrypt(250, FheType.Uint8)
    assert full.decrypt(compute_only.binary("add", x, 10)) == 4  # the server alone computes


def test_encrypted_division_by_zero_and_wide_shift() -> None:
    b = tfhe_test_backend()
    a, zero = b.encrypt(77, FheType.Uint8), b.encrypt(0, FheType.Uint8)
    assert b.decrypt(b.binary("div", a, zero)) == 255
    assert b.decrypt(b.binary("rem", a, zero)) == 77
    assert b.decrypt(b.binary("shl", a, 9)) == (77 << 1) & 255  # 9 mod 8


def test_edge_cases_agree_with_the_clear_backend() -> None:
    """Differential check: the same calls on both backends decrypt to the same values."""
    tf, cl = tfhe_test_backend(), make_backend("clear")

    def both(fn):  # noqa: ANN001, ANN202
        return tf.decrypt(fn(tf)), cl.decrypt(fn(cl))

    t8, tb, t160 = FheType.Uint8, FheType.Bool, FheType.Uint160
    cases = [
        lambda b: b.cast(b.encrypt(1, tb), FheType.Uint256),
        lambda b: b.cast(b.encrypt(0x1FF, FheType.Uint16), t8),
        lambda b: b.sum([b.encrypt(9, t8)], t8),
        lambda b: b.sum([], t8),
        lambda b: b.is_in(b.encrypt(9, t8), []),
        lambda b: b.binary("and", b.encrypt(1, tb), 1),
        lambda b: b.binary("eq", b.encrypt(2**159 + 3, t160), 2**159 + 3),
        lambda b: b.select(b.encrypt(0, tb), b.encrypt(9, t8), b.encrypt(4, t8)),
        lambda b: b.unary("not", b.encrypt(1, tb)),
        lambda b: b.unary("neg", b.encrypt(9, t8)),
        lambda b: b.binary("rotr", b.encrypt(0x81, t8), b.encrypt(12, t8)),
        lambda b: b.trivial_encrypt(300, t8),
    ]
    for i, case in enumerate(cases):
        got_tfhe, got_clear = both(case)
        assert got_tfhe == got_clear, (i, got_tfhe, got_clear)
