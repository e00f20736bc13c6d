"""EIP-712 digests that the verifiers check and the KMS / coprocessor signers sign."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import keccak

DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
INPUT_TYPEHASH = keccak(
    text="CiphertextVerification(bytes32[] ctHandles,address userAddress,"
    "address contractAddress,uint256 contractChainId,bytes extraData)"
)
PUBLIC_DECRYPT_TYPEHASH = keccak(
    text="PublicDecryptVerification(bytes32[] ctHandles,bytes decryptedResult,bytes extraData)"
)

INPUT_DOMAIN_NAME = "InputVerification"
DECRYPTION_DOMAIN_NAME = "Decryption"
DOMAIN_VERSION = "1"


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: bytes) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                DOMAIN_TYPEHASH,
                keccak(text=name),
                keccak(text=version),
                chain_id,
                verifying_contract,
            ],
        )
    )


def typed_digest(domain: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain + struct_hash)


def input_struct_hash(
    handles: Sequence[bytes], user: bytes, contract: bytes, chain_id: int, extra_data: bytes
) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "address", "address", "uint256", "bytes32"],
            [
                INPUT_TYPEHASH,
                keccak(b"".join(handles)),
                user,
                contract,
                chain_id,
                keccak(extra_data),
            ],
        )
    )


def public_decrypt_struct_hash(
    handles: Sequence[bytes], decrypted_result: bytes, extra_data: bytes
) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "bytes32"],
            [
                PUBLIC_DECRYPT_TYPEHASH,
                keccak(b"".join(handles)),
                keccak(decrypted_result),
                keccak(extra_data),
            ],
        )
    )
