"""Signature verifiers: the KMS verifier (public decryption proofs) and the input verifier
(coprocessor attestations of uploaded ciphertexts). Both check EIP-712 signatures against
a registered signer set with a threshold, kept in their own storage (set at genesis).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_keys import KeyAPI

from fhevm import addresses, eip712
from fhevm.abi import Revert
from fhevm.acl import OWNER_SLOT
from fhevm.precompile import CallContext, Event, Precompile, method, slot

NEW_CONTEXT_SET = Event("NewContextSet", (), ("address[]", "uint256"))

_THRESHOLD = slot(b"fhevm.signers.threshold")
_COUNT = slot(b"fhevm.signers.count")
_LIST = slot(b"fhevm.signers.list")
_IS_SIGNER = b"fhevm.signers.is"
_MOD = 1 << 256
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

GAS_ECRECOVER = 3_000
MAX_SIGNERS = 64


def signer_storage(signers: Sequence[bytes], threshold: int) -> dict[int, int]:
    """Genesis storage of a signer set."""
    if signers and not 1 <= threshold <= len(signers):
        raise ValueError("threshold must be between 1 and the number of signers")
    storage = {_THRESHOLD: threshold if signers else 0, _COUNT: len(signers)}
    for i, s in enumerate(signers):
        storage[(_LIST + i) % _MOD] = int.from_bytes(s, "big")
        storage[slot(_IS_SIGNER, s)] = 1
    return storage


def get_signers(ctx: CallContext, address: bytes) -> list[bytes]:
    n = ctx.sload(address, _COUNT)
    return [ctx.sload(address, (_LIST + i) % _MOD).to_bytes(20, "big") for i in range(n)]


def get_threshold(ctx: CallContext, address: bytes) -> int:
    return ctx.sload(address, _THRESHOLD)


def is_signer(ctx: CallContext, address: bytes, account: bytes) -> bool:
    return ctx.sload(address, slot(_IS_SIGNER, account)) != 0


def _set_signers(
    ctx: CallContext, address: bytes, signers: Sequence[bytes], threshold: int
) -> None:
    if not signers:
        raise Revert("SignersSetIsEmpty")
    if len(signers) > MAX_SIGNERS:
        raise Revert("too many signers")
    for old in get_signers(ctx, address):
        ctx.sstore(address, slot(_IS_SIGNER, old), 0)
    for i, s in enumerate(signers):
        if s == b"\0" * 20:
            raise Revert("SignerNull")
        if is_signer(ctx, address, s):
            raise Revert("AlreadySigner")
        ctx.sstore(address, slot(_IS_SIGNER, s), 1)
        ctx.sstore(address, (_LIST + i) % _MOD, int.from_bytes(s, "big"))
    ctx.sstore(address, _COUNT, len(signers))
    _set_threshold(ctx, address, threshold)


def _set_threshold(ctx: CallContext, address: bytes, threshold: int) -> None:
    if threshold == 0:
        raise Revert("ThresholdIsNull")
    if threshold > ctx.sload(address, _COUNT):
        raise Revert("ThresholdIsAboveNumberOfSigners")
    ctx.sstore(address, _THRESHOLD, threshold)


def recover(digest: bytes, signature: bytes) -> bytes:
    """Signer address of a 65-byte (r, s, v) signature, with OpenZeppelin ECDSA's checks."""
    if len(signature) != 65:
        raise Revert(f"ECDSAInvalidSignatureLength: {len(signature)}")
    r, s, v = (
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
        signature[64],
    )
    if s > _SECP256K1_HALF_N:
        raise Revert("ECDSAInvalidSignatureS")
    if v not in (27, 28):
        raise Revert("ECDSAInvalidSignature")
    try:
        sig = KeyAPI.Signature(vrs=(v - 27, r, s))
        return sig.recover_public_key_from_msg_hash(digest).to_canonical_address()
    except Exception:
        raise Revert("ECDSAInvalidSignature") from None


