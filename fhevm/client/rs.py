"""Reed-Solomon decoding of Shamir shares (Gao's algorithm) with refusal beyond t errors.

Shares y_i = f(x_i) of a polynomial of degree <= t form a Reed-Solomon codeword of
dimension k = t + 1. With m received shares, Gao's decoder corrects e errors whenever
2e < m - t (so n = 3t + 1 parties tolerate t liars, or t - d liars when d are down). When
there are more errors it either fails or (rarely) finds another polynomial; we then insist
that the result agrees with all but at most floor((m - t - 1) / 2) shares, which is the
unique-decoding radius, and refuse otherwise. Beyond that radius a coordinated coalition of
more than t parties can always forge a consistent codeword: that is outside n >= 3t + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import field as F


class DecodingError(ValueError):
    """Too many wrong or missing shares to decode with certainty."""


def _partial_gcd(g0: F.Poly, g1: F.Poly, stop: int) -> tuple[F.Poly, F.Poly]:
    """Extended Euclid on (g0, g1) until deg(r) < stop: returns (r, v) with r = u g0 + v g1."""
    r0, r1 = g0, g1
    v0: F.Poly = []
    v1: F.Poly = [1]
    while F.deg(r1) >= stop:
        q, r = F.divmod_poly(r0, r1)
        r0, r1 = r1, r
        v0, v1 = v1, F.sub(v0, F.mul(q, v1))
    return r1, v1


def decode(xs: Sequence[int], ys: Sequence[int], t: int) -> F.Poly:
    """The polynomial of degree <= t that all but at most (m - t - 1) // 2 shares lie on."""
    m = len(xs)
    if len(set(xs)) != m or len(ys) != m:
        raise DecodingError("duplicate or mismatched share indices")
    if m < t + 1:
        raise DecodingError(f"{m} shares cannot determine a degree-{t} polynomial")
    k = t + 1
    g0: F.Poly = [1]
    for x in xs:
        g0 = F.mul(g0, [(-x) % F.P, 1])
    g1 = F.interpolate(xs, [y % F.P for y in ys])
    g, v = _partial_gcd(g0, g1, (m + k + 1) // 2)  # stop once deg < (m + k) / 2
    if not v:
        raise DecodingError("no error locator")
    f, rem = F.divmod_poly(g, v)
    if rem or F.deg(f) >= k:
        raise DecodingError("too many wrong shares to correct")
    wrong = sum(1 for x, y in zip(xs, ys, strict=True) if F.evaluate(f, x) != y % F.P)
    if 2 * wrong > m - k:
        raise DecodingError("too many wrong shares to correct")
    return f


def decode_secret(shares: dict[int, int], t: int) -> tuple[int, list[int]]:
    """f(0) from {x: y} shares and the indices whose shares were wrong."""
    xs = sorted(shares)
    f = decode(xs, [shares[x] for x in xs], t)
    wrong = [x for x in xs if F.evaluate(f, x) != shares[x] % F.P]
    return F.evaluate(f, 0), wrong
