"""The signing side of the verifiers: build `inputProof` and public-decryption proofs.

Used by whoever holds the signer keys (the devnet's coprocessor and KMS parties, tests).
Layouts are those of @fhevm/solidity: an input proof is numHandles | numSigners |
handles (32 B each) | signatures (65 B each) | extraData; a decryption proof is
numSigners | signatures | extraData.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_keys import keys

from fhevm import eip712
from fhevm.config import FhevmConfig


def sign(digest: bytes, key: keys.PrivateKey) -> bytes:
    """65-byte r | s | v signature with v in {27, 28}, as ecrecover expects."""
    sig = key.sign_msg_hash(digest)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def input_digest(
    cfg: FhevmConfig,
    handles: Sequence[bytes],
    user: bytes,
    contract: bytes,
    chain_id: int,
    extra_data: bytes = b"\x00",
) -> bytes:
    domain = eip712.domain_separator(
        eip712.INPUT_DOMAIN_NAME,
        eip712.DOMAIN_VERSION,
        cfg.gateway_chain_id,
        cfg.input_verifying_contract,
    )
    struct = eip712.input_struct_hash(handles, user, contract, chain_id, extra_data)
    return eip712.typed_digest(domain, struct)


def input_proof(
    cfg: FhevmConfig,
    handles: Sequence[bytes],
    user: bytes,
    contract: bytes,
    chain_id: int,
    signer_keys: Sequence[keys.PrivateKey],
    extra_data: bytes = b"\x00",
) -> bytes:
    """The `inputProof` that lets `contract` accept `handles` from `user`."""
    if not 0 < len(handles) <= 254 or len(signer_keys) > 255:
        raise ValueError("1..254 handles and at most 255 signers")
    digest = input_digest(cfg, handles, user, contract, chain_id, extra_data)
    sigs = [sign(digest, k) for k in signer_keys]
    return bytes([len(handles), len(sigs)]) + b"".join(handles) + b"".join(sigs) + extra_data


def decryption_digest(
    cfg: FhevmConfig, handles: Sequence[bytes], cleartexts: bytes, extra_data: bytes = b"\x00"
) -> bytes:
    domain = eip712.domain_separator(
        eip712.DECRYPTION_DOMAIN_NAME,
        eip712.DOMAIN_VERSION,
        cfg.gateway_chain_id,
        cfg.decryption_verifying_contract,
    )
    struct = eip712.public_decrypt_struct_hash(handles, cleartexts, extra_data)
    return eip712.typed_digest(domain, struct)


def decryption_proof(
    cfg: FhevmConfig,
    handles: Sequence[bytes],
    cleartexts: bytes,
    signer_keys: Sequence[keys.PrivateKey],
    extra_data: bytes = b"\x00",
) -> bytes:
    """Proof for FHE.checkSignatures(handles, abi-encoded cleartexts, proof)."""
    digest = decryption_digest(cfg, handles, cleartexts, extra_data)
    sigs = [sign(digest, k) for k in signer_keys]
    return bytes([len(sigs)]) + b"".join(sigs) + extra_data