def verify_threshold(
    ctx: CallContext, address: bytes, digest: bytes, signatures: Sequence[bytes], label: str
) -> bool:
    """True once `threshold` distinct registered signers signed `digest`; reverts on an
    empty list, too few signatures or a signature by a stranger; False when duplicates
    keep the count of distinct signers below the threshold."""
    if not signatures:
        raise Revert(f"{label}ZeroSignature")
    threshold = get_threshold(ctx, address)
    if threshold == 0:
        raise Revert(f"{label}: no signer set registered")
    if len(signatures) < threshold:
        raise Revert(f"{label}SignatureThresholdNotReached: {len(signatures)}")
    seen: set[bytes] = set()
    for sig in signatures:
        ctx.charge(GAS_ECRECOVER, "ecrecover")
        signer = recover(digest, sig)
        if not is_signer(ctx, address, signer):
            raise Revert(f"{label}InvalidSigner: 0x{signer.hex()}")
        seen.add(signer)
        if len(seen) >= threshold:
            return True
    return False


def split_signatures(blob: bytes, offset: int, count: int) -> list[bytes]:
    return [blob[offset + 65 * j : offset + 65 * (j + 1)] for j in range(count)]


class _SignerSetMixin:
    """Functions shared by both verifiers: the signer set and its EIP-712 domain."""

    address: bytes
    domain_name: str

    def _domain(self, ctx: CallContext) -> tuple[int, bytes]:
        raise NotImplementedError

    def domain_separator(self, ctx: CallContext) -> bytes:
        chain_id, contract = self._domain(ctx)
        return eip712.domain_separator(self.domain_name, eip712.DOMAIN_VERSION, chain_id, contract)

    @method(
        "eip712Domain()",
        ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"],
        mutates=False,
    )
    def eip712Domain(self, ctx: CallContext) -> tuple:
        chain_id, contract = self._domain(ctx)
        name, version = self.domain_name, eip712.DOMAIN_VERSION
        return (b"\x0f", name, version, chain_id, contract, b"\0" * 32, [])

    @method("getThreshold()", ["uint256"], mutates=False)
    def getThreshold(self, ctx: CallContext) -> int:
        return get_threshold(ctx, self.address)

    @method("isSigner(address)", ["bool"], mutates=False)
    def isSigner(self, ctx: CallContext, account: str) -> bool:
        return is_signer(ctx, self.address, bytes.fromhex(account[2:]))

    def _require_owner(self, ctx: CallContext) -> None:
        # Like Zama's ACLOwnable: the ACL's owner administers the verifiers too.
        if ctx.sload(addresses.ACL, OWNER_SLOT) != int.from_bytes(ctx.sender, "big"):
            raise Revert(f"NotOwner: 0x{ctx.sender.hex()}")

    @method("defineNewContext(address[],uint256)")
    def defineNewContext(self, ctx: CallContext, signers: tuple, threshold: int) -> None:
        self._require_owner(ctx)
        _set_signers(ctx, self.address, [bytes.fromhex(s[2:]) for s in signers], threshold)
        self._context_set(ctx)

    @method("setThreshold(uint256)")
    def setThreshold(self, ctx: CallContext, threshold: int) -> None:
        self._require_owner(ctx)
        _set_threshold(ctx, self.address, threshold)
        self._context_set(ctx)

    def _context_set(self, ctx: CallContext) -> None:
        """NewContextSet(signers, threshold), as both host-contracts verifiers emit it."""
        ctx.emit(NEW_CONTEXT_SET, get_signers(ctx, self.address),
                 get_threshold(ctx, self.address))


class KmsVerifierPrecompile(_SignerSetMixin, Precompile):
    """The KMS verifier at 0x901F...B030: checks public decryption proofs."""

    address = addresses.KMS_VERIFIER
    name = "KMSVerifier"
    domain_name = eip712.DECRYPTION_DOMAIN_NAME

    def _domain(self, ctx: CallContext) -> tuple[int, bytes]:
        cfg = ctx.runtime.config
        return cfg.gateway_chain_id, cfg.decryption_verifying_contract

    @method("verifyDecryptionEIP712KMSSignatures(bytes32[],bytes,bytes)", ["bool"], mutates=False)
    def verifyDecryptionEIP712KMSSignatures(
        self, ctx: CallContext, handles: tuple, decrypted: bytes, proof: bytes
    ) -> bool:
        # proof = numSigners (1 byte) | numSigners * 65-byte signatures | extraData
        if not proof:
            raise Revert("EmptyDecryptionProof")
        n = proof[0]
        offset = 1 + 65 * n
        if len(proof) < offset:
            raise Revert("DeserializingDecryptionProofFail")
        extra = proof[offset:]
        struct = eip712.public_decrypt_struct_hash(list(handles), decrypted, extra)
        digest = eip712.typed_digest(self.domain_separator(ctx), struct)
        return verify_threshold(ctx, self.address, digest, split_signatures(proof, 1, n), "KMS")

    @method(
        "getContextSignersAndThresholdFromExtraData(bytes)", ["address[]", "uint256"], mutates=False
    )
    def getContextSignersAndThresholdFromExtraData(self, ctx: CallContext, extra: bytes) -> tuple:
        # One KMS context on the devnet: every extraData version resolves to it.
        return get_signers(ctx, self.address), get_threshold(ctx, self.address)

    @method("getKmsSigners()", ["address[]"], mutates=False)
    def getKmsSigners(self, ctx: CallContext) -> list[bytes]:
        return get_signers(ctx, self.address)

    @method("getVersion()", ["string"], mutates=False)
    def getVersion(self, ctx: CallContext) -> str:
        return "KMSVerifier v0.1.0 (fhevm-py)"


