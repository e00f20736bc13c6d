"""Homomorphic complexity units (HCU): cost per operation, width and operand kind.

The figures are the reference table of @fhevm/host-contracts 0.10.0 (HCULimit.sol).
Encrypted divisors (`div`/`rem` with an encrypted right operand), `sum` and `isIn` are our
extensions; their costs are derived from the table (see `_derived`). A transaction may
spend at most 20,000,000 HCU in total and 5,000,000 along any dependency chain ("depth":
the HCU of a result is its own cost plus the deepest operand's, per transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhevm.abi import Revert
from fhevm.addresses import EXECUTOR
from fhevm.precompile import CallContext, slot
from fhevm.types import FheType

MAX_HCU_PER_TX = 20_000_000
MAX_HCU_DEPTH_PER_TX = 5_000_000

#: EVM gas charged per HCU, so eth_estimateGas covers the FHE work.
GAS_PER_HCU_DIVISOR = 4

_COLS = (
    FheType.Bool, FheType.Uint8, FheType.Uint16, FheType.Uint32,
    FheType.Uint64, FheType.Uint128, FheType.Uint160, FheType.Uint256,
)  # fmt: skip
_ = None

# op: (costs with a plaintext right operand, costs with an encrypted one), per _COLS.
# fmt: off
_BINARY: dict[str, tuple[tuple, tuple]] = {
    "add": ((_, 84_000, 93_000, 95_000, 133_000, 172_000, _, _),
            (_, 88_000, 93_000, 125_000, 162_000, 259_000, _, _)),
    "sub": ((_, 84_000, 93_000, 95_000, 133_000, 172_000, _, _),
            (_, 91_000, 93_000, 125_000, 162_000, 260_000, _, _)),
    "mul": ((_, 122_000, 193_000, 265_000, 365_000, 696_000, _, _),
            (_, 150_000, 222_000, 328_000, 596_000, 1_686_000, _, _)),
    "div": ((_, 210_000, 302_000, 438_000, 715_000, 1_225_000, _, _), ()),
    "rem": ((_, 440_000, 580_000, 792_000, 1_153_000, 1_943_000, _, _), ()),
    "and": ((22_000, 31_000, 31_000, 32_000, 34_000, 37_000, _, 38_000),
            (25_000, 31_000, 31_000, 32_000, 34_000, 37_000, _, 38_000)),
    "or":  ((22_000, 30_000, 30_000, 32_000, 34_000, 37_000, _, 38_000),
            (24_000, 30_000, 31_000, 32_000, 34_000, 37_000, _, 38_000)),
    "xor": ((22_000, 31_000, 31_000, 32_000, 34_000, 37_000, _, 39_000),
            (22_000, 31_000, 31_000, 32_000, 34_000, 37_000, _, 39_000)),
    "shl": ((_, 32_000, 32_000, 32_000, 34_000, 37_000, _, 39_000),
            (_, 92_000, 125_000, 162_000, 208_000, 272_000, _, 378_000)),
    "shr": ((_, 32_000, 32_000, 32_000, 34_000, 37_000, _, 38_000),
            (_, 91_000, 123_000, 163_000, 209_000, 272_000, _, 369_000)),
    "rotl": ((_, 31_000, 31_000, 32_000, 34_000, 37_000, _, 38_000),
             (_, 91_000, 125_000, 163_000, 209_000, 278_000, _, 378_000)),
    "rotr": ((_, 31_000, 31_000, 32_000, 34_000, 37_000, _, 40_000),
             (_, 93_000, 125_000, 160_000, 209_000, 283_000, _, 375_000)),
    "eq": ((25_000, 55_000, 55_000, 82_000, 83_000, 117_000, 117_000, 118_000),
           (26_000, 55_000, 83_000, 86_000, 120_000, 122_000, 137_000, 152_000)),
    "ne": ((23_000, 55_000, 55_000, 83_000, 84_000, 117_000, 117_000, 117_000),
           (23_000, 55_000, 83_000, 85_000, 118_000, 122_000, 136_000, 150_000)),
    "ge": ((_, 52_000, 55_000, 84_000, 116_000, 149_000, _, _),
           (_, 63_000, 84_000, 118_000, 152_000, 210_000, _, _)),
    "gt": ((_, 52_000, 55_000, 84_000, 117_000, 150_000, _, _),
           (_, 59_000, 84_000, 118_000, 152_000, 218_000, _, _)),
    "le": ((_, 58_000, 58_000, 84_000, 119_000, 150_000, _, _),
           (_, 58_000, 83_000, 117_000, 149_000, 218_000, _, _)),
    "lt": ((_, 52_000, 58_000, 83_000, 118_000, 149_000, _, _),
           (_, 59_000, 84_000, 117_000, 146_000, 215_000, _, _)),
    "min": ((_, 84_000, 88_000, 117_000, 150_000, 186_000, _, _),
            (_, 119_000, 146_000, 182_000, 219_000, 289_000, _, _)),
    "max": ((_, 89_000, 89_000, 117_000, 149_000, 180_000, _, _),
            (_, 121_000, 145_000, 180_000, 218_000, 290_000, _, _)),
}
_UNARY: dict[str, tuple] = {
    "neg": (_, 79_000, 93_000, 95_000, 131_000, 168_000, _, 269_000),
    "not": (2, 9, 16, 32, 63, 130, _, 130),
    "cast": (32, 32, 32, 32, 32, 32, _, 32),
    "trivialEncrypt": (32, 32, 32, 32, 32, 32, 32, 32),
    "select": (55_000, 55_000, 55_000, 55_000, 55_000, 57_000, 83_000, 108_000),
    "rand": (19_000, 23_000, 23_000, 24_000, 24_000, 25_000, _, 30_000),
    "randBounded": (_, 23_000, 23_000, 24_000, 24_000, 25_000, _, 30_000),
}
# fmt: on


def _pick(row: tuple, t: FheType) -> int | None:
    return row[_COLS.index(t)] if row and t in _COLS else None


def _derived(op: str, t: FheType) -> int | None:
    # Encrypted divisor: twice the plaintext-divisor remainder cost, since tfhe-rs computes
    # quotient and remainder together and a hidden divisor needs the full long division.
    if op in ("div", "rem"):
        rem = _pick(_BINARY["rem"][0], t)
        return None if rem is None else 2 * rem
    return None


def binary_cost(op: str, t: FheType, scalar: bool) -> int | None:
    """HCU of one binary operation, or None if the table has no entry (unsupported)."""
    row = _BINARY[op][0 if scalar else 1]
    cost = _pick(row, t)
    return cost if cost is not None or scalar else _derived(op, t)


def unary_cost(op: str, t: FheType) -> int | None:
    return _pick(_UNARY[op], t)


def _log2_ceil(n: int) -> int:
    return max(n - 1, 0).bit_length()


def sum_cost(t: FheType, n: int) -> tuple[int, int] | None:
    """(total, depth) of summing n values: n-1 encrypted additions in a balanced tree."""
    add = binary_cost("add", t, False)
    if add is None:
        return None
    if n <= 1:
        return 32, 32
    return (n - 1) * add, _log2_ceil(n) * add


def is_in_cost(t: FheType, n: int) -> tuple[int, int] | None:
    """(total, depth) of set membership: n equalities, then an OR tree of n booleans."""
    eq = binary_cost("eq", t, False)
    bool_or = binary_cost("or", FheType.Bool, False)
    if eq is None or bool_or is None:
        return None
    if n == 0:
        return 32, 32
    return n * eq + (n - 1) * bool_or, eq + _log2_ceil(n) * bool_or


# --- metering, in the executor's transient storage --------------------------------------

_TX_KEY = slot(b"fhevm.hcu.transaction")
_TX_DEPTH_KEY = slot(b"fhevm.hcu.transaction-depth")  # the deepest result so far
_DEPTH = b"fhevm.hcu.depth"


def transaction_hcu(ctx: CallContext) -> int:
    return ctx.tload(ctx.address, _TX_KEY)


def transaction_totals(state: Any) -> tuple[int, int]:
    """(HCU, HCU depth) metered so far in the transaction a py-evm State is running: the
    State reads them when the transaction ends, before transient storage is cleared."""
    return tuple(  # type: ignore[return-value]
        int.from_bytes(state.get_transient_storage(EXECUTOR, key) or b"", "big")
        for key in (_TX_KEY, _TX_DEPTH_KEY)
    )


def handle_depth(ctx: CallContext, handle: bytes) -> int:
    return ctx.tload(ctx.address, slot(_DEPTH, handle))


def meter(
    ctx: CallContext,
    cost: int,
    operands: Sequence[bytes],
    result: bytes,
    depth_cost: int | None = None,
) -> None:
    """Add `cost` to the transaction, check both limits, record the result's depth, and
    charge the matching gas. Reverts (with the reference's error names) past a limit."""
    total = transaction_hcu(ctx) + cost
    if total >= MAX_HCU_PER_TX:
        raise Revert(f"HCUTransactionLimitExceeded: {total} >= {MAX_HCU_PER_TX} HCU")
    deepest = max((handle_depth(ctx, h) for h in operands), default=0)
    depth = deepest + (cost if depth_cost is None else depth_cost)
    if depth >= MAX_HCU_DEPTH_PER_TX:
        raise Revert(f"HCUTransactionDepthLimitExceeded: {depth} >= {MAX_HCU_DEPTH_PER_TX} HCU")
    ctx.tstore(ctx.address, _TX_KEY, total)
    ctx.tstore(ctx.address, slot(_DEPTH, result), depth)
    if depth > ctx.tload(ctx.address, _TX_DEPTH_KEY):
        ctx.tstore(ctx.address, _TX_DEPTH_KEY, depth)
    ctx.charge(cost // GAS_PER_HCU_DIVISOR, "fhe work (HCU)")
