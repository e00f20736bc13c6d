"""kill -9 at any moment, restart: every block that was reported mined is still there."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from eth_account import Account
from nodetest_util import NodeProcess, rpc

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # dev account 1
SINK = "0x000000000000000000000000000000000000bEEF"
# initcode storing 0x2a at slot 0, runtime: return slot 0
STORE_INIT = "0x602a600055600b6011600039600b6000f360005460005260206000f3"


def ok(url: str, method: str, params: list | None = None) -> object:
    reply = rpc(url, method, params)
    assert "error" not in reply, reply
    return reply["result"]


def transfer(url: str, acct: object, nonce: int) -> str:
    raw = acct.sign_transaction({  # type: ignore[attr-defined]
        "to": SINK, "value": 1, "gas": 21000, "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9, "nonce": nonce, "chainId": 31337, "type": 2})
    return ok(url, "eth_sendRawTransaction", ["0x" + bytes(raw.raw_transaction).hex()])


def test_restart_after_kill_keeps_chain(tmp_path: Path) -> None:
    data = tmp_path / "data"
    n = NodeProcess(data)
    acct = Account.from_key(KEY)
    try:
        h = ok(n.url, "eth_sendTransaction", [{
            "from": acct.address, "data": STORE_INIT, "gas": "0x30000"}])
        contract = ok(n.url, "eth_getTransactionReceipt", [h])["contractAddress"]
        hashes = [transfer(n.url, acct, 1 + i) for i in range(5)]
        head = ok(n.url, "eth_getBlockByNumber", ["latest", False])
        balance = ok(n.url, "eth_getBalance", [SINK, "latest"])
    finally:
        n.kill()
    n = NodeProcess(data)
    try:
        assert ok(n.url, "eth_getBlockByNumber", ["latest", False]) == head
        assert ok(n.url, "eth_getBalance", [SINK, "latest"]) == balance == hex(5)
        assert int(ok(n.url, "eth_getStorageAt", [contract, "0x0", "latest"]), 16) == 0x2A
        assert int(ok(n.url, "eth_call", [{"to": contract}, "latest"]), 16) == 0x2A
        for h in hashes:
            assert ok(n.url, "eth_getTransactionReceipt", [h])["status"] == "0x1"
        # the chain goes on from where it was
        transfer(n.url, acct, 6)
        assert int(ok(n.url, "eth_blockNumber"), 16) == int(head["number"], 16) + 1
    finally:
        n.stop()


def test_kill_during_mining_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    n = NodeProcess(data)
    acct = Account.from_key(KEY)
    acked: list[str] = []
    stop = threading.Event()

    def sender() -> None:
        nonce = 0
        while not stop.is_set():
            try:
                acked.append(transfer(n.url, acct, nonce))
            except Exception:
                return  # the node died under us
            nonce += 1

    t = threading.Thread(target=sender)
    t.start()
    time.sleep(1.5)
    n.kill()  # SIGKILL in the middle of mining
    stop.set()
    t.join(30)
    assert len(acked) > 5
    n = NodeProcess(data)
    try:
        head = int(ok(n.url, "eth_blockNumber"), 16)
        assert head >= len(acked)
        for h in acked:
            assert ok(n.url, "eth_getTransactionReceipt", [h])["status"] == "0x1"
        blocks = [ok(n.url, "eth_getBlockByNumber", [hex(i), False]) for i in range(head + 1)]
        for parent, child in zip(blocks, blocks[1:], strict=False):  # one linked chain
            assert child["parentHash"] == parent["hash"]
        nonce = int(ok(n.url, "eth_getTransactionCount", [acct.address, "latest"]), 16)
        assert nonce >= len(acked)
        transfer(n.url, acct, nonce)
    finally:
        n.stop()


def test_block_records_round_trip_and_read_records_without_hcu() -> None:
    """Block bodies carry each transaction's HCU; bodies written before that (nine fields
    per transaction) still decode, with HCU 0."""
    import rlp
    from eth.vm.forks.prague.blocks import PragueBlockHeader

    from node.records import LogRec, TxRec, decode_block, encode_body

    header = PragueBlockHeader(difficulty=0, block_number=1, gas_limit=30_000_000,
                               timestamp=1, parent_beacon_block_root=b"\0" * 32)
    tx = TxRec(raw=b"\x02raw", hash=b"\x11" * 32, sender=b"\x22" * 20, contract=b"",
               status=1, cumulative_gas=21000, gas_used=21000,
               logs=(LogRec(b"\x33" * 20, (b"\x44" * 32,), b"data"),), logs_bloom=5,
               hcu=531_032, hcu_depth=369_000)
    header_rlp = rlp.encode(header)
    assert decode_block(header_rlp, encode_body((tx,))).txs == (tx,)
    old = rlp.encode([rlp.decode(encode_body((tx,)))[0][:9]])
    (read,) = decode_block(header_rlp, old).txs
    assert (read.hcu, read.hcu_depth) == (0, 0) and read.logs == tx.logs
