"""Radix ciphertexts: an unsigned integer as little-endian 2-bit shortint blocks.

A value of `bits` bits (8, 16, ..., 256, 160 for an address) is split into bits / 2 blocks,
block j holding digit j in base message_modulus (4). An encrypted boolean is a single block
holding 0 or 1 (bits == 1). Every block keeps its public degree <= 3 (no pending carry); the
noise level may be anything up to the parameter set's maximum, and each operation cleans the
blocks it needs clean (the "smart" behaviour of tfhe-rs).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..shortint import Ciphertext

BITS_PER_BLOCK = 2


def blocks_for_bits(bits: int) -> int:
    """Number of 2-bit blocks of a `bits`-wide integer (one block for a boolean)."""
    if bits == 1:
        return 1
    if bits < 2 or bits % BITS_PER_BLOCK:
        raise ValueError(f"unsupported width {bits}: use 1 (bool) or an even number of bits")
    return bits // BITS_PER_BLOCK


@dataclass(eq=False)
class RadixCiphertext:
    """An encrypted unsigned integer of `bits` bits (1 = ebool)."""

    blocks: list[Ciphertext]
    bits: int

    def __post_init__(self) -> None:
        if len(self.blocks) != blocks_for_bits(self.bits):
            raise ValueError(f"{len(self.blocks)} blocks cannot hold a {self.bits}-bit integer")

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    @property
    def is_bool(self) -> bool:
        return self.bits == 1

    def copy(self) -> RadixCiphertext:
        return RadixCiphertext([b.copy() for b in self.blocks], self.bits)

    def __repr__(self) -> str:
        kind = "ebool" if self.bits == 1 else f"euint{self.bits}"
        return f"RadixCiphertext({kind}, {self.num_blocks} blocks)"
