"""The ciphertext store and the ACL follow the EVM journal: reverted frames, eth_call and
abandoned blocks leave nothing behind; mined blocks commit."""

from __future__ import annotations

from eth_abi import decode

from fhevm.precompile import slot
from fhevm.types import FheType
from tests.fhevm.harness import EXECUTOR, Devnet, call_data

TRIVIAL = "trivialEncrypt(uint256,uint8)"


def _new_handles(net: Devnet, logs: list) -> list[bytes]:
    """Handles announced by the probe's Result events in `logs`."""
    return [data[:32] for address, _, data in logs if address == net.probe]


def test_reverted_transaction_leaves_nothing(net: Devnet) -> None:
    before = dict(net.blob_db)
    inner = call_data(TRIVIAL, 42, int(FheType.Uint64))
    out = net.send(net.probe, call_data("computeThenRevert(bytes)", inner))
    assert not out.success and out.reason == "probe: deliberate revert"
    assert net.blob_db == before and net.rt.store.pending_count() == 0


def test_reverted_inner_frame_leaves_nothing_outer_continues(net: Devnet) -> None:
    a = net.trivial(7, FheType.Uint8)
    n_blobs = len(net.blob_db)
    inner = call_data("fheAdd(bytes32,bytes32,bytes1)", a, a, b"\x01")
    out = net.send(net.probe, call_data("tryComputeThenRevert(bytes)", inner))
    assert out.success and decode(["bool"], out.output) == (False,)
    assert len(net.blob_db) == n_blobs  # the inner result's blob was discarded
    # The inner frame's `last` write and ACL grants were undone as well.
    last = net.view(net.probe, "last()", returns="bytes32")
    assert last == a


def test_successful_inner_frames_are_kept(net: Devnet) -> None:
    n_blobs = len(net.blob_db)
    out = net.compute(TRIVIAL, 5, int(FheType.Uint32))
    assert out.success
    (h,) = _new_handles(net, out.logs)
    assert len(net.blob_db) == n_blobs + 1 and net.blob_db[h]
    assert net.storage(EXECUTOR, slot(b"fhevm.executor.exists", h)) == 1


def test_eth_call_leaves_nothing(net: Devnet) -> None:
    a = net.trivial(3, FheType.Uint8)
    before = dict(net.blob_db)
    out = net.call(
        net.probe,
        call_data("compute(bytes)", call_data("fheMul(bytes32,bytes32,bytes1)", a, a, b"\x00")),
    )
    assert out.success
    r = decode(["bytes32"], out.output)[0]
    assert net.blob_db == before and net.rt.store.pending_count() == 0
    assert net.rt.load(r) is None
    assert not net.is_allowed(r, net.probe)
    assert net.storage(EXECUTOR, slot(b"fhevm.executor.exists", r)) == 0


def test_estimate_gas_covers_fhe_work_and_leaves_nothing(net: Devnet) -> None:
    a = net.trivial(3, FheType.Uint128)
    data = call_data("compute(bytes)", call_data("fheMul(bytes32,bytes32,bytes1)", a, a, b"\x00"))
    before = dict(net.blob_db)
    estimate = net.estimate_gas(net.probe, data)
    assert net.blob_db == before and net.rt.store.pending_count() == 0
    assert estimate > 1_686_000 // 4  # the HCU of an encrypted 128-bit multiplication
    out = net.send(net.probe, data, gas=estimate)
    assert out.success, out.reason
    out = net.send(net.probe, data, gas=estimate // 2)
    assert not out.success


def test_abandoned_block_is_discarded_and_mined_block_committed(net: Devnet) -> None:
    chain, rt = net.chain, net.rt
    tx = net._tx(
        net.alice,
        net.probe,
        call_data("compute(bytes)", call_data(TRIVIAL, 11, int(FheType.Uint8))),
        0,
        1_000_000,
    )
    _, receipt, comp = chain.apply_transaction(tx)
    assert comp.is_success and rt.store.pending_count() == 1
    rt.discard()  # the node drops the block it was building
    assert rt.store.pending_count() == 0
    tx = net._tx(
        net.alice,
        net.probe,
        call_data("compute(bytes)", call_data(TRIVIAL, 12, int(FheType.Uint8))),
        0,
        1_000_000,
    )
    _, receipt, comp = chain.apply_transaction(tx)
    chain.mine_block()
    written: dict[bytes, bytes] = {}
    assert rt.commit(written.__setitem__) == 1
    (h,) = written
    assert rt.decrypt(h) == 12  # readable at once, even before the node's batch lands
    net.blob_db.update(written)
    assert rt.decrypt(h) == 12


def test_committed_blobs_outlive_the_runtime(net: Devnet) -> None:
    from fhevm.runtime import FhevmRuntime

    h = net.trivial(99, FheType.Uint64)
    restarted = FhevmRuntime("clear", net.rt.chain_id, net.blob_db, net.config)
    assert restarted.decrypt(h) == 99
