"""FhevmClient (web3.py) and AsyncFhevmClient (AsyncWeb3): encrypted inputs, public and
user decryption against an fhEVM devnet.

    from web3 import Web3
    from fhevm.client import FhevmClient

    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:8545"))
    client = FhevmClient(w3)
    enc = client.create_input(token.address, alice.address).add64(1000).encrypt()
    transfer = token.get_function_by_signature("confidentialTransfer(address,bytes32,bytes)")
    transfer(bob, enc.handles[0], enc.input_proof).transact({"from": alice.address})
    handle = token.functions.confidentialBalanceOf(alice.address).call()
    [balance] = client.user_decrypt([(handle, token.address)], alice)  # a LocalAccount, or
                                           # the address of an account the node holds unlocked

Everything the node is asked goes through its JSON-RPC fhEVM methods (fhevm_nodeInfo,
fhevm_getPublicKey, fhevm_uploadInputs, fhevm_publicDecrypt, fhevm_userDecrypt).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_canonical_address, to_checksum_address

from fhevm import addresses, eip712
from fhevm.client import kms
from fhevm.client.errors import (
    DecryptionError,
    DecryptionRefused,
    FhevmClientError,
    InputRejected,
    NodeNotRunning,
    NotAnFhevmNode,
    RpcError,
    WrongChain,
)
from fhevm.client.values import (
    MAX_INPUT_BITS,
    TYPE_NAMES,
    Value,
    check_chain,
    check_value,
    counted_bits,
    handle_type,
    to_bytes32,
    typed_for,
)
from fhevm.types import FheType

# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedInput:
    """Input handles (one per value, in order) and the `inputProof` that binds them to
    (user, contract, chain): pass both to the contract's `FHE.fromExternal` calls."""

    handles: list[bytes]
    input_proof: bytes


@dataclass(frozen=True)
class PublicDecryption:
    """Typed cleartexts, their ABI encoding and the KMS proof for FHE.checkSignatures."""

    values: list[Value]
    cleartexts: bytes
    proof: bytes

    @property
    def decryption_proof(self) -> bytes:
        return self.proof


@dataclass(frozen=True)
class NodeInfo:
    chain_id: int
    backend: str
    acl: str | None
    executor: str | None
    kms_verifier: str | None
    input_verifier: str | None
    max_input_bits: int
    kms: kms.KmsInfo
    input_signers: tuple[str, ...] = ()  # empty: input proofs are not checked client side
    input_verifying_contract: str = to_checksum_address(addresses.INPUT_VERIFYING_CONTRACT)
    raw: dict = field(repr=False, default_factory=dict)


# --- the transport-free core -------------------------------------------------------------------

_GATEWAY_CHAIN_KEYS = ("chainId", "gatewayChainId", "chain_id")
_INPUT_KEYS = ("inputVerifyingContract", "inputVerificationContract", "inputContract")
_DECRYPTION_KEYS = ("decryptionVerifyingContract", "decryptionContract",
                    "verifyingContractDecryption", "decryptionAddress")


def parse_node_info(info: Any) -> NodeInfo:
    if not isinstance(info, dict) or "chainId" not in info:
        raise NotAnFhevmNode(f"fhevm_nodeInfo gave an unexpected answer: {info!r}")
    chain_id = _int(info["chainId"])
    gateway = info.get("gateway") or {}
    domain = gateway.get("decryption") if isinstance(gateway.get("decryption"), dict) else gateway
    gw_chain = next((_int(domain[k]) for k in _GATEWAY_CHAIN_KEYS if k in domain),
                    next((_int(gateway[k]) for k in _GATEWAY_CHAIN_KEYS if k in gateway),
                         kms.KmsInfo(chain_id).gateway_chain_id))
    contract = next((domain[k] for k in (*_DECRYPTION_KEYS, "verifyingContract") if k in domain),
                    kms.KmsInfo(chain_id).decryption_contract)
    k = info.get("kms") or {}
    signers = tuple(to_checksum_address(s) for s in (k.get("signers") or ()))
    if "t" in k:
        t = _int(k["t"])
    else:  # "threshold" is how many signatures the chain wants: t + 1
        t = max(_int(k.get("threshold", 1)) - 1, 0)
    parties = k.get("n", k.get("parties"))
    n = (len(parties) if isinstance(parties, list) else _int(parties)) if parties else 0
    kinfo = kms.KmsInfo(
        chain_id=chain_id, gateway_chain_id=gw_chain,
        decryption_contract=to_checksum_address(contract), signers=signers,
        threshold=t, parties=max(n, len(signers), 1),
    )
    input_signers = tuple(to_checksum_address(s) for s in (info.get("inputSigners") or ()))
    in_domain = gateway.get("input") if isinstance(gateway.get("input"), dict) else gateway
    in_contract = next((in_domain[k] for k in _INPUT_KEYS if k in in_domain),
                       to_checksum_address(addresses.INPUT_VERIFYING_CONTRACT))
    return NodeInfo(chain_id, str(info.get("backend", "clear")), info.get("acl"),
                    info.get("executor"), info.get("kmsVerifier"), info.get("inputVerifier"),
                    _int(info.get("maxInputBits", MAX_INPUT_BITS)), kinfo, input_signers,
                    to_checksum_address(in_contract), info)


