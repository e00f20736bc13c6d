"""Carry propagation algorithms, the comparison tree and the cost model that picks a carry.

Every carry algorithm on widths whose block count is 1 and 0, 1, 2 modulo 3 (the grouped
one works in triples), on values where every carry propagates, none does, 0 and the
maximum; bootstrap counts match the plans the cost model prices. Insecure parameters.
The default run keeps the cases few (CI budget); TFHE_INTEGER_FULL=1 runs every edge
pair on every width and mode.
"""

from __future__ import annotations

import os
import random

import pytest

from tfhe.integer import IntegerServerKey
from tfhe.integer.server import CostModel, carry_plans, compare_tree_plan

SMALL = [2, 8, 10, 12]  # 1, 4, 5, 6 blocks: every remainder modulo 3
MODES = ["grouped", "parallel", "sequential"]
FULL = os.environ.get("TFHE_INTEGER_FULL") == "1"


def edge_pairs(width: int, rng: random.Random) -> list[tuple[int, int]]:
    m = (1 << width) - 1
    threes = m  # every digit 3: + 1 carries through all blocks
    ones = int("01" * (width // 2), 2)  # digits 1
    twos = ones << 1  # digits 2: ones + twos = all 3s, a propagate chain
    return [(threes, 1), (m - 1, 1), (0, 0), (m, m), (0, m), (ones, twos), (ones, twos + 1),
            (1 << (width - 1), 1 << (width - 1)), (rng.getrandbits(width), rng.getrandbits(width))]


@pytest.mark.parametrize("carry", MODES)
def test_carry_algorithms_edge_values(insecure, carry):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry=carry)
    rng = random.Random(7)
    d = client.decrypt
    # the older algorithms are also covered by test_integer.py: fewer widths here
    widths = SMALL + [64] if carry == "grouped" or FULL else [10]
    for width in widths:
        m = (1 << width) - 1
        pairs = edge_pairs(width, rng)
        if not FULL:  # all carries, none (3s), zero, max + max, a propagate chain, random
            pairs = [pairs[i] for i in (0, 1, 2, 3, 6, 8)]
        for x, y in [pairs[0], pairs[4]] if width == 64 and not FULL else pairs:
            a, b = client.encrypt(x, width), client.encrypt(y, width)
            assert d(server.add(a, b)) == (x + y) & m, (width, x, y)
            assert d(server.sub(a, b)) == (x - y) & m, (width, x, y)
        assert d(server.neg(client.encrypt(1, width))) == m
    a, b = client.encrypt(251, 8), client.encrypt(7, 8)  # carry out (restoring division)
    assert d(server.div(a, b)) == 251 // 7 and d(server.rem(a, b)) == 251 % 7


def test_grouped_counts_match_plans(insecure):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry="grouped")
    for width in SMALL + [64]:
        n = width // 2
        a, b = client.encrypt(3, width), client.encrypt(5, width)
        for kind in ("grouped", "parallel", "sequential"):
            server.carry_mode = kind
            before = server.pbs_count
            server.add(a, b)
            assert server.pbs_count - before == sum(carry_plans(n)[kind]), (kind, width)
    assert sum(carry_plans(32)["grouped"]) == 96  # euint64: 3 per block
    assert len(carry_plans(32)["grouped"]) == 6  # in six batches
    assert sum(carry_plans(32)["grouped"]) < sum(carry_plans(32)["parallel"])


def test_cost_model_switches_with_the_measured_costs():
    slow_single = CostModel(single_s=0.070, chunk8_s=8 * 0.031, threads=2)
    fast_single = CostModel(single_s=0.015, chunk8_s=8 * 0.031, threads=2)
    one_core = CostModel(single_s=0.040, chunk8_s=8 * 0.031, threads=1)
    assert slow_single.choose_carry(32) == "grouped"
    assert fast_single.choose_carry(32) == "sequential"
    assert one_core.choose_carry(32) == "sequential"
    assert slow_single.batch_s(1) == pytest.approx(0.070)
    assert slow_single.batch_s(16) == pytest.approx(8 * 0.031)
    assert slow_single.batch_s(32) == pytest.approx(2 * 8 * 0.031)


def test_cost_model_calibrates(insecure):
    _, shared = insecure
    model = CostModel()
    before = shared.shortint.pbs_count
    model.calibrate(shared.shortint)
    assert model.ready() and model.single_s > 0 and model.chunk8_s > 0
    assert shared.shortint.pbs_count == before
    assert model.choose_carry(32) in MODES


@pytest.mark.parametrize("carry, width", [("grouped", 2), ("grouped", 8), ("grouped", 12),
                                          ("grouped", 64), ("sequential", 10),
                                          ("sequential", 64)])
