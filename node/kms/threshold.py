"""Partial decryption of squashed LWEs with noise flooding (the parties' side).

Party j holds Shamir shares s_i(j) over F_p of the squash LWE key bits s_i. For a squashed
LWE (a, b) mod 2^128 (a_i, b read as integers in [0, 2^128)) it answers

    y_j = b - sum_i a_i s_i(j) + [E + 2^128 R]_j      (mod p)

where [.]_j is its PRSS share for the counter (session, item). Every y_j lies on a degree-t
polynomial whose value at 0 is the integer Y = b - <a, s> + E + 2^128 R, with
b - <a, s> = phase - 2^128 W (W the wrap count of <a, s> over the integers, W <= 4096).
Y mod 2^128 = phase + E; rounding to delta = 2^124 gives the plaintext. R hides W, E hides
the ciphertext noise (40-bit statistical security); see docs/kms.md for the budget.
Opening the shares (Reed-Solomon decoding, the range and noise checks) is
fhevm.client.opening, shared by the SDK, node.kms.client and the parties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

from fhevm.client import field as F
from fhevm.client.opening import DELTA_LOG2, NOISE_BITS, WRAP_BITS

from .prss import PrssParty


def check_parameters(n: int, t: int) -> None:
    """n >= 3t + 1, and the flooding noise of all C(n, t) sets stays below delta / 2."""
    if t < 0 or n < 3 * t + 1:
        raise ValueError(f"need n >= 3t + 1 (got n={n}, t={t})")
    if comb(n, t).bit_length() + NOISE_BITS + 1 >= DELTA_LOG2 - 1:
        raise ValueError(f"C({n}, {t}) PRSS sets: flooding noise would exceed delta / 2")


def counter(session: bytes, item: int) -> bytes:
    """The PRSS counter of item `item` of a request: never reused across requests."""
    if len(session) != 32:
        raise ValueError("session ids are 32 bytes")
    return session + item.to_bytes(4, "big")


@dataclass(frozen=True)
class KeyShare:
    """Party `index`'s Shamir shares of the squash LWE key bits (secret)."""

    index: int
    n: int
    t: int
    values: tuple[int, ...]

    def __repr__(self) -> str:
        return f"KeyShare({self.index}/{self.n}, t={self.t}, <secret>)"

    def to_bytes(self) -> bytes:
        return b"".join(v.to_bytes(32, "big") for v in self.values)

    @classmethod
    def from_bytes(cls, index: int, n: int, t: int, blob: bytes) -> KeyShare:
        if len(blob) % 32:
            raise ValueError("key share file has a partial element")
        vals = tuple(int.from_bytes(blob[i:i + 32], "big") for i in range(0, len(blob), 32))
        if any(v >= F.P for v in vals):
            raise ValueError("key share element outside the field")
        return cls(index, n, t, vals)


def partial_decrypt(share: KeyShare, prss: PrssParty, lwe: Sequence[int],
                    ctr: bytes) -> int:
    """y_j for one squashed LWE given as integers (a_0 .. a_{d-1}, b)."""
    if prss.index != share.index:
        raise ValueError("PRSS keys and key share of different parties")
    *a, b = lwe
    if len(a) != len(share.values):
        raise ValueError("LWE dimension does not match the key share")
    inner = sum(x * s for x, s in zip(a, share.values, strict=True))
    return (b - inner + prss.flood_share(ctr, NOISE_BITS, WRAP_BITS)) % F.P
