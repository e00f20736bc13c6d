"""JSON-RPC behaviour clients depend on: error codes, batches, reverts, dev controls."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from eth_account import Account
from nodetest_util import rpc

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
# initcode of a contract whose runtime reverts with Error("nope") on any call
REVERT_RUNTIME = (
    "6308c379a060e01b6000526020600452600460245263" + "6e6f7065" + "60e01b604452606460" + "00fd")
REVERTER_INIT = (
    "0x60" + f"{len(REVERT_RUNTIME) // 2:02x}" + "600c60003960" + f"{len(REVERT_RUNTIME) // 2:02x}"
    + "6000f3" + REVERT_RUNTIME)


def post(url: str, body: bytes | str) -> tuple[int, object]:
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ok(url: str, method: str, params: list | None = None) -> object:
    reply = rpc(url, method, params)
    assert "error" not in reply, reply
    return reply["result"]


def test_malformed_json_is_parse_error(node_url: str) -> None:
    status, reply = post(node_url, "{not json")
    assert reply["error"]["code"] == -32700 and reply["id"] is None
    assert ok(node_url, "eth_chainId") == "0x7a69"  # still alive


def test_invalid_requests(node_url: str) -> None:
    assert post(node_url, "[]")[1]["error"]["code"] == -32600
    assert post(node_url, "42")[1]["error"]["code"] == -32600
    assert post(node_url, '{"id": 1, "method": 5}')[1]["error"]["code"] == -32600
    reply = post(node_url, '{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", '
                           '"params": {"a": 1}}')[1]
    assert reply["error"]["code"] == -32602 and reply["id"] == 7


def test_unknown_method(node_url: str) -> None:
    assert rpc(node_url, "eth_doesNotExist")["error"]["code"] == -32601


def test_bad_params(node_url: str) -> None:
    for method, params in [("eth_getBalance", ["0x1234", "latest"]),
                           ("eth_getBalance", [DEV0, "yesterday"]),
                           ("eth_getBlockByNumber", ["0xzz", False]),
                           ("eth_getBlockByNumber", []),
                           ("eth_getStorageAt", [DEV0, "not-hex", "latest"]),
                           ("eth_sendRawTransaction", ["0x"]),
                           ("eth_call", ["not an object"]),
                           ("eth_getLogs", [{"topics": "x"}])]:
        reply = rpc(node_url, method, params)
        assert reply["error"]["code"] == -32602, (method, params, reply)


def test_garbage_transaction_is_rejected_cleanly(node_url: str) -> None:
    before = ok(node_url, "eth_blockNumber")
    reply = rpc(node_url, "eth_sendRawTransaction", ["0xdeadbeef"])
    assert reply["error"]["code"] == -32000
    assert ok(node_url, "eth_blockNumber") == before


def test_oversized_body(node_url: str) -> None:
    status, reply = post(node_url, b"[" + b" " * (33 * 1024 * 1024) + b"]")
    assert status == 413 and reply["error"]["code"] == -32600
    assert ok(node_url, "eth_chainId") == "0x7a69"


def test_batch_mixes_results_and_errors(node_url: str) -> None:
    body = json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3, "method": "net_version"},
    ])
    _, replies = post(node_url, body)
    by_id = {r["id"]: r for r in replies}
    assert by_id[1]["result"] == "0x7a69"
    assert by_id[2]["error"]["code"] == -32601
    assert by_id[3]["result"] == "31337"


def _send(url: str, tx: dict) -> dict:
    h = ok(url, "eth_sendTransaction", [tx])
    receipt = ok(url, "eth_getTransactionReceipt", [h])
    assert receipt is not None
    return receipt


def test_revert_is_code_3_with_data(node_url: str) -> None:
    receipt = _send(node_url, {"from": DEV0, "to": None, "data": REVERTER_INIT})
    addr = receipt["contractAddress"]
    assert receipt["status"] == "0x1" and addr
    reply = rpc(node_url, "eth_call", [{"to": addr, "data": "0x"}, "latest"])
    err = reply["error"]
    assert err["code"] == 3
    assert err["message"] == "execution reverted: nope"
    assert err["data"].startswith("0x08c379a0")
    reply = rpc(node_url, "eth_estimateGas", [{"from": DEV0, "to": addr}])
    assert reply["error"]["code"] == 3 and reply["error"]["data"] == err["data"]


def test_raw_transfer_and_nonce_errors(node_url: str) -> None:
    acct = Account.from_key(DEV0_KEY)
    nonce = int(ok(node_url, "eth_getTransactionCount", [DEV0, "pending"]), 16)
    tx = {"to": "0x000000000000000000000000000000000000dEaD", "value": 5, "gas": 21000,
          "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "nonce": nonce,
          "chainId": 31337, "type": 2}
    raw = "0x" + bytes(acct.sign_transaction(tx).raw_transaction).hex()
    h = ok(node_url, "eth_sendRawTransaction", [raw])
    assert ok(node_url, "eth_getTransactionReceipt", [h])["status"] == "0x1"
    again = rpc(node_url, "eth_sendRawTransaction", [raw])
    assert again["error"]["code"] == -32000 and "nonce" in again["error"]["message"].lower()
    wrong_chain = acct.sign_transaction({**tx, "nonce": nonce + 1, "chainId": 1})
    reply = rpc(node_url, "eth_sendRawTransaction",
                ["0x" + bytes(wrong_chain.raw_transaction).hex()])
    assert reply["error"]["code"] == -32000 and "chain" in reply["error"]["message"]


def test_snapshot_revert_time_and_set_balance(node_url: str) -> None:
    who = "0x1111111111111111111111111111111111111111"
    snap = ok(node_url, "evm_snapshot")
    head = int(ok(node_url, "eth_blockNumber"), 16)
    ok(node_url, "anvil_setBalance", [who, hex(10**18)])
    assert int(ok(node_url, "eth_getBalance", [who, "latest"]), 16) == 10**18
    ok(node_url, "hardhat_setCode", [who, "0x6001"])
    assert ok(node_url, "eth_getCode", [who, "latest"]) == "0x6001"
    now = int(time.time())
    ok(node_url, "evm_increaseTime", [3600])
    ok(node_url, "evm_mine")
    t1 = int(ok(node_url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert t1 >= now + 3600
    ok(node_url, "evm_setNextBlockTimestamp", [t1 + 100])
    ok(node_url, "evm_mine")
    assert int(ok(node_url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16) \
        == t1 + 100
    assert ok(node_url, "evm_revert", [snap]) is True
    assert int(ok(node_url, "eth_blockNumber"), 16) == head
    assert int(ok(node_url, "eth_getBalance", [who, "latest"]), 16) == 0
    assert ok(node_url, "evm_revert", [snap]) is False  # a snapshot is used once


def test_automine_off_then_mine(node_url: str) -> None:
    ok(node_url, "evm_setAutomine", [False])
    try:
        h = ok(node_url, "eth_sendTransaction", [{"from": DEV0, "to": DEV0, "value": "0x1"}])
        assert ok(node_url, "eth_getTransactionReceipt", [h]) is None
        assert ok(node_url, "eth_getTransactionByHash", [h])["blockHash"] is None
        pending = ok(node_url, "eth_getTransactionCount", [DEV0, "pending"])
        latest = ok(node_url, "eth_getTransactionCount", [DEV0, "latest"])
        assert int(pending, 16) == int(latest, 16) + 1
        ok(node_url, "evm_mine")
        assert ok(node_url, "eth_getTransactionReceipt", [h])["status"] == "0x1"
    finally:
        ok(node_url, "evm_setAutomine", [True])


def test_sign_and_typed_data(node_url: str) -> None:
    from eth_account.messages import encode_defunct

    sig = ok(node_url, "eth_sign", [DEV0, "0x68656c6c6f"])
    assert Account.recover_message(encode_defunct(b"hello"), signature=sig) == DEV0
    typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"},
                                        {"name": "chainId", "type": "uint256"}],
                       "Mail": [{"name": "body", "type": "string"}]},
             "primaryType": "Mail", "domain": {"name": "t", "chainId": 31337},
             "message": {"body": "hi"}}
    sig = ok(node_url, "eth_signTypedData_v4", [DEV0, json.dumps(typed)])
    from eth_account.messages import encode_typed_data
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=sig) == DEV0
    locked = rpc(node_url, "eth_sign", ["0x000000000000000000000000000000000000dEaD", "0x00"])
    assert locked["error"]["code"] == -32000


def test_cors_for_browser_dapps(node_url: str) -> None:
    req = urllib.request.Request(node_url, method="OPTIONS",
                                 headers={"Origin": "http://localhost:3000",
                                          "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode()
    req = urllib.request.Request(node_url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "*"
