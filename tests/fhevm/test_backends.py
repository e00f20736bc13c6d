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