def _int(v: Any) -> int:
    return int(v, 0) if isinstance(v, str) else int(v)


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def _from_hex(s: Any, what: str) -> bytes:
    if not isinstance(s, str) or not s.startswith("0x"):
        raise FhevmClientError(f"the node sent a malformed {what}: {s!r}")
    return bytes.fromhex(s[2:])


def _address(a: Any) -> str:
    """A checksummed address from a str, bytes, an account or a web3 contract."""
    a = getattr(a, "address", a)
    return to_checksum_address(a)


def rpc_failure(method: str, error: dict) -> FhevmClientError:
    code, msg = error.get("code"), str(error.get("message", error))
    if code == -32601:
        return NotAnFhevmNode(
            f"the node does not serve {method}: is it an fhEVM devnet? Start one with "
            "`fhevm-node start --backend clear` (or update it: this SDK needs the fhevm_* "
            "JSON-RPC methods)")
    low = msg.lower()
    if method == "fhevm_uploadInputs":
        return InputRejected(f"the node rejected the input: {msg}")
    if method in ("fhevm_userDecrypt", "fhevm_publicDecrypt"):
        if "chain" in low and "id" in low:
            return WrongChain(f"{method}: {msg}")
        hint = ""
        if "allow" in low or "acl" in low or "permission" in low or "denied" in low:
            hint = (" -- the contract must grant access first: FHE.allowThis(h) and "
                    "FHE.allow(h, user) for a user decryption, FHE.makePubliclyDecryptable(h) "
                    "for a public one")
        return DecryptionRefused(f"{method} refused: {msg}{hint}")
    return RpcError(method, code, msg)


def _answers(result: Any) -> list[dict]:
    if isinstance(result, dict):
        for key in ("answers", "responses", "shares"):
            if isinstance(result.get(key), list):
                return result[key]
        return [result]
    if isinstance(result, list):
        return result
    raise DecryptionError(f"fhevm_userDecrypt gave an unexpected answer: {result!r}")


def input_params(info: NodeInfo, contract: str, user: str, items: list[tuple[FheType, int]],
                 ciphertext: bytes | None) -> list:
    body: dict[str, Any] = {"userAddress": user, "contractAddress": contract}
    if ciphertext is not None:
        body["ciphertext"] = _hex(ciphertext)
    else:
        body["values"] = [{"type": int(c), "value": hex(v)} for c, v in items]
    return [body]


def parse_input_result(info: NodeInfo, items: list[tuple[FheType, int]], result: Any,
                       user: str, contract: str) -> EncryptedInput:
    if not isinstance(result, dict):
        raise InputRejected(f"fhevm_uploadInputs gave an unexpected answer: {result!r}")
    handles = [to_bytes32(h) for h in result.get("handles", [])]
    proof = _from_hex(result.get("inputProof"), "inputProof")
    if len(handles) != len(items):
        raise InputRejected(f"asked for {len(items)} handles, the node gave {len(handles)}")
    for i, (h, (code, _)) in enumerate(zip(handles, items, strict=True)):
        check_chain(h, info.chain_id)
        if h[21] != i or h[30] != code:
            raise InputRejected(f"handle {i} (0x{h.hex()}) does not carry index {i} and type "
                                f"{TYPE_NAMES[code]}")
    if len(proof) < 2 or proof[0] != len(handles) or proof[2:2 + 32 * len(handles)] != b"".join(
            handles):
        raise InputRejected("the node's inputProof does not cover the handles it returned")
    if info.input_signers:
        verify_input_proof(info, handles, proof, user, contract)
    return EncryptedInput(handles, proof)


