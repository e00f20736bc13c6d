"""Signed messages of the KMS: EIP-712 digests (fhevm's types and domain) and the
signatures on partial-decryption shares.

- PublicDecryptVerification(bytes32[] ctHandles, bytes decryptedResult, bytes extraData):
  what FHE.checkSignatures / the KMS verifier check (domain "Decryption", gateway chain).
- UserDecryptRequestVerification / DelegatedUserDecryptRequestVerification: what the user
  signs (domain "Decryption", host chain id), as in the relayer SDK.
- UserDecryptResponseVerification(bytes publicKey, bytes32[] ctHandles,
  bytes userDecryptedShare, bytes extraData): what each party signs on its answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak, to_canonical_address

from fhevm import eip712
from fhevm.attest import sign

# what the client checks is defined once, on its side (re-exported for node.kms)
from fhevm.client.kms import DELEGATED_USER_DECRYPT_TYPES as DELEGATED_USER_DECRYPT_TYPES
from fhevm.client.kms import USER_DECRYPT_TYPES as USER_DECRYPT_TYPES
from fhevm.client.kms import decryption_domain as decryption_domain
from fhevm.client.kms import recover as recover
from fhevm.client.kms import user_response_digest as user_response_digest
from fhevm.client.kms import user_session as user_session

_USER_TYPEHASH = keccak(text="UserDecryptRequestVerification(bytes publicKey,address[] "
                        "contractAddresses,uint256 startTimestamp,uint256 durationDays,"
                        "bytes extraData)")
_DELEGATED_TYPEHASH = keccak(text="DelegatedUserDecryptRequestVerification(bytes publicKey,"
                             "address[] contractAddresses,address delegatorAddress,"
                             "uint256 startTimestamp,uint256 durationDays,bytes extraData)")


def _addresses_hash(addrs: Sequence[str]) -> bytes:
    return keccak(b"".join(encode(["address"], [to_canonical_address(a)]) for a in addrs))


def public_decrypt_digest(domain: bytes, handles: Sequence[bytes], result: bytes,
                          extra: bytes) -> bytes:
    return eip712.typed_digest(domain, eip712.public_decrypt_struct_hash(handles, result, extra))


def user_request_digest(domain: bytes, public_key: bytes, contracts: Sequence[str],
                        start: int, days: int, extra: bytes,
                        delegator: str | None = None) -> bytes:
    if delegator is None:
        struct = keccak(encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "uint256", "bytes32"],
            [_USER_TYPEHASH, keccak(public_key), _addresses_hash(contracts), start, days,
             keccak(extra)]))
    else:
        struct = keccak(encode(
            ["bytes32", "bytes32", "bytes32", "address", "uint256", "uint256", "bytes32"],
            [_DELEGATED_TYPEHASH, keccak(public_key), _addresses_hash(contracts),
             to_canonical_address(delegator), start, days, keccak(extra)]))
    return eip712.typed_digest(domain, struct)


def share_digest(session: bytes, index: int, shares: Sequence[Sequence[int]]) -> bytes:
    """What a party signs on its public-decryption shares (checked by peers and client)."""
    body = json.dumps([[hex(v) for v in row] for row in shares], separators=(",", ":"))
    return keccak(b"fhevm-py/kms/public-share" + session + index.to_bytes(4, "big")
                  + body.encode())


def sign_digest(digest: bytes, private_key: bytes) -> bytes:
    return sign(digest, keys.PrivateKey(private_key))


def encode_cleartexts(values: Sequence[int]) -> bytes:
    """decryptedResult: the cleartexts ABI-encoded as 32-byte words (bool and address too)."""
    return encode(["uint256"] * len(values), list(values))


def public_session(handles: Sequence[bytes], extra: bytes) -> bytes:
    """PRSS session of a public decryption: fixes (handles, extraData) unambiguously."""
    return keccak(b"fhevm-py/kms/public" + len(handles).to_bytes(4, "big") + b"".join(handles)
                  + extra)
