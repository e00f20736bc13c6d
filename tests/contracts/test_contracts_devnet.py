"""Contracts built for @fhevm/solidity and OpenZeppelin's ERC-7984 run on our fhEVM.

Deploys the compat/ fixtures, compiled against the npm packages (as a user would) and
against our library, on an in-memory chain with the fhevm runtime (clear backend), then
computes, decrypts, transfers and checks a public decryption proof. Skips when the fhevm
runtime or npm is unavailable.
"""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector

pytest.importorskip("fhevm.runtime")
try:
    from tests.fhevm.harness import Devnet
except ImportError as exc:  # pragma: no cover - the harness belongs to tests/fhevm
    pytest.skip(f"fhevm test harness unavailable: {exc}", allow_module_level=True)

from fhevm import attest  # noqa: E402
from fhevm.types import FheType  # noqa: E402


def call(sig: str, *args) -> bytes:
    types = sig[sig.index("(") + 1: -1]
    return selector(sig) + encode([t for t in types.split(",") if t], list(args))


def word(outcome) -> bytes:
    assert outcome.success, outcome.reason
    return outcome.output[:32]


@pytest.mark.parametrize("library", ["0.13.2", "0.11.1", "ours"])
def test_counter(compat_builds, library):
    net = Devnet("clear")
    artifact = compat_builds.get("CompatCounter", library)
    counter = net.deploy(bytes.fromhex(artifact["bytecode"][2:]))
    count = lambda: word(net.call(counter, call("count()")))  # noqa: E731

    assert net.send(counter, call("addPlain(uint32)", 5)).success
    assert net.send(counter, call("addPlain(uint32)", 7)).success
    assert net.rt.decrypt(count()) == 12

    alice = Devnet.address(net.alice)
    (amount,), proof = net.encrypt_inputs([(10, FheType.Uint32)], alice, counter)
    out = net.send(counter, call("add(bytes32,bytes)", amount, proof))
    assert out.success, out.reason
    assert net.rt.decrypt(count()) == 22
    assert net.is_allowed(count(), alice) and net.is_allowed(count(), counter)

    assert net.send(counter, call("compare(uint32)", 20)).success
    assert net.rt.decrypt(word(net.call(counter, call("above()")))) == 1
    assert net.send(counter, call("clampTo(uint32)", 15)).success
    assert net.rt.decrypt(count()) == 15

    # Public decryption: mark, then accept the KMS-signed cleartext.
    assert net.send(counter, call("reveal()")).success
    handle = count()
    cleartexts = encode(["uint32"], [15])
    proof = attest.decryption_proof(net.config, [handle], cleartexts, net.kms_keys[:2])
    forged = attest.decryption_proof(net.config, [handle], encode(["uint32"], [16]),
                                     net.kms_keys[:2])
    out = net.send(counter, call("finishReveal(bytes,bytes)", encode(["uint32"], [16]), proof))
    assert not out.success
    assert not net.send(counter, call("finishReveal(bytes,bytes)", cleartexts, forged)).success
    out = net.send(counter, call("finishReveal(bytes,bytes)", cleartexts, proof))
    assert out.success, out.reason
    assert decode(["uint32"], net.call(counter, call("revealed()")).output)[0] == 15


@pytest.mark.parametrize("library", ["0.11.1", "0.13.2", "ours"])
def test_erc7984_token(compat_builds, library):
    net = Devnet("clear")
    artifact = compat_builds.get("CompatToken", library)
    code = bytes.fromhex(artifact["bytecode"][2:]) + encode(["uint64"], [1000])
    token = net.deploy(code)
    alice, bob = Devnet.address(net.alice), Devnet.address(net.bob)
    balance = lambda who: word(net.call(token, call("confidentialBalanceOf(address)", who)))  # noqa: E731
    assert net.rt.decrypt(balance(alice)) == 1000

    (amount,), proof = net.encrypt_inputs([(300, FheType.Uint64)], alice, token)
    out = net.send(token, call("confidentialTransfer(address,bytes32,bytes)", bob, amount, proof))
    assert out.success, out.reason
    assert net.rt.decrypt(balance(alice)) == 700
    assert net.rt.decrypt(balance(bob)) == 300
    assert net.is_allowed(balance(bob), bob) and not net.is_allowed(balance(bob), alice)

    # More than the balance: the transfer succeeds but moves nothing (no revert on secrets).
    (amount,), proof = net.encrypt_inputs([(5000, FheType.Uint64)], bob, token)
    out = net.send(token, call("confidentialTransfer(address,bytes32,bytes)", alice, amount,
                               proof), sender=net.bob)
    assert out.success, out.reason
    assert net.rt.decrypt(balance(alice)) == 700
    assert net.rt.decrypt(balance(bob)) == 300
    total = word(net.call(token, call("confidentialTotalSupply()")))
    assert net.rt.decrypt(total) == 1000