def verify_input_proof(info: NodeInfo, handles: list[bytes], proof: bytes, user: str,
                       contract: str) -> None:
    """Each signature of the inputProof must be an input signer's over CiphertextVerification
    (handles, user, contract, chain id, extraData)."""
    n, m = proof[0], proof[1]
    sigs_at = 2 + 32 * n
    if len(proof) < sigs_at + 65 * m or m == 0:
        raise InputRejected("the node's inputProof carries no signature")
    extra = proof[sigs_at + 65 * m:]
    domain = eip712.domain_separator(eip712.INPUT_DOMAIN_NAME, eip712.DOMAIN_VERSION,
                                     info.kms.gateway_chain_id,
                                     to_canonical_address(info.input_verifying_contract))
    digest = eip712.typed_digest(domain, eip712.input_struct_hash(
        handles, to_canonical_address(user), to_canonical_address(contract), info.chain_id,
        extra))
    for i in range(m):
        if kms.recover(digest, proof[sigs_at + 65 * i:sigs_at + 65 * i + 65]) not in \
                info.input_signers:
            raise InputRejected(f"inputProof signature {i} is not an input signer's: is the "
                                "node the one the contract's chain uses?")


def parse_public_result(info: NodeInfo, handles: list[bytes], result: Any) -> PublicDecryption:
    if not isinstance(result, dict):
        raise DecryptionError(f"fhevm_publicDecrypt gave an unexpected answer: {result!r}")
    clear = _from_hex(result.get("cleartexts"), "cleartexts")
    proof = _from_hex(result.get("decryptionProof"), "decryptionProof")
    if len(clear) < 32 * len(handles):
        raise DecryptionError("the node sent fewer cleartexts than handles")
    kms.require_signers(info.kms)
    verify_decryption_proof(info.kms, handles, clear, proof)
    values = [typed_for(h, int.from_bytes(clear[32 * i:32 * i + 32], "big"))
              for i, h in enumerate(handles)]
    return PublicDecryption(values, clear, proof)


def verify_decryption_proof(info: kms.KmsInfo, handles: Sequence[bytes], cleartexts: bytes,
                            proof: bytes) -> None:
    """Every signature of numSigners | signatures | extraData must be a KMS signer's."""
    if not proof:
        raise DecryptionError("empty decryption proof")
    n = proof[0]
    if len(proof) < 1 + 65 * n or n == 0:
        raise DecryptionError("malformed decryption proof")
    extra = proof[1 + 65 * n:]
    digest = kms.public_decrypt_digest(info, handles, cleartexts, extra)
    seen = set()
    for i in range(n):
        signer = kms.recover(digest, proof[1 + 65 * i:66 + 65 * i])
        if signer not in info.signers:
            raise DecryptionError(f"decryption proof signature {i} is not a KMS signer's")
        seen.add(signer)


def decryption_pairs(info: NodeInfo, pairs: Iterable) -> list[tuple[bytes, str]]:
    out = []
    for p in pairs:
        try:
            h, c = p
        except (TypeError, ValueError):
            raise TypeError("user_decrypt takes (handle, contract address) pairs") from None
        h = to_bytes32(h)
        handle_type(h)
        check_chain(h, info.chain_id)
        out.append((h, _address(c)))
    if not out:
        raise ValueError("nothing to decrypt: give at least one (handle, contract) pair")
    return out


# --- input builders ----------------------------------------------------------------------------


class _Builder:
    """Collects typed values for one (contract, user) input list."""

    def __init__(self, contract: str, user: str, max_bits: int) -> None:
        self.contract_address = contract
        self.user_address = user
        self.max_bits = max_bits
        self.items: list[tuple[FheType, int]] = []

    def __len__(self) -> int:
        return len(self.items)

    @property
    def total_bits(self) -> int:
        return sum(counted_bits(c) for c, _ in self.items)

    def add(self, value, fhe_type: FheType | int):
        code = FheType(fhe_type)
        v = check_value(value, code)
        total = self.total_bits + counted_bits(code)
        if total > self.max_bits:
            raise InputRejected(f"an input list holds at most {self.max_bits} bits; adding "
                                f"{TYPE_NAMES[code]} would make {total}: split it into two "
                                "inputs")
        self.items.append((code, v))
        return self

    def add_bool(self, v):
        return self.add(v, FheType.Bool)

    def add4(self, v):
        return self.add(v, FheType.Uint4)

    def add8(self, v):
        return self.add(v, FheType.Uint8)

    def add16(self, v):
        return self.add(v, FheType.Uint16)

    def add32(self, v):
        return self.add(v, FheType.Uint32)

    def add64(self, v):
        return self.add(v, FheType.Uint64)

    def add128(self, v):
        return self.add(v, FheType.Uint128)

    def add256(self, v):
        return self.add(v, FheType.Uint256)

    def add_address(self, v):
        return self.add(v, FheType.Uint160)

    def _check_nonempty(self) -> None:
        if not self.items:
            raise InputRejected("an empty input: add at least one value before encrypt()")


