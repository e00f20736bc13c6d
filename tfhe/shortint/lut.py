"""Lookup tables: the test polynomial that a blind rotation turns into f(m).

With p = message_modulus * carry_modulus and N coefficients, input m owns a box of N/p
coefficients. The table holds f(m) * delta in box m, rotated back by half a box so that
noise of either sign rounds to the right box; the negacyclic wrap of the last half box is
what the padding bit pays for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..params import Parameters


@dataclass(frozen=True, eq=False)
class LookupTable:
    poly: np.ndarray  # (N,) uint64
    degree: int  # largest output value


@dataclass(frozen=True, eq=False)
class ManyLookupTable:
    """Several functions evaluated by one blind rotation (inputs below p / count)."""

    poly: np.ndarray
    degrees: tuple[int, ...]
    input_bound: int  # inputs must be < input_bound
    stride: int  # coefficients between the functions

    @property
    def count(self) -> int:
        return len(self.degrees)


def _box_values_to_poly(params: Parameters, values: np.ndarray) -> np.ndarray:
    """Fill box-valued coefficients (length N, already scaled) and rotate by half a box."""
    n = params.polynomial_size
    half_box = n // params.total_modulus // 2
    poly = np.empty(n, dtype=np.uint64)
    poly[: n - half_box] = values[half_box:]
    poly[n - half_box:] = np.uint64(0) - values[:half_box]
    return poly


def _table_poly(params: Parameters, outs: Sequence[int]) -> np.ndarray:
    """The test polynomial of box values already on the torus (modulo 2^64), one per box."""
    box = params.polynomial_size // params.total_modulus
    return _box_values_to_poly(params, np.repeat(np.array(outs, dtype=np.uint64), box))


def _check_outputs(params: Parameters, outs: Sequence[int]) -> None:
    p = params.total_modulus
    if any(not 0 <= v < p for v in outs):
        raise ValueError(f"lookup table outputs must be in [0, {p})")


def lookup_table(params: Parameters, f: Callable[[int], int]) -> LookupTable:
    """Univariate table over the whole block space [0, message * carry)."""
    p = params.total_modulus
    outs = [int(f(m)) % p for m in range(p)]
    return LookupTable(_table_poly(params, [v << params.delta_log2 for v in outs]), max(outs))


def signed_lookup_table(params: Parameters, f: Callable[[int], int],
                        half: bool = False) -> LookupTable:
    """Table over [0, p) whose outputs may be negative: f(m) * delta modulo 2^64 (with
    half=True, f(m) * delta / 2). An input with the padding bit set, m + p, reads -f(m) (the
    negacyclic half of the rotation), so a sum of signed values in (-p, p) can be
    bootstrapped as it is, by any f whose negacyclic extension is the function wanted.
    The output's degree is meaningless for the usual checks: it is reported as p - 1."""
    p = params.total_modulus
    unit = 1 << (params.delta_log2 - (1 if half else 0))
    outs = [(int(f(m)) * unit) % (1 << 64) for m in range(p)]
    return LookupTable(_table_poly(params, outs), p - 1)


def many_lookup_table(params: Parameters, fs: Sequence[Callable[[int], int]]) -> ManyLookupTable:
    """Pack len(fs) functions of inputs in [0, p / len(fs)) into one table."""
    p = params.total_modulus
    count = len(fs)
    if count < 1 or p % count or count & (count - 1):
        raise ValueError("the number of functions must be a power of two dividing p")
    bound = p // count
    outs = [[int(f(m)) % p for m in range(bound)] for f in fs]
    return ManyLookupTable(
        _table_poly(params, [v << params.delta_log2 for row in outs for v in row]),
        tuple(max(row) for row in outs),
        bound,
        params.polynomial_size // count,
    )
