"""An in-memory fhEVM chain for tests: py-evm MiningChain + FhevmRuntime, no node."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth_abi import decode, encode
from eth_keys import keys
from eth_utils import function_signature_to_4byte_selector, keccak, to_canonical_address

from fhevm import addresses, attest
from fhevm.abi import decode_reason
from fhevm.backends import Backend
from fhevm.config import FhevmConfig
from fhevm.runtime import FhevmRuntime
from fhevm.types import FheType

CHAIN_ID = 31337


@functools.cache
def tfhe_test_backend() -> Backend:
    """A TfheBackend on fresh keys of the INSECURE_ test parameter set (fast, not secure),
    shared by every test of the session."""
    from fhevm.backends.tfhe import TfheBackend
    from tfhe import INSECURE_TEST_PARAMS, generate_keys

    client, server = generate_keys(INSECURE_TEST_PARAMS)
    return TfheBackend(server, client)


KEY_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


@functools.cache
def tfhe_default_backend() -> Backend:
    """A TfheBackend on DEFAULT (128-bit) keys, from the on-disk cache the engine tests
    share (.cache/test-keys/, git-ignored), generated there on first use."""
    from fhevm.backends.tfhe import TfheBackend
    from tfhe import DEFAULT
    from tfhe.keys import load_or_generate

    client, server = load_or_generate(DEFAULT, KEY_CACHE)
    return TfheBackend(server, client)


PROBE = json.loads((Path(__file__).parent / "contracts" / "FhevmProbe.json").read_text())


def key(name: str) -> keys.PrivateKey:
    return keys.PrivateKey(keccak(text=f"fhevm-py test key {name}"))


def sel(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def call_data(signature: str, *args: Any) -> bytes:
    types = signature[signature.index("(") + 1 : -1]
    arg_types = [t for t in _split(types)]
    return sel(signature) + encode(arg_types, list(args))


def _split(types: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in types:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return out + ([cur] if cur else [])


@dataclass
class Outcome:
    success: bool
    output: bytes
    gas_used: int
    logs: list

    @property
    def reason(self) -> str | None:
        return decode_reason(self.output)

    def word(self) -> bytes:
        assert self.success, self.reason
        return self.output[:32]


class Devnet:
    """A chain that mines every transaction immediately and commits its ciphertexts."""

    def __init__(
        self,
        backend: str | Backend = "clear",
        n_kms: int = 4,
        n_coprocessors: int = 1,
        defer: bool | None = None,
    ) -> None:
        if backend == "tfhe":
            backend = tfhe_test_backend()
        self.kms_keys = [key(f"kms{i}") for i in range(n_kms)]
        self.copro_keys = [key(f"copro{i}") for i in range(n_coprocessors)]
        self.owner_key = key("owner")
        self.alice, self.bob = key("alice"), key("bob")
        addr = lambda k: k.public_key.to_canonical_address()  # noqa: E731
        self.config = FhevmConfig(
            kms_signers=tuple(addr(k) for k in self.kms_keys),
            kms_threshold=2,
            input_signers=tuple(addr(k) for k in self.copro_keys),
            input_threshold=1,
            owner=addr(self.owner_key),
        )
        self.blob_db: dict[bytes, bytes] = {}
        self.rt = FhevmRuntime(backend, CHAIN_ID, self.blob_db, self.config, defer=defer)
        chain_class = MiningChain.configure(
            __name__="FhevmTestChain",
            vm_configuration=((0, self.rt.vm_class()),),
            chain_id=CHAIN_ID,
        )
        funded = {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}
        genesis = dict(self.rt.genesis_accounts())
        for k in (self.alice, self.bob, self.owner_key):
            genesis[addr(k)] = dict(funded)
        params = {"difficulty": 0, "gas_limit": 60_000_000, "timestamp": int(time.time())}
        self.chain = chain_class.from_genesis(AtomicDB(), params, genesis)
        self.probe = self.deploy(bytes.fromhex(PROBE["bytecode"][2:]))

    @staticmethod
    def address(k: keys.PrivateKey) -> bytes:
        return k.public_key.to_canonical_address()

    def _tx(self, sender: keys.PrivateKey, to: bytes, data: bytes, value: int, gas: int) -> Any:
        vm = self.chain.get_vm()
        nonce = vm.state.get_nonce(self.address(sender))
        return vm.create_unsigned_transaction(
            nonce=nonce, gas_price=10**10, gas=gas, to=to, value=value, data=data
        ).as_signed_transaction(sender, chain_id=CHAIN_ID)

    def send(
        self,
        to: bytes,
        data: bytes,
        sender: keys.PrivateKey | None = None,
        value: int = 0,
        gas: int = 10_000_000,
    ) -> Outcome:
        tx = self._tx(sender or self.alice, to, data, value, gas)
        _, receipt, comp = self.chain.apply_transaction(tx)
        self.chain.mine_block()
        self.rt.commit()
        return Outcome(comp.is_success, comp.output, receipt.gas_used, list(receipt.logs))

    def call(self, to: bytes, data: bytes, sender: keys.PrivateKey | None = None) -> Outcome:
        """eth_call: execute on a throw-away state."""
        tx = self._tx(sender or self.alice, to, data, 0, 10_000_000)
        with self.chain.get_vm().in_costless_state() as state:
            comp = state.apply_transaction(tx)
        return Outcome(comp.is_success, comp.output, 0, [])

    def estimate_gas(self, to: bytes, data: bytes, sender: keys.PrivateKey | None = None) -> int:
        tx = self._tx(sender or self.alice, to, data, 0, 30_000_000)
        return self.chain.estimate_gas(tx, self.chain.get_canonical_head())

    def deploy(self, code: bytes) -> bytes:
        sender = self.alice
        nonce = self.chain.get_vm().state.get_nonce(self.address(sender))
        tx = self._tx(sender, b"", code, 0, 5_000_000)
        _, receipt, comp = self.chain.apply_transaction(tx)
        self.chain.mine_block()
        assert comp.is_success, comp.error
        from eth._utils.address import generate_contract_address

        return generate_contract_address(self.address(sender), nonce)

    # --- the probe contract ------------------------------------------------------------

    def compute(self, signature: str, *args: Any, sender: keys.PrivateKey | None = None) -> Outcome:
        """Have the probe call the executor and keep the result."""
        inner = call_data(signature, *args)
        return self.send(self.probe, call_data("compute(bytes)", inner), sender=sender)

    def handle(self, signature: str, *args: Any) -> bytes:
        out = self.compute(signature, *args)
        assert out.success, out.reason
        return decode(["bytes32"], out.output)[0]

    def trivial(self, value: int, t: FheType) -> bytes:
        return self.handle("trivialEncrypt(uint256,uint8)", value, int(t))

    def storage(self, address: bytes, slot: int) -> int:
        return self.chain.get_vm().state.get_storage(address, slot)

    def view(self, address: bytes, signature: str, *args: Any, returns: str = "bool") -> Any:
        out = self.call(address, call_data(signature, *args))
        assert out.success, out.reason
        return decode([returns], out.output)[0]

    def is_allowed(self, handle: bytes, account: bytes) -> bool:
        return self.view(addresses.ACL, "isAllowed(bytes32,address)", handle, account)

    # --- inputs ------------------------------------------------------------------------

    def encrypt_inputs(
        self, values: list[tuple[int, FheType]], user: bytes, contract: bytes
    ) -> tuple[list[bytes], bytes]:
        cts = [self.rt.backend.encrypt(v, t) for v, t in values]
        handles = self.rt.upload_inputs(cts)
        proof = attest.input_proof(self.config, handles, user, contract, CHAIN_ID, self.copro_keys)
        return handles, proof


EXECUTOR = addresses.EXECUTOR
ACL = addresses.ACL
KMS = addresses.KMS_VERIFIER
INPUT_VERIFIER = addresses.INPUT_VERIFIER
ZERO = to_canonical_address("0x" + "00" * 20)


def deploy_artifact(net: Devnet, name: str) -> bytes:
    """Deploy a compiled contract of contracts/artifacts/ (no constructor arguments)."""
    from contracts.artifacts import load_bytecode

    return net.deploy(load_bytecode(name))
