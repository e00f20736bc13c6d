"""JSON-RPC methods of the fhEVM services: inputs, public key, decryption, node info.

| method              | params -> result                                                  |
|---------------------|-------------------------------------------------------------------|
| fhevm_nodeInfo      | [] -> {chainId, backend, acl, executor, kmsVerifier,               |
|                     | inputVerifier, inputSigners, maxInputBits: 2048, kms: {parties,    |
|                     | n, t, threshold, signers, mock} or null, gateway: {chainId,        |
|                     | decryptionVerifyingContract, inputVerifyingContract}}              |
| fhevm_getPublicKey  | [] -> "0x.." compact public key bytes (tfhe) or null (clear)       |
| fhevm_uploadInputs  | [{userAddress, contractAddress, ciphertext: "0x..", extraData?}]   |
|                     | (tfhe: a compact list under fhevm_getPublicKey), or               |
|                     | [{userAddress, contractAddress, values: [{type: code,              |
|                     | value: "0x.."}]}] (clear backend only)                             |
|                     | -> {handles: ["0x.."], inputProof: "0x.."}                         |
| fhevm_getCiphertext | [handle] -> "0x.." blob or null (node.rpc.methods; the KMS         |
|                     | parties fetch ciphertexts with it)                                 |
| fhevm_getTransac-   | [txHash] -> {hcu: "0x..", hcuDepth: "0x.."} the executor metered     |
|   tionHcu           | for a mined transaction, or null (node.rpc.methods)                |
| fhevm_estimateHcu   | [txObject, block] -> {hcu, hcuDepth} it would use (symbolic run,  |
|                     | like eth_estimateGas; a revert is an error with its data)          |
| fhevm_getSquashed-  | [handle] or [[handles]] (at most 256 blocks in all) -> {groups,    |
|   Ciphertext        | lwes} or null per handle (tfhe backend): the node squashes once    |
|                     | for all KMS parties (node.kms.squasher), which fetch it with this  |
| fhevm_publicDecrypt | [[handles], extraData?] -> {cleartexts: "0x.." (abi-encoded        |
|                     | uint256 words), decryptionProof: "0x..", values: ["0x.."]}         |
| fhevm_userDecrypt   | [request] (node.kms.client.user_request's dict, signed by the      |
|                     | user) -> {answers: [signed, sealed answers]}: the client opens     |
|                     | and combines them with node.kms.client.open_user_answers           |

Errors: malformed or oversize input, wrong types, bad hex -> -32602 (the text of the
tfhe CompactListError for ciphertext lists); refused by the ACL, a signature or the
validity window, or not enough KMS answers -> -32000 "decryption refused: ...".

tfhe backend: inputs are expanded and attested by the node (the coprocessor), decryption
is relayed to the KMS parties (node.kms.client). clear backend: the node is a mock KMS
(node.decryption): same checks, same answer formats, signed with the devnet KMS keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from eth_utils import to_checksum_address

from fhevm import addresses
from node import decryption as dec
from node.errors import INVALID_PARAMS, SERVER_ERROR, RpcError
from node.inputs import MAX_INPUT_BITS, InputError, address, clear_values, encrypt_clear
from node.inputs import hex_bytes as input_hex

Dispatch = Callable[[str, list], Awaitable[Any]]


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _refused(msg: str) -> RpcError:
    return RpcError(SERVER_ERROR, f"decryption refused: {msg}")


class FhevmMethods:
    def __init__(self, devnet: Any, dispatch: Dispatch) -> None:
        from node.kms.acl import AclClient

        self.d = devnet
        self.rt = devnet.runtime
        self.acl = AclClient(dec.LocalRpc(dispatch))  # type: ignore[arg-type]
        self._keys: Any = None
        self._compact: Any = None
        self._squasher: Any = None

    def table(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "fhevm_nodeInfo", "fhevm_getPublicKey", "fhevm_uploadInputs",
            "fhevm_getSquashedCiphertext", "fhevm_publicDecrypt", "fhevm_userDecrypt")}

    # -- helpers ---------------------------------------------------------------------------
    def keys(self) -> Any:
        """node.kms_wiring.NodeKeys of the data directory, or an RPC error."""
        if self._keys is None:
            from node.kms_wiring import load_node_keys

            self._keys = load_node_keys(self.d.data_dir, self.d.backend, self.d.store)
        if self._keys is None or not getattr(self.rt, "fhe_enabled", False):
            raise RpcError(SERVER_ERROR, "this node has no fhEVM keys (run `fhevm-node keygen`)")
        return self._keys

    def compact(self) -> Any:
        if self._compact is None:
            from node.inputs import CompactKeys

            self._compact = CompactKeys(self.keys().tfhe_keys)
        return self._compact

    def squasher(self) -> Any:
        """node.kms.squasher.Squasher over the committed blobs (tfhe backend)."""
        if self.d.backend != "tfhe":
            raise RpcError(SERVER_ERROR, "the clear backend has no squashed ciphertexts "
                                         "(the node is a mock KMS)")
        nk = self.keys()
        if self._squasher is None:
            from node.kms.launch import kms_dir
            from node.kms.squasher import Squasher

            self._squasher = Squasher(kms_dir(self.d.data_dir), nk.kms_config,
                                      lambda h: self.d.store.get("blobs", h))
        return self._squasher

    def party_urls(self) -> list[str]:
        if self.d.backend != "tfhe":
            return []
        from node.kms.launch import party_urls

        return party_urls(self.keys().kms_config)

    # -- methods ---------------------------------------------------------------------------
    def fhevm_nodeInfo(self, params: list) -> dict:
        cfg = getattr(self.rt, "config", None)
        try:
            nk = self.keys()
        except RpcError:
            nk = None
        kms = None
        if nk is not None:
            k = nk.kms_config
            kms = {"parties": self.party_urls(), "n": k.n, "t": k.t, "threshold": k.t + 1,
                   "signers": list(k.signers), "mock": self.d.backend != "tfhe"}
        gateway = None
        if cfg is not None:
            gateway = {
                "chainId": cfg.gateway_chain_id,
                "decryptionVerifyingContract":
                    to_checksum_address(cfg.decryption_verifying_contract),
                "inputVerifyingContract": to_checksum_address(cfg.input_verifying_contract),
            }
        return {
            "chainId": self.d.chain_id, "backend": self.d.backend,
            "acl": to_checksum_address(addresses.ACL),
            "executor": to_checksum_address(addresses.EXECUTOR),
            "kmsVerifier": to_checksum_address(addresses.KMS_VERIFIER),
            "inputVerifier": to_checksum_address(addresses.INPUT_VERIFIER),
            "inputSigners": ([k.public_key.to_checksum_address() for k in nk.input_keys]
                             if nk is not None else []),
            "maxInputBits": MAX_INPUT_BITS, "kms": kms, "gateway": gateway,
        }

    def fhevm_getPublicKey(self, params: list) -> str | None:
        if self.d.backend != "tfhe":
            return None
        return _h(self.compact().public_key_bytes)

    async def fhevm_uploadInputs(self, params: list) -> dict:
        nk = self.keys()
        try:
            if len(params) != 1 or not isinstance(params[0], dict):
                raise InputError("expected one object {userAddress, contractAddress, "
                                 "ciphertext | values}")
            req = params[0]
            user = address(req.get("userAddress"), "userAddress")
            contract = address(req.get("contractAddress"), "contractAddress")
            extra = input_hex(req.get("extraData", "0x00"), "extraData")
            if ("ciphertext" in req) == ("values" in req):
                raise InputError("give exactly one of ciphertext (compact list) or values")
            if "ciphertext" in req:
                if self.d.backend != "tfhe":
                    raise InputError("the clear backend has no public key: send values "
                                     "[{type, value}] instead of a ciphertext")
                blob = input_hex(req["ciphertext"], "ciphertext")
                compact = self.compact()
                cts = await asyncio.to_thread(compact.expand, blob, self.rt.backend.server)
            else:
                if self.d.backend != "clear":
                    raise InputError("plaintext values are accepted only by the clear "
                                     "backend: encrypt under fhevm_getPublicKey")
                cts = encrypt_clear(self.rt, clear_values(req["values"]))
        except InputError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        handles = await asyncio.wrap_future(self.d.submit(self.rt.upload_inputs, cts))
        from node.inputs import attest_inputs

        proof = attest_inputs(self.rt, handles, user, contract, nk.input_keys, extra)
        return {"handles": [_h(h) for h in handles], "inputProof": _h(proof)}

    async def fhevm_getSquashedCiphertext(self, params: list) -> Any:
        from node.kms.squasher import MAX_BATCH_LWES, SquashError
        from tfhe.integer import blocks_for_bits

        arg = params[0] if params else None
        single = isinstance(arg, str)
        try:
            handles = dec.parse_handles([arg] if single else arg)
        except dec.BadRequest as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        if sum(blocks_for_bits(dec.TYPE_BITS[h[30]]) for h in handles) > MAX_BATCH_LWES:
            raise RpcError(INVALID_PARAMS, f"at most {MAX_BATCH_LWES} blocks per call")
        try:
            res = await self.squasher().squashed(handles)
        except SquashError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        out = [None if r is None else r.to_json() for r in res]
        return out[0] if single else out

    def _values(self, handles: list[bytes]) -> list[int]:
        out = []
        for h in handles:
            try:
                out.append(self.rt.decrypt(h))
            except KeyError:
                raise _refused(f"no ciphertext for handle {_h(h)}") from None
        return out

    async def fhevm_publicDecrypt(self, params: list) -> dict:
        nk = self.keys()
        try:
            handles = dec.parse_handles(params[0] if params else None)
            extra = dec._bytes(params[1], "extraData") if len(params) > 1 else b"\x00"
        except dec.BadRequest as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        if self.d.backend == "tfhe":
            from node.kms.client import KmsError, public_decrypt

            try:
                res = await public_decrypt(self.party_urls(), nk.kms_config, handles, extra)
            except KmsError as exc:
                raise _refused(str(exc)) from None
            cleartexts, proof, values = res.decrypted_result, res.proof, res.values
        else:
            try:
                await dec.check_public(handles, self.acl)
            except dec.DecryptionRefused as exc:
                raise _refused(str(exc)) from None
            values = self._values(handles)
            cleartexts, proof = dec.mock_public_decrypt(self.rt.config, handles, values,
                                                        nk.kms_keys, extra)
        return {"cleartexts": _h(cleartexts), "decryptionProof": _h(proof),
                "values": [hex(v) for v in values]}

    async def fhevm_userDecrypt(self, params: list) -> dict:
        nk = self.keys()
        try:
            body = params[0] if params else None
            req = dec.parse_user_request(body)
        except dec.BadRequest as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        cfg = nk.kms_config
        if self.d.backend == "tfhe":
            from node.kms.client import answered, post_all, refusals

            answers = await post_all(self.party_urls(), "/v1/user-decrypt", body, 600)
            ok = answered(answers)
            if len(ok) < cfg.t + 1:
                raise _refused(f"{refusals(answers)}")
            return {"answers": ok}
        try:
            await dec.check_user_request(req, cfg, self.acl, time.time())
        except dec.DecryptionRefused as exc:
            raise _refused(str(exc)) from None
        values = self._values(req["handles"])
        return {"answers": dec.mock_user_answers(req, cfg, nk.kms_keys, values)}