def _compact_ciphertext(public_key: Any, items: list[tuple[FheType, int]]) -> bytes:
    from tfhe.integer.compact_list import CompactListBuilder

    b = CompactListBuilder(public_key)
    for code, v in items:
        b.push(v, int(code))
    return b.encrypt().to_bytes()


def _load_public_key(result: Any) -> Any:
    if result is None:
        raise FhevmClientError("the node has no compact public key (clear backend?)")
    from tfhe.integer.compact_list import CompactPublicKey

    return CompactPublicKey.from_bytes(_from_hex(result, "public key"))


class InputBuilder(_Builder):
    """`client.create_input(contract, user)`: add values, then `encrypt()`."""

    def __init__(self, client: FhevmClient, contract: str, user: str) -> None:
        super().__init__(contract, user, client.node_info.max_input_bits)
        self._client = client

    def encrypt(self) -> EncryptedInput:
        self._check_nonempty()
        c = self._client
        ct = (_compact_ciphertext(c.public_key(), self.items)
              if c.node_info.backend == "tfhe" else None)
        params = input_params(c.node_info, self.contract_address, self.user_address,
                              self.items, ct)
        return parse_input_result(c.node_info, self.items, c.rpc("fhevm_uploadInputs", params),
                                  self.user_address, self.contract_address)


class AsyncInputBuilder(_Builder):
    def __init__(self, client: AsyncFhevmClient, contract: str, user: str,
                 max_bits: int) -> None:
        super().__init__(contract, user, max_bits)
        self._client = client

    async def encrypt(self) -> EncryptedInput:
        self._check_nonempty()
        c = self._client
        info = await c.get_node_info()
        ct = None
        if info.backend == "tfhe":
            pk = await c.public_key()
            ct = await asyncio.to_thread(_compact_ciphertext, pk, self.items)
        params = input_params(info, self.contract_address, self.user_address, self.items, ct)
        result = await c.rpc("fhevm_uploadInputs", params)
        return parse_input_result(info, self.items, result, self.user_address,
                                  self.contract_address)


# --- signing -----------------------------------------------------------------------------------


def _local_signer(account: Any):
    """The account if it can sign typed data itself (eth_account LocalAccount), else None."""
    return account if hasattr(account, "sign_typed_data") and hasattr(account, "key") else None


def _sig_bytes(sig: Any) -> bytes:
    if isinstance(sig, str):
        return bytes.fromhex(sig[2:] if sig.startswith("0x") else sig)
    return bytes(sig)


# --- the sync client ---------------------------------------------------------------------------


