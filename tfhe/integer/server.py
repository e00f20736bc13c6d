"""Server side of the integer layer: every operation of the Solidity library on radix integers.

Each circuit is issued level by level: all the bootstraps of one level go to the shortint
batch API in a single call, so every core is busy. The algorithms follow tfhe-rs in spirit:

* carries, three algorithms, the cheapest for this machine chosen by a measured cost model:
  "sequential" (one two-function bootstrap per block: message and carry; depth n);
  "grouped" (blocks in triples: 3 bootstraps per block in six batches for 32 blocks, see
  `_propagate_grouped`); "parallel" (each block's generate/propagate state as a weighted
  digit, the sum of three neighbours read through one table gives a group's state or a
  carry: a radix-3 prefix tree, about 3.3 bootstraps per block). `add_sub_many` runs
  independent additions together (sequential chains in lockstep);
* comparisons: sign(a_j - b_j) per block from the leveled difference, then a tree of
  fan-in four on signed signs weighted 1, 2, 4, 8, negative sums bootstrapped through the
  negacyclic half of the table (see `_compare`);
* equality and other reductions: sums of up to five bits through one table per level;
* select: one table per block on 2 * (a - b + 3) + c;
* multiplication: block products (low and high digits), column sums reduced five at a time;
* division: restoring long division on a shifted divisor, restricted to the blocks that can
  change, with the overflow of the shifted divisor folded into the borrow;
* encrypted shift amounts: a barrel shifter, one two-function bootstrap per block per stage.

All results keep degree <= 3 per block; noise levels are tracked and blocks are cleaned only
when an operation needs them cleaner.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np

from ..core import oprf
from ..keys import ServerKey
from ..shortint import Ciphertext, LookupTable, ManyLookupTable, ShortintServerKey
from .ciphertext import RadixCiphertext, blocks_for_bits

Operand = RadixCiphertext | int

_CMP_LT, _CMP_EQ, _CMP_GT = 0, 1, 2
_PREDICATES: dict[str, Callable[[int], bool]] = {
    "lt": lambda c: c == _CMP_LT,
    "le": lambda c: c != _CMP_GT,
    "gt": lambda c: c == _CMP_GT,
    "ge": lambda c: c != _CMP_LT,
}


def _cmp(x: int, y: int) -> int:
    return _CMP_LT if x < y else (_CMP_EQ if x == y else _CMP_GT)


def _carries_plan(m: int) -> list[int]:
    """Batch sizes of `IntegerServerKey._carries` on m states (mirrors its recursion)."""
    if m == 0:
        return []
    groups = -(-m // 3)
    if groups == 1:
        return [m]
    return ([groups - 1 + 2] + _carries_plan(groups - 1)
            + [2 * (groups - 2) + m - 3 * (groups - 1)])


def carry_plans(n: int, carry_out: bool = False) -> dict[str, list[int]]:
    """Batch sizes, in order, of each carry propagation over n blocks."""
    k = -(-n // 3)  # triples
    sig = n // 3  # full triples
    ns = n if carry_out else n - 1
    return {
        "sequential": [1] * n,
        "grouped": [b for b in [n, sig + k - 1, *_carries_plan(k - 1), n - 1 + carry_out] if b],
        "parallel": [b for b in [ns + 1, *_carries_plan(ns), n - 1] if b],
    }


def _cmp_chunks(size: int) -> list[int]:
    """Sizes of consecutive groups of at most four (a lone one only when size is 1)."""
    q, r = divmod(size, 4)
    if r == 1 and q:
        return [4] * (q - 1) + [3, 2]
    return [4] * q + ([r] if r else [])


def compare_tree_plan(n: int) -> list[int]:
    """Batch sizes of the comparison's sign tree on n blocks."""
    sizes = [n]
    while n > 1:
        n = len(_cmp_chunks(n))
        sizes.append(n)
    return sizes


