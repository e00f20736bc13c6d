"""ACL checks over Ethereum JSON-RPC (eth_call to the ACL contract of a running node)."""

from __future__ import annotations

import aiohttp
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_canonical_address

from fhevm import addresses

ACL_ADDRESS = "0x" + addresses.ACL.hex()


class RpcError(RuntimeError):
    """The node did not answer, or answered with an error."""


class JsonRpc:
    """Minimal async JSON-RPC client (one aiohttp session per client)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._id = 0

    async def call(self, method: str, params: list, timeout: float = 30.0) -> object:
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
                async with s.post(self.url, json=payload) as r:
                    body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RpcError(f"{method}: {exc}") from None
        if "error" in body:
            raise RpcError(f"{method}: {body['error']}")
        return body.get("result")


class AclClient:
    """isAllowed / isAllowedForDecryption / delegation, read from the chain head."""

    def __init__(self, rpc: JsonRpc, acl: str = ACL_ADDRESS) -> None:
        self.rpc = rpc
        self.acl = acl

    async def _bool(self, signature: str, types: list[str], args: list) -> bool:
        data = function_signature_to_4byte_selector(signature) + encode(types, args)
        out = await self.rpc.call("eth_call", [{"to": self.acl, "data": "0x" + data.hex()},
                                               "latest"])
        raw = bytes.fromhex(str(out)[2:])
        if len(raw) < 32:
            raise RpcError(f"{signature}: short answer")
        return bool(decode(["bool"], raw)[0])

    async def is_allowed_for_decryption(self, handle: bytes) -> bool:
        return await self._bool("isAllowedForDecryption(bytes32)", ["bytes32"], [handle])

    async def is_allowed(self, handle: bytes, account: str) -> bool:
        return await self._bool("isAllowed(bytes32,address)", ["bytes32", "address"],
                                [handle, to_canonical_address(account)])

    async def is_delegated(self, delegator: str, delegate: str, contract: str,
                           handle: bytes) -> bool:
        return await self._bool(
            "isHandleDelegatedForUserDecryption(address,address,address,bytes32)",
            ["address", "address", "address", "bytes32"],
            [to_canonical_address(delegator), to_canonical_address(delegate),
             to_canonical_address(contract), handle])
