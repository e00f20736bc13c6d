"""Clear-backend randomness stays secret although its seeds are public (FheRand events)."""

from __future__ import annotations

import hashlib

from fhevm.backends.clear import ClearBackend
from fhevm.types import FheType


def test_seed_alone_does_not_give_the_value() -> None:
    seed = b"\x07" * 16
    a, b = ClearBackend(), ClearBackend()
    values = {a.rand(FheType.Uint64, seed).value, b.rand(FheType.Uint64, seed).value}
    # the old, seed-only derivation (what an observer of the event could compute)
    public = int.from_bytes(hashlib.shake_256(b"fhevm-py/clear-rand" + seed).digest(40), "big")
    assert public % 2**64 not in values
    assert len(values) == 2  # two nodes (secrets) give two values for one seed
    assert a.rand(FheType.Uint64, seed) == a.rand(FheType.Uint64, seed)  # one node: stable
