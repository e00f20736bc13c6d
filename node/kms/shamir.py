"""Shamir secret sharing over F_p (degree t, party i holds f(i), i = 1..n)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from fhevm.client import field as F


def share(secret: int, n: int, t: int) -> list[int]:
    """Shares f(1..n) of a random degree-t polynomial with f(0) = secret."""
    coeffs = [secret % F.P] + [secrets.randbelow(F.P) for _ in range(t)]
    return [F.evaluate(coeffs, i) for i in range(1, n + 1)]


def share_vector(values: Sequence[int], n: int, t: int) -> list[list[int]]:
    """Shares of each value: out[party - 1][i] is party's share of values[i]."""
    out: list[list[int]] = [[] for _ in range(n)]
    for v in values:
        for j, s in enumerate(share(v, n, t)):
            out[j].append(s)
    return out


def reconstruct(shares: dict[int, int]) -> int:
    """f(0) from shares {party index: share} (no error correction: see rs)."""
    xs = sorted(shares)
    return sum(c * shares[x] for c, x in zip(F.lagrange_at_zero(xs), xs, strict=True)) % F.P
