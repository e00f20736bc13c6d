"""Encrypted integer types: the type codes that travel in byte 30 of a handle."""

from __future__ import annotations

from enum import IntEnum


class FheType(IntEnum):
    """Type codes shared with @fhevm/solidity's `FheType` enum (first members only)."""

    Bool = 0
    Uint4 = 1
    Uint8 = 2
    Uint16 = 3
    Uint32 = 4
    Uint64 = 5
    Uint128 = 6
    Uint160 = 7
    Uint256 = 8

    @property
    def bits(self) -> int:
        """Width in bits; every value of the type lies in [0, 2**bits)."""
        return _BITS[self]

    @property
    def modulus(self) -> int:
        return 1 << _BITS[self]

    def wrap(self, value: int) -> int:
        """Reduce an integer into the type (unsigned wrap-around)."""
        return value & (self.modulus - 1)


_BITS = {
    FheType.Bool: 1,
    FheType.Uint4: 4,
    FheType.Uint8: 8,
    FheType.Uint16: 16,
    FheType.Uint32: 32,
    FheType.Uint64: 64,
    FheType.Uint128: 128,
    FheType.Uint160: 160,
    FheType.Uint256: 256,
}

#: Number of members of the Solidity `FheType` enum: a larger ABI value is malformed calldata.
SOLIDITY_ENUM_SIZE = 84


def parse_type(code: int) -> FheType | None:
    """The FheType for a code, or None when the code names no type this engine knows."""
    try:
        return FheType(code)
    except ValueError:
        return None


U = FheType
ARITH = frozenset({U.Uint8, U.Uint16, U.Uint32, U.Uint64, U.Uint128})
BITWISE = ARITH | {U.Bool, U.Uint256}
SHIFTS = ARITH | {U.Uint256}
EQUALITY = BITWISE | {U.Uint160}
