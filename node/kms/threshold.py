"""Partial decryption with noise flooding, and robust reconstruction of squashed LWEs.

Party j holds Shamir shares s_i(j) over F_p of the squash LWE key bits s_i. For a squashed
LWE (a, b) mod 2^128 (a_i, b read as integers in [0, 2^128)) it answers

    y_j = b - sum_i a_i s_i(j) + [E + 2^128 R]_j      (mod p)

where [.]_j is its PRSS share for the counter (session, item). Every y_j lies on a degree-t
polynomial whose value at 0 is the integer Y = b - <a, s> + E + 2^128 R, with
b - <a, s> = phase - 2^128 W (W the wrap count of <a, s> over the integers, W <= 4096).
Y mod 2^128 = phase + E; rounding to delta = 2^124 gives the plaintext. R hides W, E hides
the ciphertext noise (40-bit statistical security); see docs/kms.md for the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

from . import field as F
from . import rs
from .prss import PrssParty

NOISE_BITS = 108  # each PRSS set adds uniform noise in [-2^108, 2^108]
WRAP_BITS = 56  # each PRSS set adds 2^128 * uniform [0, 2^56)
SQUASH_NOISE_LOG2 = 70  # generous bound on squashed noise (2^68.1 at 2^-128), docs/kms.md
DELTA_LOG2 = 124
PLAINTEXT_MODULUS = 16
KEY_DIMENSION = 4096
_Q = 1 << 128


class ReconstructionError(ValueError):
    """The shares do not determine a plaintext (too many liars or missing parties)."""


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


def open_value(y: int, n: int, t: int) -> int:
    """The plaintext of an opened value Y, or ReconstructionError when Y is not of the
    shape an honest opening has (integer range, noise far below delta)."""
    sets = comb(n, t)
    v = F.lift(y)
    low = -(KEY_DIMENSION + 1) * _Q
    high = (sets << (WRAP_BITS + 128)) + _Q
    if not low <= v <= high:
        raise ReconstructionError("opened value out of range: inconsistent shares")
    phase = v % _Q
    m = ((phase + (1 << (DELTA_LOG2 - 1))) >> DELTA_LOG2) % PLAINTEXT_MODULUS
    residue = (phase - (m << DELTA_LOG2) + _Q // 2) % _Q - _Q // 2
    if abs(residue) > (sets << NOISE_BITS) + (1 << SQUASH_NOISE_LOG2):
        raise ReconstructionError("opened value has noise beyond the budget")
    return m


def combine(shares: dict[int, int], n: int, t: int) -> tuple[int, list[int]]:
    """(plaintext in [0, 16), indices of parties whose share was wrong) from up to n
    partial decryptions; corrects up to t faults (wrong or missing), refuses beyond."""
    if any(not 1 <= j <= n for j in shares):
        raise ReconstructionError("share from an unknown party")
    try:
        y, wrong = rs.decode_secret(shares, t)
    except rs.DecodingError as exc:
        raise ReconstructionError(str(exc)) from None
    return open_value(y, n, t), wrong
