"""HCU limits per transaction (total and depth) revert with their reason."""

from __future__ import annotations

from fhevm.types import FheType
from tests.fhevm.harness import Devnet, call_data, sel

MUL = "fheMul(bytes32,bytes32,bytes1)"  # 1,686,000 HCU on encrypted Uint128


def test_transaction_total_limit(net: Devnet) -> None:
    a = net.trivial(3, FheType.Uint128)
    data = call_data(MUL, a, a, b"\x00")
    ok = net.send(net.probe, call_data("repeat(bytes,uint256)", data, 11))  # 18.5M HCU
    assert ok.success, ok.reason
    over = net.send(net.probe, call_data("repeat(bytes,uint256)", data, 12))  # 20.2M HCU
    assert not over.success and "HCUTransactionLimitExceeded" in over.reason
    # The limit is per transaction: the next one starts from zero.
    assert net.send(net.probe, call_data("repeat(bytes,uint256)", data, 11)).success


def test_transaction_depth_limit(net: Devnet) -> None:
    a = net.trivial(3, FheType.Uint128)
    ok = net.send(net.probe, call_data("chain(bytes4,bytes32,uint256)", sel(MUL), a, 2))
    assert ok.success, ok.reason  # 3.37M deep
    deep = net.send(net.probe, call_data("chain(bytes4,bytes32,uint256)", sel(MUL), a, 3))
    assert not deep.success and "HCUTransactionDepthLimitExceeded" in deep.reason


def test_scalar_operations_are_cheaper_than_encrypted(net: Devnet) -> None:
    a = net.trivial(3, FheType.Uint64)
    enc = net.compute(MUL, a, a, b"\x00")
    scalar = net.compute(MUL, a, (3).to_bytes(32, "big"), b"\x01")
    assert enc.success and scalar.success
    # 596,000 vs 365,000 HCU, charged as gas at 1/4 gas per HCU
    assert enc.gas_used - scalar.gas_used >= (596_000 - 365_000) // 4 - 5_000
