"""Arithmetic in the prime field F_p, p = 2^256 - 189, and polynomials over it: the field of
the threshold KMS (node.kms shares and decrypts in it, fhevm.client.rs decodes in it).

Why a prime field and not the Galois ring Z_{2^128}[X]/(F) of Zama's KMS: interpolation
and Reed-Solomon decoding (Gao) are textbook over a field, and Python integers make F_p
cheap. The price is that F_p does not wrap at 2^128: the reconstructed value is the
integer b - <a, s> + E, which would reveal the wrap count floor(<a, s> / 2^128); the parties
therefore also add a PRSS-shared multiple R * 2^128 (see node.kms.threshold). p is large enough
that every honest opening (|value| < 2^200) lifts back to an integer without wrapping.
"""

from __future__ import annotations

from collections.abc import Sequence

P = (1 << 256) - 189  # the largest prime below 2^256
HALF = P // 2

Poly = list[int]  # coefficients, lowest degree first, no trailing zeros (zero poly = [])


def inv(x: int) -> int:
    x %= P
    if x == 0:
        raise ZeroDivisionError("inverse of zero in F_p")
    return pow(x, P - 2, P)


def lift(x: int) -> int:
    """The representative of x in (-p/2, p/2]: the integer an honest opening stands for."""
    x %= P
    return x - P if x > HALF else x


def trim(a: Poly) -> Poly:
    while a and a[-1] == 0:
        a.pop()
    return a


def deg(a: Poly) -> int:
    return len(a) - 1  # -1 for the zero polynomial


def add(a: Poly, b: Poly) -> Poly:
    out = [0] * max(len(a), len(b))
    for i, v in enumerate(a):
        out[i] = v
    for i, v in enumerate(b):
        out[i] = (out[i] + v) % P
    return trim(out)


def sub(a: Poly, b: Poly) -> Poly:
    return add(a, [(-v) % P for v in b])


def mul(a: Poly, b: Poly) -> Poly:
    if not a or not b:
        return []
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return trim([v % P for v in out])


def divmod_poly(a: Poly, b: Poly) -> tuple[Poly, Poly]:
    if not b:
        raise ZeroDivisionError("polynomial division by zero")
    a = list(a)
    q = [0] * max(0, len(a) - len(b) + 1)
    lead = inv(b[-1])
    while len(trim(a)) >= len(b):
        shift = len(a) - len(b)
        c = a[-1] * lead % P
        q[shift] = c
        for i, v in enumerate(b):
            a[i + shift] = (a[i + shift] - c * v) % P
    return trim(q), trim(a)


def evaluate(a: Poly, x: int) -> int:
    acc = 0
    for c in reversed(a):
        acc = (acc * x + c) % P
    return acc


def interpolate(xs: Sequence[int], ys: Sequence[int]) -> Poly:
    """The polynomial of degree < len(xs) through the points (Lagrange)."""
    out: Poly = []
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        num: Poly = [1]
        den = 1
        for j, xj in enumerate(xs):
            if j != i:
                num = mul(num, [(-xj) % P, 1])
                den = den * (xi - xj) % P
        out = add(out, [c * yi % P * inv(den) % P for c in num])
    return out


def lagrange_at_zero(xs: Sequence[int]) -> list[int]:
    """Coefficients l_i with f(0) = sum l_i f(x_i) for deg f < len(xs)."""
    out = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = num * (-xj) % P
                den = den * (xi - xj) % P
        out.append(num * inv(den) % P)
    return out
