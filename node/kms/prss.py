"""Pseudo-random secret sharing (Cramer-Damgaard-Ishai) of bounded integers.

For every set A of n - t parties the dealer draws a 32-byte key K_A, given to the members
of A only. f_A is the degree-t polynomial with f_A(0) = 1 and f_A(j) = 0 for each of the t
parties j outside A. For a counter c, psi_A(c) is a pseudo-random integer derived from K_A
and c, and party j's share of r(c) = sum_A psi_A(c) is sum_{A containing j} psi_A(c) f_A(j):
a degree-t Shamir sharing of r(c) that needs no interaction. Any t parties miss the key of
at least one set, so r(c) stays hidden from them. Counters are (session id, item index) and
a party never evaluates the same counter twice (threshold and party enforce it).

Two streams per counter: a flooding noise E, each psi uniform in [-2^b, 2^b], and a
wrap mask R, each psi uniform in [0, 2^w), shared as R * 2^128 (see threshold).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass

from fhevm.client import field as F


def party_sets(n: int, t: int) -> list[tuple[int, ...]]:
    """All sets of n - t parties (1-based), in a fixed order."""
    return list(itertools.combinations(range(1, n + 1), n - t))


def set_polynomial_at(members: tuple[int, ...], n: int, j: int) -> int:
    """f_A(j): f_A(0) = 1, f_A(i) = 0 for i outside A, degree t."""
    outside = [i for i in range(1, n + 1) if i not in members]
    num, den = 1, 1
    for i in outside:
        num = num * (j - i) % F.P
        den = den * (0 - i) % F.P
    return num * F.inv(den) % F.P


def deal_keys(n: int, t: int) -> dict[tuple[int, ...], bytes]:
    """One fresh key per set of n - t parties."""
    return {a: secrets.token_bytes(32) for a in party_sets(n, t)}


def _psi(key: bytes, label: bytes, counter: bytes, bits: int) -> int:
    """A pseudo-random integer in [0, 2^bits) from BLAKE2b keyed by K_A (a PRF)."""
    out = b""
    block = 0
    while 8 * len(out) < bits:
        out += hashlib.blake2b(label + counter + block.to_bytes(4, "big"), key=key,
                               digest_size=64).digest()
        block += 1
    return int.from_bytes(out, "big") >> (8 * len(out) - bits)


@dataclass(frozen=True)
class PrssParty:
    """What party j knows: its index and the keys of the sets it belongs to."""

    index: int
    n: int
    t: int
    keys: dict[tuple[int, ...], bytes]

    def __repr__(self) -> str:  # never print keys
        return f"PrssParty({self.index}, n={self.n}, t={self.t}, <{len(self.keys)} keys>)"

    def __post_init__(self) -> None:
        if any(self.index not in a for a in self.keys):
            raise ValueError("a party holds only the keys of sets it belongs to")

    def flood_share(self, counter: bytes, noise_bits: int, wrap_bits: int) -> int:
        """This party's share of E + 2^128 R for the counter."""
        total = 0
        for members, key in self.keys.items():
            e = _psi(key, b"flood", counter, noise_bits + 2) % ((1 << (noise_bits + 1)) + 1)
            e -= 1 << noise_bits  # uniform in [-2^b, 2^b] (bias 2^-b from the modulo)
            r = _psi(key, b"wrap", counter, wrap_bits)
            total += (e + (r << 128)) * set_polynomial_at(members, self.n, self.index)
        return total % F.P

    def open_secret(self, counter: bytes, noise_bits: int, wrap_bits: int) -> tuple[int, int]:
        """(sum of psi_E, sum of psi_R) over this party's own sets (tests only: a real
        opening needs every set, which no t parties can compute)."""
        e_sum = r_sum = 0
        for key in self.keys.values():
            e = _psi(key, b"flood", counter, noise_bits + 2) % ((1 << (noise_bits + 1)) + 1)
            e_sum += e - (1 << noise_bits)
            r_sum += _psi(key, b"wrap", counter, wrap_bits)
        return e_sum, r_sum


def party_view(all_keys: dict[tuple[int, ...], bytes], index: int, n: int,
               t: int) -> PrssParty:
    return PrssParty(index, n, t, {a: k for a, k in all_keys.items() if index in a})
