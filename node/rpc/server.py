"""JSON-RPC 2.0 over HTTP (single and batch) and WebSocket (with eth_subscribe).

Malformed input gets the standard error object and the server carries on. Reads answer
on the event loop at once; anything that executes EVM code waits for the writer thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from node.chain import NotFast
from node.devnet import Devnet
from node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
)
from node.format import block_json
from node.records import BlockRec
from node.rpc.methods import WRITER, Methods, block_logs

log = logging.getLogger("fhevm-node")

MAX_BODY = 32 * 1024 * 1024
CHEAP_CONTROLS = {"evm_snapshot", "evm_increaseTime", "evm_setNextBlockTimestamp"}
MAX_BATCH = 1000


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Any origin may call, as with anvil and hardhat: dapps in a browser use the devnet."""
    response = await handler(request)
    if not isinstance(response, web.WebSocketResponse):
        response.headers.update(CORS_HEADERS)
    return response


def _err(req_id: Any, e: RpcError) -> dict:
    return {"jsonrpc": "2.0", "id": req_id, "error": e.to_json()}


class RpcServer:
    def __init__(self, devnet: Devnet) -> None:
        self.devnet = devnet
        self.methods = Methods(devnet)
        self.table = self.methods.table()
        self.table["personal_sign"] = self.methods.personal_sign
        from node.rpc.fhevm_methods import FhevmMethods  # inputs, decryption, node info

        self.fhevm = FhevmMethods(devnet, lambda m, p: self.dispatch(m, p, None))
        self.table.update(self.fhevm.table())
        self.subs: dict[str, tuple[web.WebSocketResponse, str, dict | None]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._miner: asyncio.Task | None = None
        devnet.listeners.append(self._on_block_threadsafe)

    # ----------------------------------------------------------------- app
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[cors])
        app.router.add_route("POST", "/", self.http)
        app.router.add_route("OPTIONS", "/", self.preflight)
        app.router.add_route("GET", "/", self.ws_or_info)
        app.on_startup.append(self._startup)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _startup(self, app: web.Application) -> None:
        self.loop = asyncio.get_running_loop()
        self._miner = asyncio.create_task(self._interval_miner())

    async def _cleanup(self, app: web.Application) -> None:
        if self._miner:
            self._miner.cancel()

    async def _interval_miner(self) -> None:
        """With --block-time, mine the pool every block_time seconds (empty blocks too)."""
        while True:
            bt = self.devnet.block_time
            await asyncio.sleep(bt if bt else 0.2)
            if bt and not self.devnet.automine:
                try:
                    await asyncio.wrap_future(self.devnet.submit(self.devnet.mine_pool))
                except Exception:
                    log.exception("interval mining failed")

    # ----------------------------------------------------------------- HTTP
    async def http(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._json(_err(None, RpcError(INVALID_REQUEST, "request body too large")),
                              status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._json(_err(None, RpcError(INVALID_REQUEST, "request body too large")),
                              status=413)
        reply = await self.handle_text(body)
        if reply is None:
            return web.Response(status=204)
        return web.Response(body=reply, content_type="application/json")

    async def preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    @staticmethod
    def _json(obj: Any, status: int = 200) -> web.Response:
        return web.Response(body=json.dumps(obj), status=status, content_type="application/json")

    async def handle_text(self, body: bytes | str, ws: web.WebSocketResponse | None = None
                          ) -> str | None:
        try:
            msg = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return json.dumps(_err(None, RpcError(PARSE_ERROR, "parse error: invalid JSON")))
        if isinstance(msg, list):
            if not msg:
                return json.dumps(_err(None, RpcError(INVALID_REQUEST, "empty batch")))
            if len(msg) > MAX_BATCH:
                return json.dumps(_err(None, RpcError(INVALID_REQUEST,
                                                      f"batch larger than {MAX_BATCH}")))
            replies = [r for r in [await self.handle_one(m, ws) for m in msg] if r is not None]
            return json.dumps(replies) if replies else None
        reply = await self.handle_one(msg, ws)
        return None if reply is None else json.dumps(reply)

    async def handle_one(self, req: Any, ws: web.WebSocketResponse | None = None
                         ) -> dict | None:
        if not isinstance(req, dict):
            return _err(None, RpcError(INVALID_REQUEST, "invalid request: expected an object"))
        req_id = req.get("id")
        if not isinstance(req_id, str | int | float | type(None)) or isinstance(req_id, bool):
            return _err(None, RpcError(INVALID_REQUEST, "invalid request id"))
        method = req.get("method")
        if req.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _err(req_id, RpcError(INVALID_REQUEST,
                                         "invalid request: need jsonrpc '2.0' and a method"))
        params = req.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            return _err(req_id, RpcError(INVALID_PARAMS, "params must be an array"))
        try:
            result = await self.dispatch(method, params, ws)
        except RpcError as e:
            return _err(req_id, e)
        except Exception as e:  # a bug must not kill the node; say what went wrong
            log.exception("internal error in %s", method)
            return _err(req_id, RpcError(INTERNAL_ERROR, f"internal error: {e}"))
        if "id" not in req:
            return None  # a notification
        return {"jsonrpc": "2.0", "id": req_id, "result": result}

    async def dispatch(self, method: str, params: list, ws: web.WebSocketResponse | None
                       ) -> Any:
        if method == "eth_subscribe":
            if ws is None:
                raise RpcError(METHOD_NOT_FOUND, "eth_subscribe needs a WebSocket connection")
            return self.subscribe(ws, params)
        if method == "eth_unsubscribe":
            sid = params[0] if params else None
            entry = self.subs.get(sid) if isinstance(sid, str) else None
            if entry is None or entry[0] is not ws:
                return False
            del self.subs[sid]
            return True
        fn = self.table.get(method)
        if fn is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not "
                                             "available")
        if method in WRITER:
            if method in CHEAP_CONTROLS:
                ran, result = self.devnet.try_inline(fn, params)
                if ran:
                    return result
            elif method == "eth_sendRawTransaction":
                ran, result = self._try_plain_transfer(params)
                if ran:
                    return result
            return await asyncio.wrap_future(self.devnet.submit(fn, params))
        result = fn(params)
        return await result if asyncio.iscoroutine(result) else result  # fhevm_* relays

    def _try_plain_transfer(self, params: list) -> tuple[bool, Any]:
        """Mine a plain ETH transfer right here on the event loop when the chain is idle:
        no EVM code runs, so it is short, and it saves two thread hand-offs. Anything
        else (NotFast) goes to the writer thread."""
        try:
            return self.devnet.try_inline(self.methods.eth_sendRawTransaction, params, True)
        except NotFast:
            return False, None

    # ----------------------------------------------------------------- WebSocket
    async def ws_or_info(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(text="fhevm-node: JSON-RPC 2.0 over HTTP POST and WebSocket\n")
        ws = web.WebSocketResponse(max_msg_size=MAX_BODY, heartbeat=30)
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    asyncio.create_task(self._ws_reply(ws, msg.data))
                elif msg.type == WSMsgType.BINARY:
                    asyncio.create_task(self._ws_reply(ws, msg.data))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            for sid in [s for s, e in self.subs.items() if e[0] is ws]:
                del self.subs[sid]
        return ws

    async def _ws_reply(self, ws: web.WebSocketResponse, data: str | bytes) -> None:
        reply = await self.handle_text(data, ws)
        if reply is not None and not ws.closed:
            await ws.send_str(reply)

    def subscribe(self, ws: web.WebSocketResponse, params: list) -> str:
        kind = params[0] if params else None
        if kind not in ("newHeads", "logs", "newPendingTransactions"):
            raise RpcError(INVALID_PARAMS, f"unsupported subscription {kind!r}")
        crit = None
        if kind == "logs":
            crit = self.methods._log_criteria(params[1] if len(params) > 1 else {})
        sid = "0x" + secrets.token_hex(16)
        self.subs[sid] = (ws, kind, crit)
        return sid

    def _on_block_threadsafe(self, rec: BlockRec) -> None:
        if self.loop is not None and self.subs:
            self.loop.call_soon_threadsafe(self._on_block, rec)

    def _on_block(self, rec: BlockRec) -> None:
        head = None
        for sid, (ws, kind, crit) in list(self.subs.items()):
            if ws.closed:
                continue
            if kind == "newHeads":
                if head is None:
                    head = block_json(rec, False, self.devnet.chain.decode_tx)
                    head.pop("transactions", None)
                self._push(ws, sid, head)
            elif kind == "logs":
                for lg in block_logs(rec, crit):
                    self._push(ws, sid, lg)

    def _push(self, ws: web.WebSocketResponse, sid: str, result: Any) -> None:
        msg = {"jsonrpc": "2.0", "method": "eth_subscription",
               "params": {"subscription": sid, "result": result}}
        asyncio.ensure_future(ws.send_str(json.dumps(msg)))