_PROOF_CACHE = b"fhevm.input.proof"
_CACHE_LIST = slot(b"fhevm.input.cache-list")


class InputVerifierPrecompile(_SignerSetMixin, Precompile):
    """The input verifier: coprocessor signatures over (handles, user, contract, chain)."""

    address = addresses.INPUT_VERIFIER
    name = "InputVerifier"
    domain_name = eip712.INPUT_DOMAIN_NAME

    def _domain(self, ctx: CallContext) -> tuple[int, bytes]:
        cfg = ctx.runtime.config
        return cfg.gateway_chain_id, cfg.input_verifying_contract

    def verify(
        self, ctx: CallContext, handle: bytes, user: bytes, contract: bytes, proof: bytes
    ) -> None:
        """Check that `handle` is attested for (user, contract) by `proof`; reverts if not.
        A proof already checked in this transaction only needs the handle looked up."""
        index = handle[21]
        key = slot(_PROOF_CACHE, contract, user, proof)
        if not proof:
            raise Revert("EmptyInputProof")
        n_handles, n_signers = proof[0], proof[1] if len(proof) > 1 else 0
        if n_handles <= index or index > 254:
            raise Revert("InvalidIndex")
        offset = 2 + 32 * n_handles + 65 * n_signers
        if len(proof) < offset:
            raise Revert("DeserializingInputProofFail")
        listed = [proof[2 + 32 * i : 34 + 32 * i] for i in range(n_handles)]
        if not ctx.tload(self.address, key):
            if any(h[31] != 0 for h in listed):
                raise Revert("InvalidHandleVersion")
            struct = eip712.input_struct_hash(listed, user, contract, ctx.chain_id, proof[offset:])
            digest = eip712.typed_digest(self.domain_separator(ctx), struct)
            sigs = split_signatures(proof, 2 + 32 * n_handles, n_signers)
            if not verify_threshold(ctx, self.address, digest, sigs, ""):
                raise Revert("SignaturesVerificationFailed")
            ctx.tstore(self.address, key, 1)
            n = ctx.tload(self.address, _CACHE_LIST) + 1
            ctx.tstore(self.address, (_CACHE_LIST + n) % _MOD, key)
            ctx.tstore(self.address, _CACHE_LIST, n)
        if listed[index] != handle:
            raise Revert("InvalidInputHandle")

    @method("cleanTransientStorage()")
    def cleanTransientStorage(self, ctx: CallContext) -> None:
        n = ctx.tload(self.address, _CACHE_LIST)
        for i in range(1, n + 1):
            entry = (_CACHE_LIST + i) % _MOD
            ctx.tstore(self.address, ctx.tload(self.address, entry), 0)
            ctx.tstore(self.address, entry, 0)
        ctx.tstore(self.address, _CACHE_LIST, 0)

    @method("getCoprocessorSigners()", ["address[]"], mutates=False)
    def getCoprocessorSigners(self, ctx: CallContext) -> list[bytes]:
        return get_signers(ctx, self.address)

    @method("getHandleVersion()", ["uint8"], mutates=False)
    def getHandleVersion(self, ctx: CallContext) -> int:
        return 0

    @method("getVersion()", ["string"], mutates=False)
    def getVersion(self, ctx: CallContext) -> str:
        return "InputVerifier v0.2.0 (fhevm-py)"
