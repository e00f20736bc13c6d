"""The node's side of the KMS for in-process tests: a JSON-RPC app over an in-memory fhEVM
chain (tests.fhevm.harness.Devnet) answering what the parties ask the node, eth_call (the
ACL) and fhevm_getSquashedCiphertext (node.kms.squasher.Squasher, as the node runs it),
and the n parties serving over HTTP on ephemeral ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from node.kms import dealer
from node.kms.acl import AclClient, JsonRpc
from node.kms.party import NodeSource, Party
from node.kms.squasher import Squasher


def squasher_for(net: Any, kms_dir: Path, cfg: dealer.PublicConfig,
                 keys: tuple | None = None) -> Squasher:
    """A Squasher reading the chain's committed ciphertexts."""
    return Squasher(kms_dir, cfg, net.rt.store.get, keys=keys)


def rpc_app(net: Any, squasher: Squasher, calls: list[str] | None = None) -> web.Application:
    async def rpc(request: web.Request) -> web.Response:
        body = await request.json()
        method, params = body["method"], body["params"]
        if calls is not None:
            calls.append(method)
        if method == "eth_call":
            out = net.call(bytes.fromhex(params[0]["to"][2:]),
                           bytes.fromhex(params[0]["data"][2:]))
            result = {"result": "0x" + out.output.hex()} if out.success else {
                "error": {"code": 3, "message": out.reason}}
        elif method == "fhevm_getSquashedCiphertext":
            handles = [bytes.fromhex(h[2:]) for h in params[0]]
            res = await squasher.squashed(handles)
            result = {"result": [None if r is None else r.to_json() for r in res]}
        else:
            result = {"error": {"code": -32601, "message": method}}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], **result})

    app = web.Application(client_max_size=2**26)
    app.router.add_post("/", rpc)
    return app


async def _serve(app: web.Application, runners: list) -> str:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    runners.append(runner)
    return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore


async def with_parties(net: Any, kms_dir: Path, cfg: dealer.PublicConfig, squasher: Squasher,
                       fn: Callable[[list[str]], Awaitable[Any]],
                       calls: list[str] | None = None) -> Any:
    """Run the fake node and the n parties (each with its own NodeSource, as separate
    processes would) around fn(party urls)."""
    runners: list = []
    try:
        node_url = await _serve(rpc_app(net, squasher, calls), runners) + "/"
        urls = []
        for j in range(1, cfg.n + 1):
            pdir = kms_dir / f"party-{j}"
            material = dealer.load_party(pdir)
            rpc = JsonRpc(node_url)
            party = Party(material, cfg, AclClient(rpc),
                          NodeSource(rpc, len(material.key_share.values)), pdir)
            urls.append(await _serve(party.app(), runners))
        return await fn(urls)
    finally:
        for r in runners:
            await r.cleanup()
