"""FHE through the node: ciphertexts made by mined transactions survive kill -9.

Deploys the FHETestEuint32 harness (contracts/) on a node running the fhevm runtime
(clear backend), computes on encrypted values over JSON-RPC, kills the node, restarts
it, computes again on the stored handles, and decrypts from the data directory.
Skips while fhevm's runtime or the contract artifacts are not in this checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from nodetest_util import NodeProcess, rpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
FhevmRuntime = pytest.importorskip("fhevm.runtime").FhevmRuntime
artifacts = pytest.importorskip("contracts.artifacts")

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def call_data(sig: str, *args: object) -> str:
    types = [t for t in sig[sig.index("(") + 1:-1].split(",") if t]
    return "0x" + (selector(sig) + encode(types, list(args))).hex()


def ok(url: str, method: str, params: list) -> object:
    reply = rpc(url, method, params, timeout=120)
    assert "error" not in reply, reply
    return reply["result"]


def send(url: str, to: str | None, data: str) -> dict:
    h = ok(url, "eth_sendTransaction", [{"from": DEV0, "to": to, "data": data,
                                         "gas": hex(10_000_000)}])
    receipt = ok(url, "eth_getTransactionReceipt", [h])
    assert receipt["status"] == "0x1", receipt
    return receipt


def last_result(url: str, contract: str) -> bytes:
    out = ok(url, "eth_call", [{"to": contract, "data": call_data("lastResult()")}, "latest"])
    return bytes.fromhex(out[2:])


def test_ciphertexts_survive_kill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    n = NodeProcess(data)
    try:
        code = "0x" + artifacts.load_bytecode("FHETestEuint32").hex()
        contract = send(n.url, None, code)["contractAddress"]
        send(n.url, contract, call_data("binary(uint8,uint32,uint32)", 0, 20, 22))
        h1 = last_result(n.url, contract)
        send(n.url, contract, call_data("binaryHandles(uint8,bytes32,bytes32)", 0, h1, h1))
        h2 = last_result(n.url, contract)
        blob = ok(n.url, "fhevm_getCiphertext", ["0x" + h1.hex()])  # what KMS parties read
        assert isinstance(blob, str) and len(blob) > 2
        assert ok(n.url, "fhevm_getCiphertext", ["0x" + "00" * 32]) is None
        assert rpc(n.url, "fhevm_getCiphertext", ["0x1234"])["error"]["code"] == -32602
    finally:
        n.kill()
    n = NodeProcess(data)
    try:  # the stored ciphertexts are inputs again after the restart
        send(n.url, contract, call_data("binaryHandles(uint8,bytes32,bytes32)", 0, h2, h1))
        h3 = last_result(n.url, contract)
    finally:
        n.stop()
    from node.store import BlobMap, Store

    store = Store(str(data / "chain.sqlite3"))
    rt = FhevmRuntime(backend="clear", chain_id=31337, blob_db=BlobMap(store))
    assert [rt.decrypt(h) for h in (h1, h2, h3)] == [42, 84, 126]
    assert BlobMap(store)[h1] == bytes.fromhex(blob[2:])
    store.close()