class FhevmClient:
    """The SDK on a web3.py `Web3`. Discovers the node with `fhevm_nodeInfo` on creation
    (NodeNotRunning / NotAnFhevmNode say what to start)."""

    def __init__(self, w3: Any, *, timeout: float | None = None) -> None:
        self.w3 = w3
        self.timeout = timeout
        self._pk: Any = None
        self.node_info = parse_node_info(self.rpc("fhevm_nodeInfo", []))

    @property
    def chain_id(self) -> int:
        return self.node_info.chain_id

    @property
    def backend(self) -> str:
        return self.node_info.backend

    def _where(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", None) or self.w3.provider)

    def rpc(self, method: str, params: list) -> Any:
        try:
            resp = self.w3.provider.make_request(method, params)
        except OSError as exc:
            raise NodeNotRunning(
                f"no node answers at {self._where()} ({type(exc).__name__}): start one with "
                "`fhevm-node start --backend clear` or point the provider at it") from None
        if resp.get("error"):
            err = resp["error"]
            raise rpc_failure(method, err if isinstance(err, dict) else {"message": err})
        return resp.get("result")

    def public_key(self) -> Any:
        """The network's compact public key (tfhe backend), downloaded once."""
        if self._pk is None:
            self._pk = _load_public_key(self.rpc("fhevm_getPublicKey", []))
        return self._pk

    def create_input(self, contract_address: Any, user_address: Any) -> InputBuilder:
        """A builder for an input that `user_address` sends to `contract_address`."""
        return InputBuilder(self, _address(contract_address), _address(user_address))

    def public_decrypt(self, handles: Iterable) -> PublicDecryption:
        """Cleartexts of publicly decryptable handles and the proof for checkSignatures."""
        hs = [to_bytes32(h) for h in handles]
        for h in hs:
            handle_type(h)
            check_chain(h, self.chain_id)
        result = self.rpc("fhevm_publicDecrypt", [[_hex(h) for h in hs]])
        return parse_public_result(self.node_info, hs, result)

    def user_decrypt(self, handle_contract_pairs: Iterable, account: Any, *,
                     days: int = 1) -> list[Value]:
        """Typed cleartexts of handles `account` may decrypt (ACL: the user and the contract
        are both allowed). `account`: an eth_account LocalAccount, or the address of an
        account the node holds unlocked (then the node signs with eth_signTypedData_v4)."""
        pairs = decryption_pairs(self.node_info, handle_contract_pairs)
        req = kms.build_user_request(self.node_info.kms, pairs, _address(account), days=days)
        signer = _local_signer(account)
        typed = req.typed_data()
        if signer is not None:
            sig = signer.sign_typed_data(full_message=typed).signature
        else:
            sig = self.rpc("eth_signTypedData_v4", [req.user, json.dumps(typed)])
        body = req.signed(_sig_bytes(sig))
        answers = _answers(self.rpc("fhevm_userDecrypt", [body]))
        values = kms.open_user_answers(self.node_info.kms, body, req.secret, answers)
        return [typed_for(h, v) for (h, _), v in zip(pairs, values, strict=True)]

    def user_decrypt_one(self, handle: Any, contract: Any, account: Any) -> Value:
        return self.user_decrypt([(handle, contract)], account)[0]


# --- the async client --------------------------------------------------------------------------


class AsyncFhevmClient:
    """The SDK on web3.py's `AsyncWeb3`: same methods, as coroutines. Create it with
    `await AsyncFhevmClient.connect(w3)` (or call `await client.get_node_info()` once)."""

    def __init__(self, w3: Any) -> None:
        self.w3 = w3
        self._pk: Any = None
        self.node_info: NodeInfo | None = None

    @classmethod
    async def connect(cls, w3: Any) -> AsyncFhevmClient:
        c = cls(w3)
        await c.get_node_info()
        return c

    async def get_node_info(self) -> NodeInfo:
        if self.node_info is None:
            self.node_info = parse_node_info(await self.rpc("fhevm_nodeInfo", []))
        return self.node_info

    async def rpc(self, method: str, params: list) -> Any:
        try:
            resp = await self.w3.provider.make_request(method, params)
        except OSError as exc:
            where = getattr(self.w3.provider, "endpoint_uri", self.w3.provider)
            raise NodeNotRunning(
                f"no node answers at {where} ({type(exc).__name__}): start one with "
                "`fhevm-node start --backend clear` or point the provider at it") from None
        if resp.get("error"):
            err = resp["error"]
            raise rpc_failure(method, err if isinstance(err, dict) else {"message": err})
        return resp.get("result")

    async def public_key(self) -> Any:
        if self._pk is None:
            self._pk = _load_public_key(await self.rpc("fhevm_getPublicKey", []))
        return self._pk

    async def create_input(self, contract_address: Any, user_address: Any) -> AsyncInputBuilder:
        info = await self.get_node_info()
        return AsyncInputBuilder(self, _address(contract_address), _address(user_address),
                                 info.max_input_bits)

    async def public_decrypt(self, handles: Iterable) -> PublicDecryption:
        info = await self.get_node_info()
        hs = [to_bytes32(h) for h in handles]
        for h in hs:
            handle_type(h)
            check_chain(h, info.chain_id)
        result = await self.rpc("fhevm_publicDecrypt", [[_hex(h) for h in hs]])
        return parse_public_result(info, hs, result)

    async def user_decrypt(self, handle_contract_pairs: Iterable, account: Any, *,
                           days: int = 1) -> list[Value]:
        info = await self.get_node_info()
        pairs = decryption_pairs(info, handle_contract_pairs)
        req = kms.build_user_request(info.kms, pairs, _address(account), days=days)
        signer = _local_signer(account)
        typed = req.typed_data()
        if signer is not None:
            sig = signer.sign_typed_data(full_message=typed).signature
        else:
            sig = await self.rpc("eth_signTypedData_v4", [req.user, json.dumps(typed)])
        body = req.signed(_sig_bytes(sig))
        answers = _answers(await self.rpc("fhevm_userDecrypt", [body]))
        values = kms.open_user_answers(info.kms, body, req.secret, answers)
        return [typed_for(h, v) for (h, _), v in zip(pairs, values, strict=True)]
