"""Server side of shortint: leveled operations, lookup tables, automatic cleaning.

Leveled operations (additions, scalar additions and multiplications, negation) only
touch the LWE vectors and update the public degree and noise level. When an operation
would let the plaintext reach the padding bit or the noise pass `max_noise_level`, the
operands are first cleaned by a bootstrap (the "smart" behaviour of tfhe-rs). Every
bootstrap goes through `apply_lookup_tables`, one batch over all cores, and is counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numba
import numpy as np

from ..core import bootstrap
from ..keys import ServerKey
from .ciphertext import NOMINAL_NOISE, ZERO_NOISE, Ciphertext
from .lut import (
    LookupTable,
    ManyLookupTable,
    lookup_table,
    many_lookup_table,
    signed_lookup_table,
)


class ShortintServerKey:
    @property
    def pbs_count(self) -> int:
        """Bootstraps run so far, by every thread (cost accounting)."""
        return self._pbs_count

    def count_bootstraps(self, n: int) -> None:
        """Add n to `pbs_count` (negative: take back work that was not an operation's)."""
        with self._count_lock:
            self._pbs_count += n

    def __init__(self, key: ServerKey) -> None:
        self.key = key
        self.params = key.params
        self._pbs_count = 0  # bootstraps run so far (for cost accounting)
        self._count_lock = threading.Lock()  # operations may run on several threads
        p = self.params
        self._identity = self.lookup_table(lambda m: m)
        self._message = self.lookup_table(lambda m: m % p.message_modulus)
        self._carry = self.lookup_table(lambda m: m // p.message_modulus)

    def __repr__(self) -> str:
        return f"ShortintServerKey({self.params.name})"

    # -- tables -------------------------------------------------------------------------------
    def lookup_table(self, f: Callable[[int], int]) -> LookupTable:
        return lookup_table(self.params, f)

    def signed_lookup_table(self, f: Callable[[int], int], half: bool = False) -> LookupTable:
        return signed_lookup_table(self.params, f, half)

    def bivariate_lookup_table(self, f: Callable[[int, int], int]) -> LookupTable:
        """Table of f(x, y) over x, y < message_modulus, read from x * message_modulus + y."""
        m = self.params.message_modulus
        return lookup_table(self.params, lambda v: f(v // m, v % m))

    def many_lookup_table(self, fs: Sequence[Callable[[int], int]]) -> ManyLookupTable:
        return many_lookup_table(self.params, fs)

    # -- bootstraps ---------------------------------------------------------------------------
    def apply_lookup_tables(self, cts: Sequence[Ciphertext],
                            luts: Sequence[LookupTable] | LookupTable) -> list[Ciphertext]:
        """One batch: every ciphertext through its table, all cores busy."""
        if isinstance(luts, LookupTable):
            luts = [luts] * len(cts)
        if len(luts) != len(cts):
            raise ValueError("one lookup table per ciphertext")
        if not cts:
            return []
        data = np.stack([c.data for c in cts])
        unique: dict[int, int] = {}
        index = np.empty(len(cts), dtype=np.int64)
        for i, lut in enumerate(luts):
            index[i] = unique.setdefault(id(lut), len(unique))
        by_id = {id(lut): lut for lut in luts}
        tables = np.stack([by_id[k].poly for k in unique])
        out = self.pbs_arrays(data, index, tables)
        return [Ciphertext(out[i], luts[i].degree, NOMINAL_NOISE) for i in range(len(cts))]

    def apply_lookup_table(self, ct: Ciphertext, lut: LookupTable) -> Ciphertext:
        return self.apply_lookup_tables([ct], [lut])[0]

    def apply_many_lookup_table(self, cts: Sequence[Ciphertext],
                                lut: ManyLookupTable) -> list[list[Ciphertext]]:
        """For each ciphertext, the list [f_0(m), f_1(m), ...] from a single bootstrap."""
        return self.apply_many_lookup_tables(cts, [lut] * len(cts))

    def apply_many_lookup_tables(self, cts: Sequence[Ciphertext],
                                 luts: Sequence[ManyLookupTable]) -> list[list[Ciphertext]]:
        """One batch, a many-function table per ciphertext (all with the same count)."""
        if len(luts) != len(cts):
            raise ValueError("one many-function table per ciphertext")
        if not cts:
            return []
        if len({lut.count for lut in luts}) != 1:
            raise ValueError("many-function tables of one batch must hold as many functions")
        for c, lut in zip(cts, luts, strict=True):
            if c.degree >= lut.input_bound:
                raise ValueError("input degree too large for a many-function table")
        k = self.key
        p = self.params
        unique: dict[int, int] = {}
        index = np.array([unique.setdefault(id(lut), len(unique)) for lut in luts],
                         dtype=np.int64)
        by_id = {id(lut): lut for lut in luts}
        tables = np.stack([by_id[i].poly for i in unique])
        count, stride = luts[0].count, luts[0].stride
        data = np.stack([c.data for c in cts])
        out = np.empty((len(cts), count, data.shape[1]), dtype=np.uint64)
        chunk = bootstrap.choose_chunk(len(cts), numba.get_num_threads())
        bootstrap.ks_pbs_many_batch(
            data, index, tables, k.ksk, p.ks_base_log, p.ks_level, k.bsk, k.plan,
            p.pbs_base_log, p.pbs_level, chunk, stride, count, out)
        self.count_bootstraps(len(cts))
        return [[Ciphertext(out[i, j], luts[i].degrees[j], NOMINAL_NOISE) for j in range(count)]
                for i in range(len(cts))]

    def pbs_arrays(self, data: np.ndarray, lut_index: np.ndarray,
                   tables: np.ndarray) -> np.ndarray:
        """Raw batch KS-PBS on arrays: data (B, kN+1), lut_index (B,), tables (L, N)."""
        k = self.key
        p = self.params
        out = np.empty_like(data)
        chunk = bootstrap.choose_chunk(data.shape[0], numba.get_num_threads())
        bootstrap.ks_pbs_batch(np.ascontiguousarray(data), lut_index, np.ascontiguousarray(tables),
                               k.ksk, p.ks_base_log, p.ks_level, k.bsk, k.plan,
                               p.pbs_base_log, p.pbs_level, chunk, out)
        self.count_bootstraps(data.shape[0])
        return out

    def clean(self, cts: Sequence[Ciphertext]) -> list[Ciphertext]:
        """Reset noise to nominal, keeping message and carry."""
        return self.apply_lookup_tables(cts, self._identity)

    def message_extract(self, cts: Sequence[Ciphertext]) -> list[Ciphertext]:
        return self.apply_lookup_tables(cts, self._message)

    def carry_extract(self, cts: Sequence[Ciphertext]) -> list[Ciphertext]:
        return self.apply_lookup_tables(cts, self._carry)

    # -- leveled operations -------------------------------------------------------------------
    def trivial(self, value: int) -> Ciphertext:
        """A noiseless encryption of a public value (mask zero)."""
        p = self.params
        if not 0 <= value < p.total_modulus:
            raise ValueError("value outside the block's plaintext space")
        data = np.zeros(p.big_lwe_dimension + 1, dtype=np.uint64)
        data[-1] = np.uint64(value) << np.uint64(p.delta_log2)
        return Ciphertext(data, value, ZERO_NOISE)

    def _fits(self, degree: int, noise: int) -> bool:
        p = self.params
        return degree < p.total_modulus and noise <= p.max_noise_level

    def unchecked_add(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        return Ciphertext(a.data + b.data, a.degree + b.degree, a.noise_level + b.noise_level)

    def add(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        """a + b, cleaning carries first when the sum could overflow the block."""
        if not self._fits(a.degree + b.degree, a.noise_level + b.noise_level):
            a, b = self.message_extract([a, b])
        return self.unchecked_add(a, b)

    def unchecked_scalar_add(self, a: Ciphertext, scalar: int) -> Ciphertext:
        p = self.params
        scalar %= p.total_modulus
        data = a.data.copy()
        data[-1:] += np.uint64(scalar) << np.uint64(p.delta_log2)
        return Ciphertext(data, a.degree + scalar, a.noise_level)

    def scalar_add(self, a: Ciphertext, scalar: int) -> Ciphertext:
        scalar %= self.params.message_modulus
        if not self._fits(a.degree + scalar, a.noise_level):
            (a,) = self.message_extract([a])
        return self.unchecked_scalar_add(a, scalar)

    def unchecked_scalar_mul(self, a: Ciphertext, scalar: int) -> Ciphertext:
        if scalar < 0:
            raise ValueError("scalar multiplication by a non-negative integer")
        return Ciphertext(a.data * np.uint64(scalar), a.degree * scalar, a.noise_level * scalar)

    def scalar_mul(self, a: Ciphertext, scalar: int) -> Ciphertext:
        scalar %= self.params.message_modulus
        if not self._fits(a.degree * scalar, a.noise_level * scalar):
            (a,) = self.message_extract([a])
            if not self._fits(a.degree * scalar, a.noise_level * scalar):
                m = self.params.message_modulus
                return self.apply_lookup_table(a, self.lookup_table(lambda v: v * scalar % m))
        return self.unchecked_scalar_mul(a, scalar)

    def unchecked_neg(self, a: Ciphertext) -> Ciphertext:
        """-a plus the smallest multiple z of message_modulus >= degree, so it stays >= 0.

        The block then holds z - a: the same value modulo message_modulus, with a carry.
        """
        m = self.params.message_modulus
        z = max(m, -(-a.degree // m) * m)
        data = np.uint64(0) - a.data
        data[-1:] += np.uint64(z) << np.uint64(self.params.delta_log2)
        return Ciphertext(data, z, a.noise_level)

    def sub(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        """a - b modulo message_modulus (with a carry to clean later)."""
        neg = self.unchecked_neg(b)
        if not self._fits(a.degree + neg.degree, a.noise_level + neg.noise_level):
            a, b = self.message_extract([a, b])
            neg = self.unchecked_neg(b)
        return self.unchecked_add(a, neg)

    def bivariate(self, a: Ciphertext, b: Ciphertext, lut: LookupTable) -> Ciphertext:
        return self.bivariate_batch([(a, b)], [lut])[0]

    def bivariate_batch(self, pairs: Sequence[tuple[Ciphertext, Ciphertext]],
                        luts: Sequence[LookupTable]) -> list[Ciphertext]:
        """f(a, b) for each pair through one bootstrap of a * message_modulus + b."""
        p = self.params
        m = p.message_modulus
        dirty: dict[int, Ciphertext] = {}
        for a, b in pairs:
            too_noisy = a.noise_level * m + b.noise_level > p.max_noise_level
            for x in (a, b):
                if x.degree >= m or too_noisy:
                    dirty[id(x)] = x
        cleaned = dict(zip(dirty, self.message_extract(list(dirty.values())), strict=True))
        packed = []
        for a, b in pairs:
            a = cleaned.get(id(a), a)
            b = cleaned.get(id(b), b)
            packed.append(self.unchecked_add(self.unchecked_scalar_mul(a, m), b))
        return self.apply_lookup_tables(packed, luts)
