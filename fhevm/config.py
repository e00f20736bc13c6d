"""Genesis configuration of the fhEVM services: who signs, how many must, who owns."""

from __future__ import annotations

from dataclasses import dataclass

from fhevm import addresses


@dataclass(frozen=True)
class FhevmConfig:
    """Signer sets arrive with the KMS and input issues; until then they may be empty
    (then every signature check reverts: no input can be verified, no decryption proven)."""

    kms_signers: tuple[bytes, ...] = ()
    kms_threshold: int = 1
    input_signers: tuple[bytes, ...] = ()
    input_threshold: int = 1
    #: May call blockAccount/unblockAccount and change signer sets (None: nobody).
    owner: bytes | None = None
    gateway_chain_id: int = addresses.GATEWAY_CHAIN_ID
    decryption_verifying_contract: bytes = addresses.DECRYPTION_VERIFYING_CONTRACT
    input_verifying_contract: bytes = addresses.INPUT_VERIFYING_CONTRACT
