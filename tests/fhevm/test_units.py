"""Unit tests of the pieces below the precompiles: handles, backend, journal, HCU table."""

from __future__ import annotations

import pytest

from fhevm import handles, hcu
from fhevm.backends import BackendError, ClearBackend, make_backend
from fhevm.store import CiphertextStore, JournaledBlobs
from fhevm.types import FheType


def test_handle_layout() -> None:
    h = handles.fresh_computed(FheType.Uint64, 31337)
    assert len(h) == 32 and h[21] == 0xFF
    assert int.from_bytes(h[22:30], "big") == 31337
    assert h[30] == 5 and h[31] == 0
    info = handles.unpack(h)
    assert info.fhe_type == FheType.Uint64 and info.chain_id == 31337 and info.index == 0xFF
    assert handles.fresh_computed(FheType.Uint64, 31337) != h  # unpredictable, never reused
    i = handles.input_handle(b"\x11" * 32, 3, 31337, FheType.Bool)
    assert i[21] == 3 and i[30] == 0
    with pytest.raises(handles.HandleError):
        handles.unpack(h[:30] + bytes([9, 0]))  # no type 9
    with pytest.raises(handles.HandleError):
        handles.unpack(h[:31] + b"\x01")  # version 1


def test_clear_backend_roundtrip_and_rejects_bad_blobs() -> None:
    b = ClearBackend()
    for t in FheType:
        ct = b.encrypt(t.modulus - 1, t)
        assert b.decrypt(b.deserialize(b.serialize(ct))) == t.modulus - 1
    with pytest.raises(BackendError):
        b.deserialize(b"\x02" + (256).to_bytes(32, "big"))  # 256 is not a Uint8
    with pytest.raises(BackendError):
        b.deserialize(b"\x02\x00")


def test_clear_rand_depends_only_on_secret_seed() -> None:
    b = ClearBackend()
    assert b.rand(FheType.Uint64, b"s" * 32) == b.rand(FheType.Uint64, b"s" * 32)
    assert b.rand(FheType.Uint64, b"s" * 32) != b.rand(FheType.Uint64, b"t" * 32)
    assert all(b.rand(FheType.Uint8, bytes([i]) * 32, 4).value < 4 for i in range(50))


def test_backend_by_name() -> None:
    assert make_backend("clear").name == "clear"
    with pytest.raises((ValueError, NotImplementedError)):
        make_backend("tfhe")  # needs network keys
    with pytest.raises(ValueError):
        make_backend("nope")


def test_journaled_blobs_follow_checkpoints() -> None:
    j = JournaledBlobs()
    j.put(b"a", b"1")
    j.record(1)
    j.put(b"b", b"2")
    j.record(2)
    j.put(b"c", b"3")
    j.discard(2)  # inner frame reverted
    assert j.get(b"c") is None and j.get(b"b") == b"2"
    j.record(3)
    j.put(b"d", b"4")
    j.commit(3)  # inner frame succeeded: d now belongs to frame 1
    j.discard(1)  # outer frame reverted: b and d go, a (before any frame) stays
    assert (j.get(b"a"), j.get(b"b"), j.get(b"d")) == (b"1", None, None)
    assert j.drain() == {b"a": b"1"} and len(j) == 0


def test_store_commit_and_discard() -> None:
    db: dict[bytes, bytes] = {}
    s = CiphertextStore(db)
    s.adopt({b"x": b"1"})
    assert s.get(b"x") == b"1" and db == {}
    written: list = []
    assert s.commit(lambda k, v: written.append((k, v))) == 1
    assert written == [(b"x", b"1")] and s.get(b"x") == b"1"  # readable before the batch lands
    s.adopt({b"y": b"2"})
    s.discard()
    assert s.get(b"y") is None
    s.adopt({b"z": b"3"})
    s.commit()
    assert db == {b"z": b"3"}


def test_hcu_table_spot_checks() -> None:
    # Figures of @fhevm/host-contracts 0.10.0 HCULimit.sol.
    assert hcu.binary_cost("add", FheType.Uint8, True) == 84_000
    assert hcu.binary_cost("mul", FheType.Uint128, False) == 1_686_000
    assert hcu.binary_cost("rotr", FheType.Uint256, True) == 40_000
    assert hcu.binary_cost("eq", FheType.Uint160, False) == 137_000
    assert hcu.unary_cost("not", FheType.Uint64) == 63
    assert hcu.unary_cost("select", FheType.Uint256) == 108_000
    assert hcu.unary_cost("rand", FheType.Bool) == 19_000
    assert hcu.binary_cost("add", FheType.Uint256, False) is None  # unsupported
    assert hcu.binary_cost("div", FheType.Uint8, True) == 210_000
    assert hcu.binary_cost("div", FheType.Uint8, False) == 880_000  # our extension: 2x rem
    assert hcu.sum_cost(FheType.Uint8, 4) == (3 * 88_000, 2 * 88_000)
    assert hcu.is_in_cost(FheType.Uint8, 2) == (2 * 55_000 + 24_000, 55_000 + 24_000)


def test_equal_input_values_get_distinct_handles():
    """Clear blobs of equal values are equal; their handles must not show it."""
    from fhevm.runtime import FhevmRuntime
    from fhevm.types import FheType

    rt = FhevmRuntime("clear")
    one = rt.backend.encrypt(1, FheType.Uint64)
    assert rt.upload_inputs([one]) != rt.upload_inputs([one])