class CostModel:
    """Latency of a batch of bootstraps, measured on this machine, to choose algorithms.

    A batch of B goes out in chunks of c = min(8, ceil(B / threads)) ciphertexts run in
    lockstep, shared out among the threads; a chunk costs about a + b * c. The two
    constants come from timing one bootstrap and one full batch (8 per thread) once, on
    first use (about 9 bootstraps per thread), or are given. The single-ciphertext path and
    the batched path of the engine change speed independently, so nothing is hard-coded.
    """

    def __init__(self, single_s: float | None = None, chunk8_s: float | None = None,
                 threads: int | None = None) -> None:
        self.single_s = single_s
        self.chunk8_s = chunk8_s
        self.threads = threads

    def calibrate(self, shortint: ShortintServerKey) -> None:
        """Time one bootstrap and a batch of 8 per thread (best of three each)."""
        threads = self.threads or numba.get_num_threads()
        # a public dummy input (not an encryption of anything): a nonzero mask so that no
        # rotation step is skipped, as it would be for a trivial ciphertext
        ct = shortint.unchecked_scalar_add(shortint.trivial(0), 1)
        ct.data[:-1] = np.arange(1, ct.data.size, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        lut = shortint.lookup_table(lambda m: m)
        shortint.apply_lookup_tables([ct], lut)  # compiled and warm

        def timed(count: int) -> float:
            t0 = time.perf_counter()
            shortint.apply_lookup_tables([ct] * count, lut)
            return time.perf_counter() - t0

        # best of three, interleaved: a few slow seconds of a shared machine (another
        # tenant on the second core) should not set the algorithms of the whole process
        runs = [(timed(1), timed(8 * threads)) for _ in range(3)]
        self.single_s = min(r[0] for r in runs)
        self.chunk8_s = min(r[1] for r in runs)
        self.threads = threads
        shortint.count_bootstraps(-(1 + 3 * (1 + 8 * threads)))  # not an operation's cost

    def ready(self) -> bool:
        return self.single_s is not None and self.chunk8_s is not None

    def batch_s(self, size: int) -> float:
        """Estimated seconds for one batch of `size` bootstraps."""
        if size <= 0:
            return 0.0
        threads = self.threads or numba.get_num_threads()
        per = max(0.0, (self.chunk8_s - self.single_s) / 7)  # type: ignore[operator]
        fixed = self.single_s - per  # type: ignore[operator]
        chunk = min(8, -(-size // threads))
        full, rest = divmod(size, chunk)
        work = full * (fixed + per * chunk) + (fixed + per * rest if rest else 0.0)
        return max(work / threads, fixed + per * chunk)  # balanced, at least one chunk

    def plan_s(self, sizes: Sequence[int]) -> float:
        return sum(self.batch_s(b) for b in sizes)

    def choose_carry(self, n: int, carry_out: bool = False) -> str:
        plans = carry_plans(n, carry_out)
        return min(plans, key=lambda k: self.plan_s(plans[k]))


_COST_MODELS: dict[str, CostModel] = {}
# operations may run from several threads at once (fhevm evaluates a block's operations
# as a graph): the first to need the model times it, the others wait for it
_COST_MODELS_LOCK = threading.Lock()


class IntegerServerKey:
    """Evaluates integer operations with the (public) server key.

    `carry` chooses the carry propagation: "grouped" (3 bootstraps per block, 6 batches
    for euint64), "parallel" (prefix tree, ~3.3 bootstraps per block, depth ~7),
    "sequential" (one two-function bootstrap per block, depth = number of blocks) or "auto":
    the one whose batches the `CostModel` (timed on this machine on first use, or given)
    prices lowest. The grouped tree does three times the sequential chain's work, so it
    wins only where a single bootstrap is slower than about 1.5 bootstraps' worth of a
    full batch per core (e.g. 71 ms vs 31 ms); with a fast single-ciphertext path the
    chain wins.
    """

    def __init__(self, key: ServerKey | ShortintServerKey, compression_key=None,
                 carry: str = "auto", cost_model: CostModel | None = None) -> None:
        self.shortint = key if isinstance(key, ShortintServerKey) else ShortintServerKey(key)
        self.params = self.shortint.params
        p = self.params
        if p.message_modulus != 4 or p.carry_modulus != 4:
            raise ValueError("the integer layer needs 2-bit message / 2-bit carry blocks")
        if carry not in ("parallel", "sequential", "grouped", "auto"):
            raise ValueError("carry must be 'grouped', 'parallel', 'sequential' or 'auto'")
        self.carry_mode = carry
        self._cost_model = cost_model
        self.compression_key = compression_key
        self._luts: dict[object, LookupTable | ManyLookupTable] = {}
        self._delta = np.uint64(1) << np.uint64(p.delta_log2)
        self._msg_lut = self._lut("msg", lambda x: x % 4)
        self._oprf: tuple | None = None

    def __repr__(self) -> str:
        return f"IntegerServerKey({self.params.name})"

    @property
    def cost_model(self) -> CostModel:
        """The measured batch costs ("auto" choices); timed once per parameter set."""
        if self._cost_model is None:
            with _COST_MODELS_LOCK:
                model = _COST_MODELS.get(self.params.name)
                if model is None or model.threads != numba.get_num_threads():
                    model = CostModel()
                    model.calibrate(self.shortint)
                    _COST_MODELS[self.params.name] = model
            self._cost_model = model
        return self._cost_model

    @property
    def pbs_count(self) -> int:
        """Bootstraps run so far (all operations)."""
        return self.shortint.pbs_count

    # == plumbing ===============================================================================
    def _cached(self, key: object, make: Callable[[], LookupTable | ManyLookupTable]) -> Any:
        lut = self._luts.get(key)
        if lut is None:
            lut = self._luts[key] = make()
        return lut

    def _lut(self, key: object, f: Callable[[int], int]) -> LookupTable:
        return self._cached(key, lambda: self.shortint.lookup_table(f))

    def _blut(self, key: object, f: Callable[[int, int], int]) -> LookupTable:
        return self._cached(key, lambda: self.shortint.bivariate_lookup_table(f))

    def _slut(self, key: object, f: Callable[[int], int], half: bool = False) -> LookupTable:
        """Signed table (shortint.signed_lookup_table)."""
        return self._cached((key, half), lambda: self.shortint.signed_lookup_table(f, half))

    def _mlut(self, key: object, fs: Sequence[Callable[[int], int]]) -> ManyLookupTable:
        return self._cached(key, lambda: self.shortint.many_lookup_table(fs))

    def _pbs(self, cts: Sequence[Ciphertext], luts: Sequence[LookupTable]) -> list[Ciphertext]:
        return self.shortint.apply_lookup_tables(list(cts), list(luts))

    def _bivariate(self, pairs: Sequence[tuple[Ciphertext, Ciphertext]],
                   luts: Sequence[LookupTable]) -> list[Ciphertext]:
        if not pairs:
            return []
        return self.shortint.bivariate_batch(list(pairs), list(luts))

    def _trivial(self, value: int) -> Ciphertext:
        return self.shortint.trivial(value)

    def _check(self, *cts: RadixCiphertext) -> None:
        dim = self.params.big_lwe_dimension + 1
        for ct in cts:
            if not isinstance(ct, RadixCiphertext):
                raise TypeError(f"expected a RadixCiphertext, got {type(ct).__name__}")
            if any(b.data.shape != (dim,) for b in ct.blocks):
                raise ValueError(f"ciphertext is not from this server key's parameter set "
                                 f"({self.params.name})")

    def _same_width(self, a: RadixCiphertext, b: RadixCiphertext) -> None:
        self._check(a, b)
        if a.bits != b.bits:
            raise ValueError(f"mismatched widths: {a.bits}-bit and {b.bits}-bit operands")

    def _need_int(self, *cts: RadixCiphertext) -> None:
        for ct in cts:
            if ct.bits == 1:
                raise ValueError("arithmetic needs an integer, not an ebool")

    def _need_bool(self, ct: RadixCiphertext) -> None:
        if ct.bits != 1:
            raise ValueError(f"expected an ebool, got a {ct.bits}-bit integer")

    def _ensure(self, groups: Sequence[Sequence[Ciphertext]],
                max_noise: int) -> list[list[Ciphertext]]:
        """Clean (one batch) every block noisier than max_noise; degree stays <= 3."""
        dirty: dict[int, Ciphertext] = {}
        for g in groups:
            for b in g:
                if b.noise_level > max_noise or b.degree > 3:
                    dirty[id(b)] = b
        if not dirty:
            return [list(g) for g in groups]
        cleaned = dict(zip(dirty, self.shortint.message_extract(list(dirty.values())),
                           strict=True))
        return [[cleaned.get(id(b), b) for b in g] for g in groups]

    def _not_block(self, b: Ciphertext, top: int = 3) -> Ciphertext:
        """top - b, leveled (b's degree must be <= top)."""
        data = np.uint64(0) - b.data
        data[-1:] += np.uint64(top) * self._delta
        return Ciphertext(data, top, b.noise_level)

    def _add(self, *blocks: Ciphertext) -> Ciphertext:
        out = blocks[0]
        for b in blocks[1:]:
            out = self.shortint.unchecked_add(out, b)
        return out

    def _scalar_add_block(self, b: Ciphertext, k: int) -> Ciphertext:
        return self.shortint.unchecked_scalar_add(b, k) if k else b

    def _mul_block(self, b: Ciphertext, k: int) -> Ciphertext:
        return self.shortint.unchecked_scalar_mul(b, k)

    def _with_degree(self, b: Ciphertext, degree: int) -> Ciphertext:
        return Ciphertext(b.data, degree, b.noise_level)

    def _radix(self, blocks: list[Ciphertext], bits: int) -> RadixCiphertext:
        return RadixCiphertext(blocks, bits)

    @staticmethod
    def _digits(value: int, n: int) -> list[int]:
        return [(value >> (2 * j)) & 3 for j in range(n)]

    # == construction ============================================================================
    def trivial(self, value: int | bool, bits: int) -> RadixCiphertext:
        """A noiseless encryption of a public value (mod 2^bits)."""
        n = blocks_for_bits(bits)
        value = int(value)
        if bits == 1:
            if value not in (0, 1):
                raise ValueError("an ebool holds 0 or 1")
            return RadixCiphertext([self._trivial(value)], 1)
        value %= 1 << bits
        return RadixCiphertext([self._trivial(d) for d in self._digits(value, n)], bits)

    def clean(self, ct: RadixCiphertext) -> RadixCiphertext:
        """Bootstrap every block whose noise is above nominal."""
        self._check(ct)
        (blocks,) = self._ensure([ct.blocks], 1)
        return RadixCiphertext(blocks, ct.bits)

    # == carry propagation =======================================================================
    def _state_lut(self, shift: int) -> LookupTable:
        """Block sum -> (generate 2 / propagate 1 / none 0) << shift."""
        return self._lut(("state", shift),
                         lambda s: (2 if s >= 4 else 1 if s == 3 else 0) << shift)

    def _ge_lut(self, threshold: int) -> LookupTable:
        return self._lut(("ge", threshold), lambda x: int(x >= threshold))

    def _group_state_lut(self, size: int, shift: int) -> LookupTable:
        full = 1 << size

        def f(x: int) -> int:
            return (2 if x >= full else 1 if x == full - 1 else 0) << shift

        return self._lut(("gstate", size, shift), f)

    def _carries(self, v: list[Ciphertext]) -> list[Ciphertext]:
        """Carry-out bits c[i] of a chain of weighted states v[i] = st_i << (i % 3).

        Groups of three: within a group, sum_{r' <= r} v plus the group's carry-in is the
        sum of two (r+1)-bit numbers and its bit r+1 is the carry out of position r.
        """
        m = len(v)
        if m == 0:
            return []
        groups = [list(range(g, min(g + 3, m))) for g in range(0, m, 3)]

        def prefix(i: int, start: int) -> Ciphertext:
            return self._add(*[v[t] for t in range(start, i + 1)])

        if len(groups) == 1:
            return self._pbs([prefix(i, 0) for i in range(m)],
                             [self._ge_lut(1 << (i + 1)) for i in range(m)])
        # level A: group states (all but the last group) and group 0's inner carries
        cts: list[Ciphertext] = []
        luts: list[LookupTable] = []
        for g, grp in enumerate(groups[:-1]):
            cts.append(prefix(grp[-1], grp[0]))
            luts.append(self._group_state_lut(len(grp), g % 3))
        g0 = groups[0][:-1]
        for i in g0:
            cts.append(prefix(i, 0))
            luts.append(self._ge_lut(1 << (i + 1)))
        res = self._pbs(cts, luts)
        states = res[:len(groups) - 1]
        out: list[Ciphertext | None] = [None] * m
        for i, c in zip(g0, res[len(groups) - 1:], strict=True):
            out[i] = c
        group_carries = self._carries(states)  # carry out of groups 0 .. len-2
        cts, luts, where = [], [], []
        for g, grp in enumerate(groups):
            last = g == len(groups) - 1
            for i in grp:
                r = i - grp[0]
                if not last and i == grp[-1]:
                    out[i] = group_carries[g]
                    continue
                if g == 0:
                    continue
                cts.append(self._add(prefix(i, grp[0]), group_carries[g - 1]))
                luts.append(self._ge_lut(1 << (r + 1)))
                where.append(i)
        for i, c in zip(where, self._pbs(cts, luts), strict=True):
            out[i] = c
        return out  # type: ignore[return-value]

    def _propagate(self, sums: list[Ciphertext],
                   carry_out: bool = False) -> tuple[list[Ciphertext], Ciphertext | None]:
        """Resolve carries of block sums (s_0 <= 7, s_j <= 6, noise <= 4): clean blocks.

        Returns the blocks (modulo 4^n) and, if asked, the carry out of the top block.
        """
        mode = self.carry_mode
        if mode == "auto":
            mode = self.cost_model.choose_carry(len(sums), carry_out)
        if mode == "grouped" and max(s.degree for s in sums) >= 8:
            mode = "parallel"  # the two-function table needs inputs below 8
        if mode == "sequential":
            return self._propagate_sequential(sums, carry_out)
        if mode == "grouped":
            return self._propagate_grouped(sums, carry_out)
        return self._propagate_parallel(sums, carry_out)

    def _propagate_parallel(self, sums: list[Ciphertext],
                            carry_out: bool) -> tuple[list[Ciphertext], Ciphertext | None]:
        n = len(sums)
        msg = self._msg_lut
        ns = n if carry_out else n - 1
        first = self._pbs([sums[j] for j in range(ns)] + [sums[0]],
                          [self._state_lut(j % 3) for j in range(ns)] + [msg])
        v, out0 = first[:ns], first[ns]
        c = self._carries(v)
        rest = self._pbs([self.shortint.unchecked_add(sums[j], c[j - 1]) for j in range(1, n)],
                         [msg] * (n - 1))
        return [out0, *rest], (c[n - 1] if carry_out else None)

    # -- grouped carries: about three bootstraps per block, six batches for 32 blocks ----------
    def _grouped_tables(self, j: int) -> ManyLookupTable:
        """Stage A of block j: (message, or 4 * message above block 0; state << j % 3)."""
        def state(x: int, r: int = j % 3) -> int:
            return (2 if x >= 4 else 1 if x == 3 else 0) << r

        if j == 0:
            return self._mlut(("gA", "first"), [lambda x: x % 4, state])
        return self._mlut(("gA", j % 3), [lambda x: 4 * (x % 4), state])

    def _propagate_grouped(self, sums: list[Ciphertext],
                           carry_out: bool) -> tuple[list[Ciphertext], Ciphertext | None]:
        """Blocks in triples; a block's carry in is [sigma + C >= 2] with C the triple's.

        A: one two-function bootstrap per block gives 4 * message and its state weighted by
           its position in the triple (t = st << r; st: 2 generate, 1 propagate, 0 none).
        B: per triple, sigma of its third block (0 / 1 / 2: carries with neither, only with
           a carry in, always: [t0 + t1 >= 4] + [t0 + t1 >= 3]) and the triple's state.
        C: the triples' carries from their states (`_carries`, a radix-3 prefix tree).
        D: block = T(4 * message + sigma + C), sigma being 2 * C for the first block of a
           triple (no bootstrap) and t0 for the second (no bootstrap).
        The first triple has no carry in; block 0 is final after A.
        """
        n = len(sums)
        add = self._add
        stage_a = self.shortint.apply_many_lookup_tables(
            sums, [self._grouped_tables(j) for j in range(n)])
        m = [r[0] for r in stage_a]
        t = [r[1] for r in stage_a]
        triples = [list(range(k, min(k + 3, n))) for k in range(0, n, 3)]
        last = len(triples) - 1
        sig_lut = self._lut("gsigma", lambda x: int(x >= 4) + int(x >= 3))
        cts: list[Ciphertext] = []
        luts: list[LookupTable] = []
        for tri in triples:
            if len(tri) == 3:
                cts.append(add(t[tri[0]], t[tri[1]]))
                luts.append(sig_lut)
        nsig = len(cts)
        for k, tri in enumerate(triples[:-1]):
            cts.append(add(*[t[j] for j in tri]))
            luts.append(self._group_state_lut(3, k % 3))
        res = self._pbs(cts, luts)
        sigma = res[:nsig]
        group_carries = self._carries(res[nsig:])  # carry out of triples 0 .. last-1
        fin = self._lut("gfinal", lambda x: (x // 4 + int(x % 4 >= 2)) % 4)
        cts, luts = [], []
        for k, tri in enumerate(triples):
            cin = [group_carries[k - 1]] if k else []
            for r, j in enumerate(tri):
                if j == 0:
                    continue
                if r == 0:
                    low = [self._mul_block(cin[0], 2)]
                elif r == 1:
                    low = [t[tri[0]], *cin]
                else:
                    low = [sigma[k], *cin]
                cts.append(add(m[j], *low))
                luts.append(fin)
        if carry_out:
            tri = triples[last]
            cin = [group_carries[last - 1]] if last else []
            cts.append(add(*[t[j] for j in tri], *cin))
            luts.append(self._ge_lut(1 << len(tri)))
        res = self._pbs(cts, luts)
        out = [m[0], *res[:n - 1]]
        return out, (res[n - 1] if carry_out else None)

    def _propagate_sequential(self, sums: list[Ciphertext],
                              carry_out: bool) -> tuple[list[Ciphertext], Ciphertext | None]:
        return self._propagate_sequential_many([sums], carry_out)[0]

    def _propagate_sequential_many(
            self, chains: list[list[Ciphertext]],
            carry_out: bool = False) -> list[tuple[list[Ciphertext], Ciphertext | None]]:
        """Ripple carries, one two-function bootstrap per block: (message, carry).

        Independent chains advance in lockstep, one batch per step, so that on two cores
        two chains take about as long as one.
        """
        mlut = self._mlut("msg_carry", [lambda x: x % 4, lambda x: x // 4])
        outs: list[list[Ciphertext]] = [[] for _ in chains]
        carries: list[Ciphertext | None] = [None] * len(chains)
        for step in range(max((len(c) for c in chains), default=0)):
            live = [i for i, c in enumerate(chains) if step < len(c)]
            xs = []
            for i in live:
                s, carry = chains[i][step], carries[i]
                x = s if carry is None else self.shortint.unchecked_add(s, carry)
                if x.degree >= 8:
                    raise AssertionError("block sum too large for the sequential adder")
                xs.append(x)
            for i, (m, c) in zip(live, self.shortint.apply_many_lookup_table(xs, mlut),
                                 strict=True):
                outs[i].append(m)
                carries[i] = self._with_degree(c, 1)
        return [(o, c if carry_out else None) for o, c in zip(outs, carries, strict=True)]

    # == addition and subtraction ================================================================
    def add(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        """(a + b) mod 2^bits."""
        if isinstance(b, int):
            return self.scalar_add(a, b)
        self._same_width(a, b)
        self._need_int(a)
        xa, xb = self._ensure([a.blocks, b.blocks], 2)
        out, _ = self._propagate([self._add(x, y) for x, y in zip(xa, xb, strict=True)])
        return RadixCiphertext(out, a.bits)

    def add_sub_many(self, ops: Sequence[tuple[str, RadixCiphertext, Operand]]
                     ) -> list[RadixCiphertext]:
        """Independent ("add" | "sub", a, b) operations at once; the results in order.

        Their carry chains share batches: with the sequential carry k chains take k-wide
        steps, so on two cores a token transfer's debit and credit cost about one addition.
        The cost model decides between that and each operation's own best algorithm.
        """
        sums_list, widths = [], []
        for op, a, b in ops:
            if op not in ("add", "sub"):
                raise ValueError(f"add_sub_many takes 'add' or 'sub', not {op!r}")
            self._check(a)
            self._need_int(a)
            if isinstance(b, int):
                if b < 0:
                    raise ValueError("scalar operands are unsigned")
                k = (b if op == "add" else -b) % (1 << a.bits)
                (xa,) = self._ensure([a.blocks], 4)
                sums = [self._scalar_add_block(x, d)
                        for x, d in zip(xa, self._digits(k, a.num_blocks), strict=True)]
            else:
                self._same_width(a, b)
                xa, xb = self._ensure([a.blocks, b.blocks], 2)
                if op == "add":
                    sums = [self._add(x, y) for x, y in zip(xa, xb, strict=True)]
                else:
                    sums = [self._add(x, self._not_block(y)) for x, y in zip(xa, xb, strict=True)]
                    sums[0] = self._scalar_add_block(sums[0], 1)
            sums_list.append(sums)
            widths.append(a.bits)
        if not sums_list:
            return []
        if self._lockstep(sums_list):
            res = [o for o, _ in self._propagate_sequential_many(sums_list)]
        else:
            res = [self._propagate(sums)[0] for sums in sums_list]
        return [RadixCiphertext(o, w) for o, w in zip(res, widths, strict=True)]

    def _lockstep(self, chains: list[list[Ciphertext]]) -> bool:
        """Sequential chains in lockstep, or each operation on its own (cost model)?"""
        if self.carry_mode != "auto":
            return self.carry_mode == "sequential"
        model = self.cost_model
        longest = max(len(c) for c in chains)
        together = sum(model.batch_s(sum(len(c) > i for c in chains)) for i in range(longest))
        alone = sum(min(model.plan_s(p) for p in carry_plans(len(c)).values()) for c in chains)
        return together <= alone

    def scalar_add(self, a: RadixCiphertext, k: int) -> RadixCiphertext:
        self._check(a)
        self._need_int(a)
        k %= 1 << a.bits
        if k == 0:
            return a
        (xa,) = self._ensure([a.blocks], 4)
        ds = self._digits(k, a.num_blocks)
        out, _ = self._propagate([self._scalar_add_block(x, d) for x, d in zip(xa, ds,
                                                                                strict=True)])
        return RadixCiphertext(out, a.bits)

    def _sub_blocks(self, xa: list[Ciphertext], xb: list[Ciphertext],
                    carry_out: bool = False) -> tuple[list[Ciphertext], Ciphertext | None]:
        """a + not(b) + 1 over the blocks; the carry out is 1 iff a >= b."""
        sums = [self._add(x, self._not_block(y)) for x, y in zip(xa, xb, strict=True)]
        sums[0] = self._scalar_add_block(sums[0], 1)
        return self._propagate(sums, carry_out)

    def sub(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        """(a - b) mod 2^bits."""
        if isinstance(b, int):
            return self.scalar_add(a, -b)
        self._same_width(a, b)
        self._need_int(a)
        xa, xb = self._ensure([a.blocks, b.blocks], 2)
        out, _ = self._sub_blocks(xa, xb)
        return RadixCiphertext(out, a.bits)

    def overflowing_sub(self, a: RadixCiphertext,
                        b: RadixCiphertext) -> tuple[RadixCiphertext, RadixCiphertext]:
        """((a - b) mod 2^bits, a < b as an ebool): the borrow comes free with the chain.

        One carry propagation instead of a subtraction and a comparison (e.g. a transfer's
        balance check and debit).
        """
        self._same_width(a, b)
        self._need_int(a)
        xa, xb = self._ensure([a.blocks, b.blocks], 2)
        out, carry = self._sub_blocks(xa, xb, carry_out=True)
        borrow = self._not_block(self._with_degree(carry, 1), 1)  # type: ignore[arg-type]
        return RadixCiphertext(out, a.bits), RadixCiphertext([borrow], 1)

    def scalar_sub(self, a: RadixCiphertext, k: int) -> RadixCiphertext:
        return self.scalar_add(a, -k)

    def neg(self, a: RadixCiphertext) -> RadixCiphertext:
        """(-a) mod 2^bits = not(a) + 1."""
        self._check(a)
        self._need_int(a)
        (xa,) = self._ensure([a.blocks], 4)
        sums = [self._not_block(x) for x in xa]
        sums[0] = self._scalar_add_block(sums[0], 1)
        out, _ = self._propagate(sums)
        return RadixCiphertext(out, a.bits)

    # == bitwise =================================================================================
    _BITOPS: dict[str, Callable[[int, int], int]] = {
        "and": lambda x, y: x & y,
        "or": lambda x, y: x | y,
        "xor": lambda x, y: x ^ y,
    }

    def _bitop(self, op: str, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        if isinstance(b, int):
            return self._scalar_bitop(op, a, b)
        self._same_width(a, b)
        lut = self._blut(("bit", op), self._BITOPS[op])
        xa, xb = self._ensure([a.blocks, b.blocks], 1)
        out = self._bivariate(list(zip(xa, xb, strict=True)), [lut] * a.num_blocks)
        return RadixCiphertext(out, a.bits)

    def _scalar_bitop(self, op: str, a: RadixCiphertext, k: int) -> RadixCiphertext:
        self._check(a)
        if k < 0:
            raise ValueError("scalar operands are unsigned")
        top = 1 if a.bits == 1 else 3
        k &= (1 << a.bits) - 1
        f = self._BITOPS[op]
        out: list[Ciphertext | None] = [None] * a.num_blocks
        cts, luts, where = [], [], []
        for j, (x, d) in enumerate(zip(a.blocks, self._digits(k, a.num_blocks), strict=True)):
            if (op == "and" and d == top) or (op in ("or", "xor") and d == 0):
                out[j] = x
            elif op == "and" and d == 0:
                out[j] = self._trivial(0)
            elif op == "or" and d == top:
                out[j] = self._trivial(top)
            elif op == "xor" and d == top:
                out[j] = self._not_block(x, top)
            else:
                cts.append(x)
                luts.append(self._lut(("sbit", op, d), lambda v, d=d: f(v % 4, d)))
                where.append(j)
        for j, c in zip(where, self._pbs(cts, luts), strict=True):
            out[j] = c
        return RadixCiphertext(out, a.bits)  # type: ignore[arg-type]

    def bitand(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._bitop("and", a, b)

    def bitor(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._bitop("or", a, b)

    def bitxor(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._bitop("xor", a, b)

    def bitnot(self, a: RadixCiphertext) -> RadixCiphertext:
        """Bitwise not (logical not for an ebool): leveled, no bootstrap."""
        self._check(a)
        top = 1 if a.bits == 1 else 3
        return RadixCiphertext([self._not_block(x, top) for x in a.blocks], a.bits)

    # == comparisons =============================================================================
    def _reduce_bits(self, groups: list[list[Ciphertext]], kind: str) -> list[Ciphertext]:
        """Reduce each group of bits: 'all' (AND), 'any' (OR), 'nall' (NAND), 'none' (NOR).

        Sums of up to five bits go through one table; every level is one batch for all groups.
        'any' and 'none' also take blocks up to 3 (nonzero or not): five sum to at most 15.
        """
        inner = "all" if kind in ("all", "nall") else "any"
        groups = self._ensure(groups, 1)
        results: list[Ciphertext | None] = [None] * len(groups)
        live = {}
        for gi, g in enumerate(groups):
            if not g:
                raise ValueError("empty reduction")
            if len(g) == 1 and kind in ("all", "any") and g[0].degree <= 1:
                results[gi] = g[0]
            else:
                live[gi] = g
        while live:
            cts, luts, owners = [], [], []
            for gi, g in live.items():
                final = len(g) <= 5
                for start in range(0, len(g), 5):
                    chunk = g[start:start + 5]
                    size = len(chunk)
                    k = kind if final else inner
                    cts.append(self._add(*chunk))
                    luts.append(self._reduce_lut(k, size))
                    owners.append(gi)
            res = self._pbs(cts, luts)
            nxt: dict[int, list[Ciphertext]] = {}
            for gi, c in zip(owners, res, strict=True):
                nxt.setdefault(gi, []).append(c)
            live = {}
            for gi, g in nxt.items():
                if len(groups[gi]) <= 5 or (len(g) == 1 and kind in ("all", "any")):
                    results[gi] = g[0]
                else:
                    live[gi] = g
                groups[gi] = g
        return results  # type: ignore[return-value]

    def _reduce_lut(self, kind: str, size: int) -> LookupTable:
        fs = {
            "all": lambda s: int(s == size),
            "nall": lambda s: int(s != size),
            "any": lambda s: int(s > 0),
            "none": lambda s: int(s == 0),
        }
        return self._lut(("reduce", kind, size), fs[kind])

    def _eq_bits(self, a: RadixCiphertext, b: Operand) -> list[Ciphertext]:
        """Per block [a_j == b_j] bits."""
        if isinstance(b, int):
            cts, luts = [], []
            for x, d in zip(a.blocks, self._digits(b, a.num_blocks), strict=True):
                cts.append(x)
                luts.append(self._lut(("seq", d), lambda v, d=d: int(v % 4 == d)))
            return self._pbs(cts, luts)
        # a_j + (3 - b_j) is 3 iff the digits are equal: no packing, so noisier inputs pass
        xa, xb = self._ensure([a.blocks, b.blocks], 2)
        lut = self._lut("deq", lambda v: int(v == 3))
        return self._pbs([self._add(x, self._not_block(y)) for x, y in zip(xa, xb, strict=True)],
                         [lut] * a.num_blocks)

    def _equality(self, a: RadixCiphertext, b: Operand, negate: bool) -> RadixCiphertext:
        self._check(a)
        if isinstance(b, int):
            if b < 0 or b >= 1 << a.bits:
                return self.trivial(int(negate), 1)
        else:
            self._same_width(a, b)
        if a.num_blocks == 1:  # the per-block table is the answer
            if isinstance(b, int):
                lut = self._lut(("seq1", b, negate), lambda v: int((v % 4 == b) != negate))
                return RadixCiphertext(self._pbs(a.blocks, [lut]), 1)
            lut = self._blut(("eq1", negate), lambda x, y: int((x == y) != negate))
            xa, xb = self._ensure([a.blocks, b.blocks], 1)
            return RadixCiphertext(self._bivariate([(xa[0], xb[0])], [lut]), 1)
        if isinstance(b, int):
            # a == b iff every a_j - b_j is zero: digits 0 and 3 need no bootstrap (a_j and
            # 3 - a_j), the others one; then sums of five blocks are tested for zero.
            (xa,) = self._ensure([a.blocks], 1)
            zeros, cts, luts = [], [], []
            for x, d in zip(xa, self._digits(b, a.num_blocks), strict=True):
                if d == 0:
                    zeros.append(x)
                elif d == 3:
                    zeros.append(self._not_block(x))
                else:
                    cts.append(x)
                    luts.append(self._lut(("sne", d), lambda v, d=d: int(v % 4 != d)))
            zeros += self._pbs(cts, luts)
            (r,) = self._reduce_bits([zeros], "any" if negate else "none")
            return RadixCiphertext([r], 1)
        bits = self._eq_bits(a, b)
        (r,) = self._reduce_bits([bits], "nall" if negate else "all")
        return RadixCiphertext([r], 1)

    def eq(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._equality(a, b, False)

    def ne(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._equality(a, b, True)

    _cmp_chunks = staticmethod(_cmp_chunks)

    def _cmp_shifts(self, size: int) -> list[int]:
        """Weight (a power of two) of each element in its group at the next level."""
        return [r for g in self._cmp_chunks(size) for r in range(g)]

    def _compare(self, a: RadixCiphertext, b: Operand, pred: str) -> RadixCiphertext:
        """Per block the sign s_j = sign(a_j - b_j) in {-1, 0, 1}, then a tree of fan-in four.

        A group of g <= 4 signs weighted 2^i sums to S in [-15, 15], and sign(S) is the sign
        of its most significant nonzero s_i. Negative values are stored as such (modulo the
        torus), so S is bootstrapped with the padding bit set when S < 0: a table over
        [0, 16) giving sign(m) reads -sign(m - 16) = -1 there (the negacyclic half), which is
        exactly sign(S). Each table writes its output already weighted for its place in the
        next group, so a sum costs the noise of four nominal blocks, within the budget of
        five. The last table gives the predicate as +-1/2, and adding 1/2 makes it a clean
        0/1 block (lt(-1) = 1 - lt(+1) and likewise for every predicate, as the negacyclic
        half needs). For 32 blocks: 32 + 8 + 2 + 1 = 43 bootstraps in four batches.
        """
        self._check(a)
        self._need_int(a)
        p = _PREDICATES[pred]
        n = a.num_blocks
        if isinstance(b, int):
            if b < 0:
                raise ValueError("scalar operands are unsigned")
            if b >= 1 << a.bits:  # a < b always
                return self.trivial(int(pred in ("lt", "le")), 1)
            ds = self._digits(b, n)
            cts = list(a.blocks)
            base = [lambda v, d=d: _cmp(v % 4, d) for d in ds]
            keys = [("scmp", d) for d in ds]
        else:
            self._same_width(a, b)
            xa, xb = self._ensure([a.blocks, b.blocks], 2)
            cts = [self._add(x, self._not_block(y)) for x, y in zip(xa, xb, strict=True)]
            base = [lambda v: _cmp(v, 3)] * n
            keys = [("dcmp",)] * n
        if n == 1:
            lut = self._lut((*keys[0], "pred", pred), lambda v: int(p(base[0](v))))
            return RadixCiphertext(self._pbs(cts, [lut]), 1)
        if self._compare_by_chain(n):
            if isinstance(b, int):  # the chain adds a carry: a_j noise <= 4
                (xa,) = self._ensure([a.blocks], 4)
                cts = [self._scalar_add_block(x, 3 - d) for x, d in zip(xa, ds, strict=True)]
            return RadixCiphertext([self._borrow_chain(cts, pred)], 1)
        shifts = self._cmp_shifts(n)
        c = self._pbs(cts, [self._slut((*k, "sw", w), lambda v, f=f, w=w: (f(v) - 1) << w)
                            for k, f, w in zip(keys, base, shifts, strict=True)])
        while True:
            chunks = self._cmp_chunks(len(c))
            sums, start = [], 0
            for g in chunks:
                sums.append(self._add(*c[start:start + g]))
                start += g
            if len(sums) == 1:
                lut = self._slut(("cmpf4", pred), lambda v, p=p: 2 * int(
                    p(_CMP_GT if v else _CMP_EQ)) - 1, half=True)
                (x,) = self._pbs(sums, [lut])
                data = x.data.copy()
                data[-1:] += self._delta >> np.uint64(1)  # +-1/2 + 1/2: a clean 0 or 1
                return RadixCiphertext([Ciphertext(data, 1, x.noise_level)], 1)
            shifts = self._cmp_shifts(len(sums))
            c = self._pbs(sums, [self._slut(("cmps4", w), lambda v, w=w: min(v, 1) << w)
                                 for w in shifts])

    def _compare_by_chain(self, n: int) -> bool:
        """Borrow chain (n single bootstraps) or the sign tree (fewer batches, more work)?"""
        if self.carry_mode != "auto":
            return self.carry_mode == "sequential"
        model = self.cost_model
        return model.plan_s([1] * n) < model.plan_s(compare_tree_plan(n))

    def _borrow_chain(self, diffs: list[Ciphertext], pred: str) -> Ciphertext:
        """Carry out of a + (4^n - 1 - b) + cin, one table per block in sequence.

        diffs[j] = a_j + 3 - b_j. With cin = 1 the carry out is a >= b, with cin = 0 it is
        a > b; the last table writes the predicate (or its negation for lt and le).
        """
        cin = 1 if pred in ("ge", "lt") else 0
        carry: Ciphertext | None = None
        for j, d in enumerate(diffs):
            x = self._scalar_add_block(d, cin) if carry is None else self._add(d, carry)
            if j < len(diffs) - 1 or pred in ("ge", "gt"):
                lut = self._ge_lut(4)
            else:
                lut = self._lut("lt4", lambda v: int(v < 4))
            (carry,) = self._pbs([x], [lut])
        return carry  # type: ignore[return-value]

    def lt(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._compare(a, b, "lt")

    def le(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._compare(a, b, "le")

    def gt(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._compare(a, b, "gt")

    def ge(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        return self._compare(a, b, "ge")

    def min(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        if isinstance(b, int):
            b = self.trivial(b, a.bits)
        return self.select(self.lt(a, b), a, b)

    def max(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        if isinstance(b, int):
            b = self.trivial(b, a.bits)
        return self.select(self.lt(a, b), b, a)

    # == select ==================================================================================
    def select(self, cond: RadixCiphertext, a: Operand, b: Operand) -> RadixCiphertext:
        """cond ? a : b, one bootstrap per block: b + T(2 * (a - b + 3) + cond) - 3."""
        self._check(cond)
        self._need_bool(cond)
        if isinstance(a, int) and isinstance(b, int):
            raise ValueError("select needs at least one encrypted branch")
        bits = a.bits if isinstance(a, RadixCiphertext) else b.bits  # type: ignore[union-attr]
        if isinstance(a, int):
            a = self.trivial(a, bits)
        if isinstance(b, int):
            b = self.trivial(b, bits)
        self._same_width(a, b)
        xa, xb, (c,) = self._select_inputs(a.blocks, b.blocks, cond.blocks[0])
        return RadixCiphertext(self._select_blocks(c, xa, xb), a.bits)

    def _select_inputs(self, xa: list[Ciphertext], xb: list[Ciphertext],
                       c: Ciphertext) -> list[list[Ciphertext]]:
        """Clean so that 2 * (noise(a) + noise(b)) + noise(c) <= 5."""
        groups = self._ensure([xa, xb, [c]], 1)
        return groups

    def _select_blocks(self, c: Ciphertext, xa: list[Ciphertext],
                       xb: list[Ciphertext]) -> list[Ciphertext]:
        lut = self._lut("select", lambda x: x // 2 if x % 2 else 3)
        packed = [self._add(self._mul_block(self._add(x, self._not_block(y)), 2), c)
                  for x, y in zip(xa, xb, strict=True)]
        res = self._pbs(packed, [lut] * len(packed))
        out = []
        for y, r, x in zip(xb, res, xa, strict=True):
            s = self._add(y, r)
            s.data[-1:] -= np.uint64(3) * self._delta
            out.append(Ciphertext(s.data, max(x.degree, y.degree), s.noise_level))
        return out

    # == casts ===================================================================================
    def cast(self, a: RadixCiphertext, bits: int) -> RadixCiphertext:
        """Truncate or zero-extend to `bits` (1: a != 0 as an ebool)."""
        self._check(a)
        n = blocks_for_bits(bits)
        if bits == a.bits:
            return a
        if bits == 1:
            return self.ne(a, 0)
        blocks = a.blocks[:n] + [self._trivial(0) for _ in range(n - a.num_blocks)]
        return RadixCiphertext(blocks, bits)

    def to_bool(self, a: RadixCiphertext) -> RadixCiphertext:
        return self.cast(a, 1)

    # == shifts and rotations by a plaintext =====================================================
    def _shift_plain(self, a: RadixCiphertext, k: int, kind: str) -> RadixCiphertext:
        self._check(a)
        self._need_int(a)
        if k < 0:
            raise ValueError("shift amounts are unsigned")
        n, w = a.num_blocks, a.bits
        k %= w
        if k == 0:
            return a
        if kind in ("rotr", "shr"):  # express right moves through the left ones
            if kind == "rotr":
                return self._shift_plain(a, w - k, "rotl")
        q, r = divmod(k, 2)
        rot = kind == "rotl"

        def src(j: int) -> Ciphertext | None:
            """Input block that lands on block j after a left move of q blocks."""
            i = j - q if kind != "shr" else j + q
            if rot:
                return a.blocks[i % n]
            return a.blocks[i] if 0 <= i < n else None

        if r == 0:
            return RadixCiphertext([src(j) or self._trivial(0) for j in range(n)], w)
        (xa,) = self._ensure([a.blocks], 1)
        a = RadixCiphertext(xa, w)
        if kind == "shr":
            # out_j = (x_{j+q} >> 1) | ((x_{j+q+1} & 1) << 1)
            f2 = self._blut("shr1", lambda hi, lo: ((hi & 1) << 1) | (lo >> 1))
            f1 = self._lut("shr1only", lambda x: (x % 4) >> 1)
            pairs, singles, where_p, where_s = [], [], [], []
            out: list[Ciphertext | None] = [None] * n
            for j in range(n):
                lo = src(j)
                hi = a.blocks[j + q + 1] if j + q + 1 < n else None
                if lo is None:
                    out[j] = self._trivial(0)
                elif hi is None:
                    singles.append(lo)
                    where_s.append(j)
                else:
                    pairs.append((hi, lo))
                    where_p.append(j)
        else:
            # out_j = ((x_{j-q} << 1) & 3) | (x_{j-q-1} >> 1)
            f2 = self._blut("shl1", lambda hi, lo: ((hi << 1) & 3) | (lo >> 1))
            f1 = self._lut("shl1only", lambda x: ((x % 4) << 1) & 3)
            pairs, singles, where_p, where_s = [], [], [], []
            out = [None] * n
            for j in range(n):
                hi = src(j)
                i = j - q - 1
                lo = a.blocks[i % n] if rot else (a.blocks[i] if i >= 0 else None)
                if hi is None:
                    out[j] = self._trivial(0)
                elif lo is None:
                    singles.append(hi)
                    where_s.append(j)
                else:
                    pairs.append((hi, lo))
                    where_p.append(j)
        res = self._pbs_mixed(pairs, [f2] * len(pairs), singles, [f1] * len(singles))
        for j, c in zip(where_p + where_s, res, strict=True):
            out[j] = c
        return RadixCiphertext(out, w)  # type: ignore[arg-type]

    def _pbs_mixed(self, pairs: list[tuple[Ciphertext, Ciphertext]], pluts: list[LookupTable],
                   singles: list[Ciphertext], sluts: list[LookupTable]) -> list[Ciphertext]:
        """Bivariate pairs (clean inputs) and univariate singles in one batch."""
        packed = [self._add(self._mul_block(x, 4), y) for x, y in pairs]
        return self._pbs(packed + singles, pluts + sluts)

    # == shifts and rotations by an encrypted amount (barrel shifter) ============================
    def _shift_encrypted(self, a: RadixCiphertext, amount: RadixCiphertext,
                         kind: str) -> RadixCiphertext:
        self._check(a, amount)
        self._need_int(a)
        n, w = a.num_blocks, a.bits
        if w & (w - 1):
            raise ValueError("encrypted shifts need a power-of-two width")
        levels = w.bit_length() - 1
        nbits = min(levels, 2 * amount.num_blocks if amount.bits > 1 else 1)
        lut_bits = [self._lut(("bit", t % 2), lambda x, t=t: ((x % 4) >> (t % 2)) & 1)
                    for t in range(nbits)]
        bits = self._pbs([amount.blocks[t // 2] for t in range(nbits)], lut_bits)
        left = kind in ("shl", "rotl")
        rot = kind in ("rotl", "rotr")
        blocks = self._ensure([a.blocks], 2)[0]
        for t in range(nbits):
            bit = bits[t]
            if t == 0:
                if left:
                    fs = [lambda x: ((x // 2) << 1) & 3 if x % 2 else x // 2,
                          lambda x: (x // 2) >> 1 if x % 2 else 0]
                else:
                    fs = [lambda x: (x // 2) >> 1 if x % 2 else x // 2,
                          lambda x: ((x // 2) & 1) << 1 if x % 2 else 0]
                mlut = self._mlut(("bs0", left), fs)
                step = 1
            else:
                mlut = self._mlut("bs", [lambda x: 0 if x % 2 else x // 2,
                                         lambda x: x // 2 if x % 2 else 0])
                step = 1 << (t - 1)
            packed = [self._add(self._mul_block(x, 2), bit) for x in blocks]
            res = self.shortint.apply_many_lookup_table(packed, mlut)
            out = []
            for j in range(n):
                keep = res[j][0]
                i = j - step if left else j + step
                if rot:
                    i %= n
                if 0 <= i < n:
                    out.append(self._with_degree(self._add(keep, res[i][1]), 3))
                else:
                    out.append(keep)
            blocks = out
        return RadixCiphertext(blocks, w)

    def _shift(self, a: RadixCiphertext, k: Operand, kind: str) -> RadixCiphertext:
        if isinstance(k, int):
            return self._shift_plain(a, k, kind)
        return self._shift_encrypted(a, k, kind)

    def shl(self, a: RadixCiphertext, k: Operand) -> RadixCiphertext:
        return self._shift(a, k, "shl")

    def shr(self, a: RadixCiphertext, k: Operand) -> RadixCiphertext:
        return self._shift(a, k, "shr")

    def rotl(self, a: RadixCiphertext, k: Operand) -> RadixCiphertext:
        return self._shift(a, k, "rotl")

    def rotr(self, a: RadixCiphertext, k: Operand) -> RadixCiphertext:
        if isinstance(k, int):
            return self._shift_plain(a, k, "rotr")
        return self._shift_encrypted(a, k, "rotr")

    # == sums and multiplication =================================================================
    def _sum_columns(self, cols: list[list[Ciphertext]]) -> list[Ciphertext]:
        """Sum columns of clean blocks (degree <= 3, noise <= 1) into n clean blocks."""
        n = len(cols)
        msg = self._msg_lut
        carry = self._lut("carry", lambda x: x // 4)
        while any(len(c) > 2 for c in cols):
            new: list[list[Ciphertext]] = [[] for _ in range(n)]
            cts, luts, dest = [], [], []
            for j, col in enumerate(cols):
                if len(col) <= 2:
                    new[j].extend(col)
                    continue
                chunks: list[list[Ciphertext]] = [[]]
                for x in col:
                    cur = chunks[-1]
                    if (len(cur) == 5 or sum(b.degree for b in cur) + x.degree > 15
                            or sum(b.noise_level for b in cur) + x.noise_level > 5):
                        chunks.append([])
                    chunks[-1].append(x)
                for ch in chunks:
                    if len(ch) < 3:
                        new[j].extend(ch)
                        continue
                    s = self._add(*ch)
                    cts.append(s)
                    luts.append(msg)
                    dest.append(j)
                    if j + 1 < n and s.degree >= 4:
                        cts.append(s)
                        luts.append(carry)
                        dest.append(j + 1)
            for j, c in zip(dest, self._pbs(cts, luts), strict=True):
                new[j].append(c)
            cols = new
        sums = [self._add(*c) if c else self._trivial(0) for c in cols]
        out, _ = self._propagate(sums)
        return out

    def sum(self, values: Sequence[RadixCiphertext]) -> RadixCiphertext:
        """Sum of a list (wrapping), all the same width."""
        if not values:
            raise ValueError("sum of an empty list")
        for v in values:
            self._same_width(values[0], v)
        self._need_int(values[0])
        if len(values) == 1:
            return values[0]
        groups = self._ensure([v.blocks for v in values], 1)
        cols = [[g[j] for g in groups] for j in range(values[0].num_blocks)]
        return RadixCiphertext(self._sum_columns(cols), values[0].bits)

    def mul(self, a: RadixCiphertext, b: Operand) -> RadixCiphertext:
        """(a * b) mod 2^bits: block products, then parallel column sums."""
        if isinstance(b, int):
            return self.scalar_mul(a, b)
        self._same_width(a, b)
        self._need_int(a)
        n = a.num_blocks
        xa, xb = self._ensure([a.blocks, b.blocks], 1)
        lo = self._blut("mul_lo", lambda x, y: (x * y) % 4)
        hi = self._blut("mul_hi", lambda x, y: (x * y) // 4)
        packed, luts, dest = [], [], []
        for i in range(n):
            for j in range(n - i):
                p = self._add(self._mul_block(xa[i], 4), xb[j])
                packed.append(p)
                luts.append(lo)
                dest.append(i + j)
                if i + j + 1 < n and xa[i].degree * xb[j].degree >= 4:
                    packed.append(p)
                    luts.append(hi)
                    dest.append(i + j + 1)
        cols: list[list[Ciphertext]] = [[] for _ in range(n)]
        for j, c in zip(dest, self._pbs(packed, luts), strict=True):
            cols[j].append(c)
        return RadixCiphertext(self._sum_columns(cols), a.bits)

    def scalar_mul(self, a: RadixCiphertext, k: int) -> RadixCiphertext:
        self._check(a)
        self._need_int(a)
        n, w = a.num_blocks, a.bits
        k %= 1 << w
        if k == 0:
            return self.trivial(0, w)
        if k & (k - 1) == 0:
            return self._shift_plain(a, k.bit_length() - 1, "shl")
        ds = self._digits(k, n)
        (xa,) = self._ensure([a.blocks], 1)
        if any(d in (2, 3) for d in ds):
            mlut = self._mlut("smul", [lambda x: 2 * x % 4, lambda x: 2 * x // 4,
                                       lambda x: 3 * x % 4, lambda x: 3 * x // 4])
            res = self.shortint.apply_many_lookup_table(xa, mlut)
        else:
            res = []
        cols: list[list[Ciphertext]] = [[] for _ in range(n)]
        for j, d in enumerate(ds):
            if d == 0:
                continue
            for i in range(n - j):
                if d == 1:
                    cols[i + j].append(xa[i])
                    continue
                low, high = (res[i][0], res[i][1]) if d == 2 else (res[i][2], res[i][3])
                cols[i + j].append(low)
                if i + j + 1 < n and high.degree > 0:
                    cols[i + j + 1].append(high)
        return RadixCiphertext(self._sum_columns(cols), w)

    # == membership ==============================================================================
    def is_in(self, a: RadixCiphertext, values: Sequence[Operand]) -> RadixCiphertext:
        """a in values (plaintext or encrypted elements), as an ebool."""
        self._check(a)
        groups: list[list[Ciphertext]] = []
        plain = sorted({v for v in values if isinstance(v, int) and 0 <= v < 1 << a.bits})
        enc = [v for v in values if isinstance(v, RadixCiphertext)]
        for v in enc:
            self._same_width(a, v)
        if plain:
            top = 2 if a.bits == 1 else 4
            mlut = self._mlut(("digit_eq", top),
                              [lambda x, d=d: int(x == d) for d in range(top)])
            (xa,) = self._ensure([a.blocks], 1)
            digit_eq = self.shortint.apply_many_lookup_table(xa, mlut)
            for v in plain:
                groups.append([digit_eq[j][d] for j, d in
                               enumerate(self._digits(v, a.num_blocks))])
        if enc:
            lut = self._blut("eq", lambda x, y: int(x == y))
            pairs = []
            groups_enc = self._ensure([a.blocks] + [v.blocks for v in enc], 1)
            xa = groups_enc[0]
            for vb in groups_enc[1:]:
                pairs.extend(zip(xa, vb, strict=True))
            bits = self._bivariate(pairs, [lut] * len(pairs))
            n = a.num_blocks
            groups.extend(bits[i * n:(i + 1) * n] for i in range(len(enc)))
        if not groups:
            return self.trivial(0, 1)
        eqs = self._reduce_bits(groups, "all")
        (r,) = self._reduce_bits([eqs], "any")
        return RadixCiphertext([r], 1)

    # == division ================================================================================
    def _overflow_bits(self, xd: list[Ciphertext], w: int) -> list[Ciphertext | None]:
        """ov[i] = [d >= 2^(w - i)] for i in 1 .. w-1: d * 2^i would leave the width."""
        mlut = self._mlut("nz_hb", [lambda x: int(x != 0), lambda x: int(x >= 2)])
        res = self.shortint.apply_many_lookup_table(xd, mlut)
        nz = [r[0] for r in res]
        hb = [r[1] for r in res]
        groups = []
        for i in range(1, w):
            t, odd = divmod(w - i, 2)  # any bit of d at position >= w - i
            groups.append([hb[t]] + nz[t + 1:] if odd else nz[t:])
        return [None, *self._reduce_bits(groups, "any")]

    def _long_division(self, a: RadixCiphertext, d: Operand) -> tuple[list[Ciphertext],
                                                                       list[Ciphertext]]:
        """Restoring division: for i = w-1 .. 0, if d * 2^i <= r then r -= d * 2^i."""
        n, w = a.num_blocks, a.bits
        (r,) = self._ensure([a.blocks], 1)
        q_bits: list[Ciphertext | None] = [None] * w
        plain = isinstance(d, int)
        if not plain:
            (xd,) = self._ensure([d.blocks], 1)  # type: ignore[union-attr]
            ov = self._overflow_bits(xd, w)
            d1 = self._shift_plain(RadixCiphertext(xd, w), 1, "shl").blocks
        sel_keep = self._lut("keep_if_not", lambda x: 0 if x % 2 else (x // 2) % 4)
        sel_take = self._lut("take_if", lambda x: (x // 2) % 4 if x % 2 else 0)
        for i in range(w - 1, -1, -1):
            t0 = i // 2
            k = n - t0
            if plain:
                if d << i >= 1 << w:
                    q_bits[i] = self._trivial(0)
                    continue
                dd = self._digits(d << i, n)[t0:]
                sums = [self._scalar_add_block(x, 3 - y) for x, y in zip(r[t0:], dd,
                                                                         strict=True)]
            else:
                src = xd if i % 2 == 0 else d1
                sums = [self._add(x, self._not_block(y)) for x, y in zip(r[t0:], src[:k],
                                                                         strict=True)]
                if i > 0:  # the part of d * 2^i above the width: an extra block
                    sums.append(self._not_block(ov[i], 3))  # type: ignore[arg-type]
            sums[0] = self._scalar_add_block(sums[0], 1)
            diff, carry = self._propagate(sums, carry_out=True)
            q = self._with_degree(carry, 1)  # type: ignore[arg-type]
            q_bits[i] = q
            packed = ([self._add(self._mul_block(x, 2), q) for x in diff[:k]]
                      + [self._add(self._mul_block(x, 2), q) for x in r[t0:]])
            res = self._pbs(packed, [sel_take] * k + [sel_keep] * k)
            new = [self._with_degree(self._add(res[j], res[k + j]), 3) for j in range(k)]
            r = r[:t0] + new
        q_blocks = [self._add(q_bits[2 * j], self._mul_block(q_bits[2 * j + 1], 2))
                    for j in range(n)]  # type: ignore[arg-type]
        return q_blocks, r

    def _divmod(self, a: RadixCiphertext, d: Operand) -> tuple[RadixCiphertext,
                                                               RadixCiphertext]:
        self._check(a)
        self._need_int(a)
        w = a.bits
        if isinstance(d, int):
            if d < 0:
                raise ValueError("scalar operands are unsigned")
            if d == 0:
                raise ZeroDivisionError("division by a plaintext zero")
            if d >= 1 << w:
                return self.trivial(0, w), a
            if d & (d - 1) == 0:
                return self.shr(a, d.bit_length() - 1), self.bitand(a, d - 1)
        else:
            self._same_width(a, d)
        q, r = self._long_division(a, d)
        return RadixCiphertext(q, w), RadixCiphertext(r, w)

    def div(self, a: RadixCiphertext, d: Operand) -> RadixCiphertext:
        """a // d; an encrypted zero divisor gives all ones, a plaintext zero raises."""
        return self._divmod(a, d)[0]

    def rem(self, a: RadixCiphertext, d: Operand) -> RadixCiphertext:
        """a % d; an encrypted zero divisor gives a, a plaintext zero raises."""
        return self._divmod(a, d)[1]

    def divmod(self, a: RadixCiphertext, d: Operand) -> tuple[RadixCiphertext,
                                                              RadixCiphertext]:
        return self._divmod(a, d)

    def mul_div(self, a: RadixCiphertext, b: Operand, c: Operand) -> RadixCiphertext:
        """(a * b) // c computed at double width, then truncated to a's width."""
        self._check(a)
        self._need_int(a)
        w = a.bits
        wide = self.cast(a, 2 * w)
        bw = b if isinstance(b, int) else self.cast(b, 2 * w)
        if not isinstance(b, int):
            self._same_width(a, b)
        cw = c if isinstance(c, int) else self.cast(c, 2 * w)
        if not isinstance(c, int):
            self._same_width(a, c)
        return self.cast(self.div(self.mul(wide, bw), cw), w)

    # == oblivious random values =================================================================
    def random(self, seed: bytes, bits: int, upper_bound: int | None = None) -> RadixCiphertext:
        """A uniform encrypted value in [0, upper_bound) (default 2^bits) that nobody knows.

        The seed is public (e.g. derived from the block and the call); each random block is
        one blind rotation of a seed-derived mask under the secret small key (OPRF). The
        bound must be a power of two within the type.
        """
        n = blocks_for_bits(bits)
        bound_bits = bits if upper_bound is None else upper_bound.bit_length() - 1
        if upper_bound is not None and (upper_bound <= 0 or upper_bound & (upper_bound - 1)
                                        or bound_bits > bits or (bits == 1 and bound_bits < 1)):
            raise ValueError("the bound must be a power of two within the type")
        if bound_bits == 0:
            return self.trivial(0, bits)
        p = self.params
        count = (bound_bits + 1) // 2
        kinds = [2 if 2 * (j + 1) <= bound_bits else 1 for j in range(count)]
        if self._oprf is None:
            key = self.shortint.key
            tables = [oprf.oprf_table(p.polynomial_size, p.delta_log2, r) for r in (1, 2)]
            self._oprf = (oprf.blind_rotator(key, key.bsk, p.lwe_dimension, p.pbs_base_log,
                                             p.pbs_level),
                          np.stack([t[0] for t in tables]),
                          np.array([t[1] for t in tables], dtype=np.uint64))
        rotator, luts, offsets = self._oprf
        masks = oprf.seeded_masks(bytes(seed), count, p.lwe_dimension)
        index = np.array([k - 1 for k in kinds], dtype=np.int64)
        out = rotator.pbs_arrays(oprf.pad_small(masks, np.zeros(count, dtype=np.uint64),
                                                p.big_lwe_dimension), index, luts)
        out[:, -1] += offsets[index]
        self.shortint.count_bootstraps(count)
        blocks = [Ciphertext(out[j], (1 << kinds[j]) - 1, 1) for j in range(count)]
        blocks += [self._trivial(0) for _ in range(n - count)]
        return RadixCiphertext(blocks, bits)

    # == storage =================================================================================
    def _compression(self):
        if self.compression_key is None:
            raise ValueError("this server key has no compression key")
        return self.compression_key

    def compress(self, cts: RadixCiphertext | Sequence[RadixCiphertext]):
        """CompressedRadixList of one integer or a list (blocks cleaned first if needed)."""
        items = [cts] if isinstance(cts, RadixCiphertext) else list(cts)
        self._check(*items)
        groups = self._ensure([c.blocks for c in items], self.params.max_noise_level)
        return self._compression().compress([RadixCiphertext(g, c.bits)
                                             for g, c in zip(groups, items, strict=True)])

    def decompress(self, compressed) -> list[RadixCiphertext]:
        comp = self._compression()
        self.shortint.count_bootstraps(comp.bootstraps(compressed))
        return comp.decompress(compressed, self.shortint.key)

    def to_bytes(self, ct: RadixCiphertext) -> bytes:
        """Compressed bytes of one integer (about 1.6 KB for a euint64)."""
        return self.compress(ct).to_bytes()

    def from_bytes(self, blob: bytes) -> RadixCiphertext:
        from .compression import CompressedRadixList

        items = self.decompress(CompressedRadixList.from_bytes(blob))
        if len(items) != 1:
            raise ValueError("the bytes hold a list of integers, use decompress")
        return items[0]
