"""Helpers for the tests of contracts/token and contracts/apps: deploy artifacts with
constructor arguments, send and call by signature, encrypted inputs, events, public
decryption proofs and moving the chain's clock, on tests/fhevm's in-memory Devnet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_keys import keys
from eth_utils import keccak

from contracts.artifacts import load_bytecode
from fhevm import attest
from fhevm.types import FheType
from tests.fhevm.harness import Devnet, Outcome, _split, call_data

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def arg_types(signature: str) -> list[str]:
    return _split(signature[signature.index("(") + 1 : -1])


class AppChain:
    """A Devnet plus conveniences. Accounts: alice (deploys everything), bob, carol."""

    def __init__(self, backend: str = "clear") -> None:
        self.net = Devnet(backend)
        self.alice, self.bob, self.carol = self.net.alice, self.net.bob, self.net.owner_key

    # --- accounts, deployment -------------------------------------------------------

    @staticmethod
    def addr(k: keys.PrivateKey | bytes) -> bytes:
        return k if isinstance(k, bytes) else Devnet.address(k)

    def deploy(self, name: str, constructor: str = "", *args: Any) -> bytes:
        """Deploy artifact `name` (from alice); `constructor` is e.g. "(string,uint256)"."""
        return self.deploy_code(load_bytecode(name), constructor, *args)

    def deploy_code(self, code: bytes, constructor: str = "", *args: Any) -> bytes:
        if constructor:
            code += encode(arg_types(constructor), list(args))
        return self.net.deploy(code)

    def deploy_fixture(self, name: str) -> bytes:
        """Compile tests/apps/fixtures/<name>.sol with contracts/ (cached) and deploy it."""
        from tests.contracts.solc_cache import compile_sources, repo_sources

        unit = f"tests/apps/fixtures/{name}.sol"
        sources = {unit: (FIXTURES / f"{name}.sol").read_text(),
                   **repo_sources("lib", "config", "token")}
        output = compile_sources(sources)
        code = output["contracts"][unit][name]["evm"]["bytecode"]["object"]
        return self.deploy_code(bytes.fromhex(code))

    # --- transactions and calls -------------------------------------------------------

    def send(self, to: bytes, signature: str, *args: Any,
             sender: keys.PrivateKey | None = None) -> Outcome:
        return self.net.send(to, call_data(signature, *args), sender=sender or self.alice)

    def ok(self, to: bytes, signature: str, *args: Any,
           sender: keys.PrivateKey | None = None) -> Outcome:
        out = self.send(to, signature, *args, sender=sender)
        assert out.success, f"{signature}: {out.reason}"
        return out

    def fails(self, to: bytes, signature: str, *args: Any,
              sender: keys.PrivateKey | None = None, error: str | None = None) -> Outcome:
        """Sends a transaction that must revert (with custom error `error`, if given)."""
        out = self.send(to, signature, *args, sender=sender)
        assert not out.success, f"{signature} should have reverted"
        if error is not None:
            assert out.output[:4] == keccak(text=error)[:4], (
                f"{signature}: expected {error}, got 0x{out.output.hex()}")
        return out

    def view(self, to: bytes, signature: str, *args: Any, returns: str = "bytes32",
             sender: keys.PrivateKey | None = None) -> Any:
        out = self.net.call(to, call_data(signature, *args), sender=sender or self.alice)
        assert out.success, f"{signature}: {out.reason}"
        return decode([returns], out.output)[0]

    # --- encrypted values --------------------------------------------------------------

    def encrypt(self, value: int, fhe_type: FheType, user: keys.PrivateKey,
                contract: bytes) -> tuple[bytes, bytes]:
        """One encrypted input (handle, proof) for `user` calling `contract`."""
        (handle,), proof = self.net.encrypt_inputs([(value, fhe_type)], self.addr(user), contract)
        return handle, proof

    def decrypt(self, handle: bytes) -> int:
        return self.net.rt.decrypt(handle)

    def is_allowed(self, handle: bytes, who: keys.PrivateKey | bytes) -> bool:
        return self.net.is_allowed(handle, self.addr(who))

    def is_public(self, handle: bytes) -> bool:
        from tests.fhevm.harness import ACL

        return self.view(ACL, "isAllowedForDecryption(bytes32)", handle, returns="bool")

    def decryption_proof(self, handles: list[bytes], cleartexts: bytes) -> bytes:
        """What the KMS would answer a public decryption with (a threshold of signatures)."""
        return attest.decryption_proof(self.net.config, handles, cleartexts,
                                       self.net.kms_keys[: self.net.config.kms_threshold])

    # --- logs and time -----------------------------------------------------------------

    @staticmethod
    def events(out: Outcome, emitter: bytes, event: str) -> list[tuple[list[bytes], bytes]]:
        """(topics after the first, data) of each `event` (a signature) that `emitter` logged."""
        topic0 = int.from_bytes(keccak(text=event), "big")
        found = []
        for log in out.logs:
            if log.address == emitter and log.topics and log.topics[0] == topic0:
                found.append(([t.to_bytes(32, "big") for t in log.topics[1:]], log.data))
        return found

    def now(self) -> int:
        """The timestamp of the block the next transaction goes into."""
        return self.net.chain.header.timestamp

    def warp(self, seconds: int) -> None:
        """Move the clock: the next block (and every later one) is `seconds` later."""
        chain = self.net.chain
        chain.header = chain.header.copy(timestamp=chain.header.timestamp + seconds)


def word(value: bytes | int) -> bytes:
    return value.to_bytes(32, "big") if isinstance(value, int) else value