def test_acl_harness_on_the_runtime():
    """FHETestACL (contracts/test) against the real ACL, verifiers and KMS signature check."""
    from contracts import load_bytecode

    net = Devnet("clear")
    acl = net.deploy(load_bytecode("FHETestACL"))
    alice, bob = Devnet.address(net.alice), Devnet.address(net.bob)

    private = word(net.send(acl, call("encryptPrivate(uint64)", 7)))
    assert net.is_allowed(private, acl) and not net.is_allowed(private, alice)
    unkept = word(net.send(acl, call("encryptUnkept(uint64)", 7)))
    assert not net.is_allowed(unkept, acl)
    assert not net.send(acl, call("addOne(bytes32)", unkept)).success  # the ACL says no
    plus_one = word(net.send(acl, call("addOne(bytes32)", private)))
    assert net.rt.decrypt(plus_one) == 8 and net.is_allowed(plus_one, alice)

    (a, b), proof = net.encrypt_inputs([(2, FheType.Uint64), (40, FheType.Uint64)], alice, acl)
    total = word(net.send(acl, call("addInputs(bytes32,bytes32,bytes)", a, b, proof)))
    assert net.rt.decrypt(total) == 42
    # Inputs are bound to their user: bob cannot replay alice's proof.
    assert not net.send(acl, call("addInputs(bytes32,bytes32,bytes)", a, b, proof),
                        sender=net.bob).success
    # Without a proof, the sender must already be allowed on the handle.
    assert word(net.send(acl, call("inputWithoutProof(bytes32)", total))) == total
    assert not net.send(acl, call("inputWithoutProof(bytes32)", total), sender=net.bob).success

    assert net.send(acl, call("allow(bytes32,address)", total, bob)).success
    assert net.is_allowed(total, bob)
    assert net.send(acl, call("makePubliclyDecryptable(bytes32)", total)).success
    is_public = decode(["bool"], net.call(acl, call("isPubliclyDecryptable(bytes32)", total))
                       .output)[0]
    assert is_public

    cleartexts = encode(["uint64"], [42])
    proof = attest.decryption_proof(net.config, [total], cleartexts, net.kms_keys[:2])
    valid = net.call(acl, call("isPublicDecryptionResultValid(bytes32[],bytes,bytes)",
                               [total], cleartexts, proof))
    assert valid.success and decode(["bool"], valid.output)[0], valid.reason
    one = attest.decryption_proof(net.config, [total], cleartexts, net.kms_keys[:1])
    assert not net.call(acl, call("isPublicDecryptionResultValid(bytes32[],bytes,bytes)",
                                  [total], cleartexts, one)).success  # below the threshold
    out = net.send(acl, call("checkSignatures(bytes32[],bytes,bytes)", [total], cleartexts, proof))
    assert out.success, out.reason
    assert not net.send(acl, call("checkSignatures(bytes32[],bytes,bytes)", [total],
                                  encode(["uint64"], [41]), proof)).success


def test_library_semantics_on_the_runtime():
    """Mixed widths, plaintext-left operands, casts and unset handles give the right values."""
    from contracts import build
    from tests.contracts.solc_cache import compile_sources, repo_sources

    name = "tests/contracts/fixtures/LibrarySemantics.sol"
    sources = {name: (build.REPO_ROOT / name).read_text(), **repo_sources("lib", "config")}
    output = compile_sources(sources)
    code = bytes.fromhex(output["contracts"][name]["LibrarySemantics"]["evm"]["bytecode"]["object"])
    net = Devnet("clear")
    contract = net.deploy(code)
    out = net.send(contract, call("run()"))
    assert out.success, out.reason
    t = FheType
    expected = [
        (1200, t.Uint16), ((200 - 1000) % 2**16, t.Uint16), (70_000_000, t.Uint32),
        (200, t.Uint256), (0, t.Bool), (1, t.Bool), (200, t.Uint64), (70000, t.Uint128),
        (140000, t.Uint32), (0, t.Bool), ((5 - 1000) % 2**16, t.Uint16), (1000 % 256, t.Uint8),
        (1, t.Bool), (1, t.Uint64), (3, t.Uint32), (1000 // 7, t.Uint16), (1000 % 7, t.Uint16),
        (256 - 200, t.Uint8), (int.from_bytes(contract, "big"), t.Uint160),
    ]
    count = decode(["uint256"], net.call(contract, call("count()")).output)[0]
    assert count == len(expected)
    for i, (value, fhe_type) in enumerate(expected):
        handle = word(net.call(contract, call("results(uint256)", i)))
        assert (net.rt.decrypt(handle), handle[30]) == (value, fhe_type), f"result {i}"
