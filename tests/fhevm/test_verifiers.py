"""Signature checks of the KMS verifier and the input verifier (EIP-712, threshold)."""

from __future__ import annotations

from eth_abi import decode, encode
from eth_utils import keccak

from fhevm import attest
from fhevm.types import FheType
from tests.fhevm.harness import CHAIN_ID, EXECUTOR, INPUT_VERIFIER, KMS, Devnet, call_data, key

VERIFY = "verifyDecryptionEIP712KMSSignatures(bytes32[],bytes,bytes)"


def _verify(net: Devnet, handles: list, cleartexts: bytes, proof: bytes):  # noqa: ANN202
    return net.call(KMS, call_data(VERIFY, handles, cleartexts, proof))


def test_kms_threshold_signatures(net: Devnet) -> None:
    h = net.trivial(5, FheType.Uint8)
    clear = encode(["uint256"], [5])
    cfg = net.config
    good = attest.decryption_proof(cfg, [h], clear, net.kms_keys[:2])
    out = _verify(net, [h], clear, good)
    assert out.success and decode(["bool"], out.output) == (True,)
    # A different cleartext does not match the signatures (they recover to strangers).
    out = _verify(net, [h], encode(["uint256"], [6]), good)
    assert not out.success and "KMSInvalidSigner" in out.reason
    out = _verify(net, [h], clear, attest.decryption_proof(cfg, [h], clear, net.kms_keys[:1]))
    assert not out.success and "KMSSignatureThresholdNotReached" in out.reason
    out = _verify(net, [h], clear, attest.decryption_proof(cfg, [h], clear, [key("x"), key("y")]))
    assert not out.success and "KMSInvalidSigner" in out.reason
    dup = attest.decryption_proof(cfg, [h], clear, [net.kms_keys[0]] * 2)
    out = _verify(net, [h], clear, dup)
    assert out.success and decode(["bool"], out.output) == (False,)
    out = _verify(net, [h], clear, b"")
    assert not out.success and "EmptyDecryptionProof" in out.reason
    out = _verify(net, [h], clear, b"\x03" + b"\x00" * 10)
    assert not out.success and "DeserializingDecryptionProofFail" in out.reason


def test_kms_views(net: Devnet) -> None:
    out = net.call(KMS, call_data("eip712Domain()"))
    fields = decode(
        ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], out.output
    )
    assert fields[:4] == (b"\x0f", "Decryption", "1", 10901)
    out = net.call(KMS, call_data("getContextSignersAndThresholdFromExtraData(bytes)", b"\x00"))
    signers, threshold = decode(["address[]", "uint256"], out.output)
    assert threshold == 2 and len(signers) == 4
    assert net.view(KMS, "isSigner(address)", net.address(net.kms_keys[3]))
    out = net.send(KMS, call_data("setThreshold(uint256)", 3), sender=net.bob)
    assert not out.success and "NotOwner" in out.reason
    out = net.send(KMS, call_data("setThreshold(uint256)", 3), sender=net.owner_key)
    assert out.success and net.view(KMS, "getThreshold()", returns="uint256") == 3
    (log,) = out.logs  # NewContextSet(address[] signers, uint256 threshold)
    topic0 = int.from_bytes(keccak(text="NewContextSet(address[],uint256)"), "big")
    assert list(log.topics) == [topic0]
    assert decode(["address[]", "uint256"], log.data) == (tuple(signers), 3)
    out = net.send(KMS, call_data("setThreshold(uint256)", 5), sender=net.owner_key)
    assert not out.success and "ThresholdIsAboveNumberOfSigners" in out.reason


VERIFY_INPUT = "verifyInput(bytes32,address,bytes,uint8)"


def test_input_verification_rules(net: Devnet) -> None:
    alice, bob = net.address(net.alice), net.address(net.bob)
    (h, h2), proof = net.encrypt_inputs([(77, FheType.Uint64), (1, FheType.Bool)], alice, net.probe)
    # Wrong type, wrong user, wrong contract.
    out = net.compute(VERIFY_INPUT, h, alice, proof, int(FheType.Uint32))
    assert not out.success and "InvalidType" in out.reason
    out = net.compute(VERIFY_INPUT, h, bob, proof, int(FheType.Uint64))
    assert not out.success and "InvalidSigner" in out.reason
    out = net.send(EXECUTOR, call_data(VERIFY_INPUT, h, alice, proof, int(FheType.Uint64)))
    assert not out.success and "InvalidSigner" in out.reason  # caller is not the contract
    # A handle that the proof does not list.
    other, _ = net.encrypt_inputs([(5, FheType.Uint64)], alice, net.probe)
    out = net.compute(VERIFY_INPUT, other[0], alice, proof, int(FheType.Uint64))
    assert not out.success and "InvalidInputHandle" in out.reason
    # Bad proofs.
    out = net.compute(VERIFY_INPUT, h, alice, b"", int(FheType.Uint64))
    assert not out.success and "EmptyInputProof" in out.reason
    out = net.compute(VERIFY_INPUT, h, alice, proof[:40], int(FheType.Uint64))
    assert not out.success and "DeserializingInputProofFail" in out.reason
    # The right call works, for both members of the bundle.
    out = net.compute(VERIFY_INPUT, h, alice, proof, int(FheType.Uint64))
    assert out.success and net.rt.decrypt(decode(["bytes32"], out.output)[0]) == 77
    out = net.compute(VERIFY_INPUT, h2, alice, proof, int(FheType.Bool))
    assert out.success and net.rt.decrypt(h2) == 1
    # An attested handle whose ciphertext was never uploaded.
    ghost = bytes(21) + h[21:]
    ghost_proof = attest.input_proof(
        net.config, [ghost], alice, net.probe, CHAIN_ID, net.copro_keys
    )
    out = net.compute(VERIFY_INPUT, ghost, alice, ghost_proof, int(FheType.Uint64))
    assert not out.success and "no uploaded ciphertext" in out.reason


def test_input_verifier_views(net: Devnet) -> None:
    out = net.call(INPUT_VERIFIER, call_data("eip712Domain()"))
    fields = decode(
        ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], out.output
    )
    assert fields[1:4] == ("InputVerification", "1", 10901)
    assert fields[4].lower() == "0x812b06e1cdce800494b79ffe4f925a504a9a9810"
    out = net.call(INPUT_VERIFIER, call_data("getCoprocessorSigners()"))
    assert (
        decode(["address[]"], out.output)[0][0].lower()
        == "0x" + net.address(net.copro_keys[0]).hex()
    )
    assert net.send(INPUT_VERIFIER, call_data("cleanTransientStorage()")).success


def test_owner_redefines_kms_context(net: Devnet) -> None:
    newcomer = key("new kms")
    signers = [net.address(newcomer), net.address(net.kms_keys[0])]
    define = call_data("defineNewContext(address[],uint256)", signers, 1)
    out = net.send(KMS, define, sender=net.bob)
    assert not out.success and "NotOwner" in out.reason
    assert net.send(KMS, define, sender=net.owner_key).success
    h = net.trivial(1, FheType.Bool)
    clear = encode(["bool"], [True])
    proof = attest.decryption_proof(net.config, [h], clear, [newcomer])
    out = _verify(net, [h], clear, proof)
    assert out.success and decode(["bool"], out.output) == (True,)
    old = attest.decryption_proof(net.config, [h], clear, [net.kms_keys[3]])
    out = _verify(net, [h], clear, old)
    assert not out.success and "KMSInvalidSigner" in out.reason