def test_comparisons_edge_values(insecure, carry, width):
    """"grouped" compares through the sign tree, "sequential" through the borrow chain."""
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry=carry)
    m = (1 << width) - 1
    rng = random.Random(width)
    pairs = edge_pairs(width, rng) + [(m, m - 1), (m - 1, m), (1, 0), (0, 1), (m ^ 1, m)]
    if width > 4:  # equal top blocks, different low ones, and the reverse
        pairs += [(0b1100 << (width - 4) | 1, 0b1100 << (width - 4) | 2), (1 << (width - 2), 3)]
    if width == 64 and not FULL:
        pairs = pairs[-4:] + [pairs[8]] if carry == "grouped" else pairs[-3:-1] + [pairs[8]]
    d = client.decrypt
    for i, (x, y) in enumerate(pairs):  # le, gt: test_integer.py (same tree, other table)
        a, b = client.encrypt(x, width), client.encrypt(y, width)
        assert d(server.lt(a, b)) == (x < y), (x, y)
        assert d(server.ge(a, b)) == (x >= y), (x, y)
        assert d(server.eq(a, b)) == (x == y), (x, y)
        assert d((server.ge if i % 2 else server.lt)(a, y)) == (x >= y if i % 2 else x < y)
        if carry == "sequential":  # the chain's other carry in
            assert d((server.gt if i % 2 else server.le)(a, b)) == (x > y if i % 2 else x <= y)


def test_comparison_counts_uint64(insecure):
    client, shared = insecure
    tree = IntegerServerKey(shared.shortint, carry="grouped")
    chain = IntegerServerKey(shared.shortint, carry="sequential")
    a, b = client.encrypt(5, 64), client.encrypt(9, 64)
    noisy = tree.select(client.encrypt(1, 1), a, b)  # noise above nominal: no clean needed
    for server, count in [(tree, 43), (chain, 32)]:  # 32 + 8 + 2 + 1; 32 in sequence
        before = server.pbs_count
        assert client.decrypt(server.ge(a, b)) == 0
        assert server.pbs_count - before == count
        before = server.pbs_count
        assert client.decrypt(server.lt(noisy, b)) == 1
        assert server.pbs_count - before == count
    assert compare_tree_plan(32) == [32, 8, 2, 1]
    model = CostModel(single_s=0.040, chunk8_s=8 * 0.031, threads=1)
    auto = IntegerServerKey(shared.shortint, cost_model=model)
    assert auto._compare_by_chain(32)  # one core: the chain's 32 beat the tree's 43
    auto._cost_model = CostModel(single_s=0.070, chunk8_s=8 * 0.031, threads=2)
    assert not auto._compare_by_chain(32)


@pytest.mark.parametrize("carry", ["sequential", "grouped"])
def test_add_sub_many(insecure, carry):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry=carry)
    m64, m8 = (1 << 64) - 1, 255
    x, y, z = m64, 1, 0x0123456789ABCDEF
    a, b, c = client.encrypt(x, 64), client.encrypt(y, 64), client.encrypt(z, 64)
    e = client.encrypt(200, 8)
    batches = []
    many = server.shortint.apply_many_lookup_table

    def counted(cts, lut):
        batches.append(len(cts))
        return many(cts, lut)

    server.shortint.apply_many_lookup_table = counted  # instance attribute, this key only
    try:
        before = server.pbs_count
        out = server.add_sub_many([("sub", a, b), ("add", c, a), ("add", e, 100),
                                   ("sub", e, 201)])
    finally:
        del server.shortint.apply_many_lookup_table
    d = client.decrypt
    assert [d(r) for r in out] == [(x - y) & m64, (z + x) & m64, 44, (200 - 201) & m8]
    assert [r.bits for r in out] == [64, 64, 8, 8]
    if carry == "sequential":  # four chains in lockstep: 32 steps, 4 wide for the first 4
        assert batches == [4] * 4 + [2] * 28
        assert server.pbs_count - before == 2 * 32 + 2 * 4
    with pytest.raises(ValueError, match="'add' or 'sub'"):
        server.add_sub_many([("mul", a, b)])
    with pytest.raises(ValueError, match="mismatched widths"):
        server.add_sub_many([("add", a, e)])
    assert server.add_sub_many([]) == []


@pytest.mark.parametrize("carry", MODES)
def test_overflowing_sub(insecure, carry):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry=carry)
    m = (1 << 10) - 1
    for x, y in [(5, 9), (9, 5), (7, 7), (0, m), (m, 0), (0x200, 0x1FF)]:
        diff, borrow = server.overflowing_sub(client.encrypt(x, 10), client.encrypt(y, 10))
        assert client.decrypt(diff) == (x - y) & m, (x, y)
        assert client.decrypt(borrow) == (x < y), (x, y)
        assert borrow.bits == 1
