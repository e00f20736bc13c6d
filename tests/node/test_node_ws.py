"""WebSocket JSON-RPC: plain calls, eth_subscribe newHeads and logs, eth_unsubscribe."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from nodetest_util import rpc

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# runtime: mstore(0, 0xaa); log1(0, 32, topic 1); stop
LOGGER_INIT = "0x600d600c600039600d6000f3" + "60aa600052600160206000a100"
TOPIC1 = "0x" + "00" * 31 + "01"


def ok(url: str, method: str, params: list | None = None) -> object:
    reply = rpc(url, method, params)
    assert "error" not in reply, reply
    return reply["result"]


async def _exchange(ws: aiohttp.ClientWebSocketResponse, rid: int, method: str,
                    params: list) -> object:
    await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                  "params": params}))
    while True:
        msg = json.loads((await ws.receive(timeout=20)).data)
        if msg.get("id") == rid:
            return msg


async def _scenario(url: str, contract: str) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(url.replace("http", "ws")) as ws:
        assert (await _exchange(ws, 1, "eth_chainId", []))["result"] == "0x7a69"
        heads = (await _exchange(ws, 2, "eth_subscribe", ["newHeads"]))["result"]
        logs = (await _exchange(ws, 3, "eth_subscribe",
                                ["logs", {"address": contract, "topics": [TOPIC1]}]))["result"]
        other = (await _exchange(ws, 4, "eth_subscribe",
                                 ["logs", {"address": DEV0}]))["result"]
        loop = asyncio.get_running_loop()
        h = await loop.run_in_executor(None, ok, url, "eth_sendTransaction",
                                       [{"from": DEV0, "to": contract, "gas": "0x20000"}])
        got: dict[str, list] = {heads: [], logs: [], other: []}
        while not (got[heads] and got[logs]):
            msg = json.loads((await ws.receive(timeout=20)).data)
            assert msg["method"] == "eth_subscription"
            got[msg["params"]["subscription"]].append(msg["params"]["result"])
        head, log = got[heads][0], got[logs][0]
        receipt = await loop.run_in_executor(None, ok, url, "eth_getTransactionReceipt", [h])
        assert head["hash"] == receipt["blockHash"] and head["number"] == receipt["blockNumber"]
        assert log["transactionHash"] == h and log["topics"] == [TOPIC1]
        assert int(log["data"], 16) == 0xAA
        assert not got[other]
        assert (await _exchange(ws, 5, "eth_unsubscribe", [heads]))["result"] is True
        assert (await _exchange(ws, 6, "eth_unsubscribe", [heads]))["result"] is False
        bad = await _exchange(ws, 7, "eth_subscribe", ["nonsense"])
        assert bad["error"]["code"] == -32602


def test_websocket_subscriptions(node_url: str) -> None:
    h = ok(node_url, "eth_sendTransaction", [{"from": DEV0, "data": LOGGER_INIT}])
    contract = ok(node_url, "eth_getTransactionReceipt", [h])["contractAddress"]
    asyncio.run(_scenario(node_url, contract))


def test_subscribe_over_http_is_refused(node_url: str) -> None:
    assert rpc(node_url, "eth_subscribe", ["newHeads"])["error"]["code"] == -32601
