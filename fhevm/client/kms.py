"""Client side of the KMS protocols, without the node: EIP-712 request building, opening
the parties' sealed answers and combining them with Reed-Solomon error correction.

The formats are defined here and in the modules beside it (field, rs, opening, sealing);
node/kms imports them (`fhevm` never imports `node`), so the parties and the SDK cannot drift.

- The user signs UserDecryptRequestVerification (domain "Decryption", version "1", the
  host chain id, the decryption verifying contract).
- Each party answers {"index", "userDecryptedShare", "signature"}: the share is sealed to
  the user's ephemeral X25519 key (X25519, HKDF-SHA256, ChaCha20-Poly1305; ephemeral
  public key 32 | nonce 12 | ciphertext+tag, associated data session | index (4 bytes));
  the signature is the party's EIP-712 UserDecryptResponseVerification under the gateway
  domain. The opened payload is JSON {"index", "session", "groups", "shares"}: threshold
  shares of squashed block groups (the clear backend's mock KMS answers in the same format).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak, to_canonical_address, to_checksum_address

from fhevm import addresses, eip712
from fhevm.client import opening
from fhevm.client.errors import DecryptionError
from fhevm.client.sealing import decrypt_share
from fhevm.types import FheType

# --- EIP-712 ---------------------------------------------------------------------------------

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
USER_DECRYPT_TYPES = {
    "UserDecryptRequestVerification": [
        {"name": "publicKey", "type": "bytes"},
        {"name": "contractAddresses", "type": "address[]"},
        {"name": "startTimestamp", "type": "uint256"},
        {"name": "durationDays", "type": "uint256"},
        {"name": "extraData", "type": "bytes"},
    ],
}
DELEGATED_USER_DECRYPT_TYPES = {
    "DelegatedUserDecryptRequestVerification": [
        {"name": "publicKey", "type": "bytes"},
        {"name": "contractAddresses", "type": "address[]"},
        {"name": "delegatorAddress", "type": "address"},
        {"name": "startTimestamp", "type": "uint256"},
        {"name": "durationDays", "type": "uint256"},
        {"name": "extraData", "type": "bytes"},
    ],
}
_RESPONSE_TYPEHASH = keccak(text="UserDecryptResponseVerification(bytes publicKey,"
                            "bytes32[] ctHandles,bytes userDecryptedShare,bytes extraData)")


@dataclass(frozen=True)
class KmsInfo:
    """What the client needs to know about the KMS and the EIP-712 domains."""

    chain_id: int  # host chain: domain of the user's request
    gateway_chain_id: int = addresses.GATEWAY_CHAIN_ID  # domain of KMS signatures
    decryption_contract: str = to_checksum_address(addresses.DECRYPTION_VERIFYING_CONTRACT)
    signers: tuple[str, ...] = ()  # party 1..n; empty: no answer can be trusted (refused)
    threshold: int = 0  # t
    parties: int = 1  # n
    extra: dict = field(default_factory=dict)

    def request_domain(self) -> dict:
        return {"name": eip712.DECRYPTION_DOMAIN_NAME, "version": eip712.DOMAIN_VERSION,
                "chainId": self.chain_id, "verifyingContract": self.decryption_contract}

    def response_domain(self) -> bytes:
        return decryption_domain(self.gateway_chain_id, self.decryption_contract)


def decryption_domain(chain_id: int, verifying_contract: str | bytes) -> bytes:
    """EIP-712 domain separator "Decryption" v1 (KMS answers: the gateway chain id)."""
    contract = (to_canonical_address(verifying_contract) if isinstance(verifying_contract, str)
                else bytes(verifying_contract))
    return eip712.domain_separator(eip712.DECRYPTION_DOMAIN_NAME, eip712.DOMAIN_VERSION,
                                   chain_id, contract)


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def _bytes(s: str) -> bytes:
    return bytes.fromhex(s[2:] if s[:2] in ("0x", "0X") else s)


def new_keypair() -> tuple[X25519PrivateKey, bytes]:
    sk = X25519PrivateKey.generate()
    return sk, sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass
class UserRequest:
    """An unsigned user-decryption request; `typed_data()` is what the user signs."""

    info: KmsInfo
    pairs: list[tuple[bytes, str]]
    user: str
    contracts: list[str]
    secret: X25519PrivateKey
    public_key: bytes
    start: int
    days: int
    extra: bytes
    delegator: str | None = None

    def typed_data(self) -> dict:
        """Full EIP-712 message (eth_signTypedData_v4 / Account.sign_typed_data)."""
        types = (USER_DECRYPT_TYPES if self.delegator is None
                 else DELEGATED_USER_DECRYPT_TYPES)
        message: dict = {"publicKey": _hex(self.public_key),
                         "contractAddresses": list(self.contracts)}
        if self.delegator is not None:
            message["delegatorAddress"] = self.delegator
        message.update({"startTimestamp": self.start, "durationDays": self.days,
                        "extraData": _hex(self.extra)})
        return {"types": {"EIP712Domain": DOMAIN_FIELDS, **types},
                "primaryType": next(iter(types)),
                "domain": self.info.request_domain(), "message": message}

    def signed(self, signature: bytes) -> dict:
        """The JSON body of fhevm_userDecrypt (node/kms's request format)."""
        req = {
            "handleContractPairs": [{"handle": _hex(h), "contractAddress": c}
                                    for h, c in self.pairs],
            "userAddress": self.user, "contractAddresses": list(self.contracts),
            "publicKey": _hex(self.public_key), "startTimestamp": self.start,
            "durationDays": self.days, "extraData": _hex(self.extra),
            "signature": _hex(signature),
        }
        if self.delegator is not None:
            req["delegatorAddress"] = self.delegator
        return req


def build_user_request(info: KmsInfo, pairs: Sequence[tuple[bytes, str]], user: str,
                       start: int | None = None, days: int = 1, extra: bytes = b"\x00",
                       delegator: str | None = None,
                       contracts: Sequence[str] | None = None) -> UserRequest:
    """A request for the handles of `pairs` ((handle, contract address)) with a fresh
    X25519 key; the contracts signed are `contracts`, by default those of the pairs in
    first-seen order."""
    sk, pk = new_keypair()
    pairs = [(bytes(h), to_checksum_address(c)) for h, c in pairs]
    if contracts is not None:
        contracts = [to_checksum_address(c) for c in contracts]
    else:
        contracts = []
        for _, c in pairs:
            if c not in contracts:
                contracts.append(c)
    return UserRequest(info, pairs, to_checksum_address(user), contracts, sk, pk,
                       int(time.time()) - 1 if start is None else start, days, extra,
                       None if delegator is None else to_checksum_address(delegator))


def recover(digest: bytes, signature: bytes) -> str | None:
    """Checksummed signer of a 65-byte (r, s, v in {27, 28}) signature, None if invalid."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    try:
        sig = keys.Signature(vrs=(signature[64] - 27, int.from_bytes(signature[:32], "big"),
                                  int.from_bytes(signature[32:64], "big")))
        return to_checksum_address(
            sig.recover_public_key_from_msg_hash(digest).to_canonical_address())
    except Exception:
        return None


def user_response_digest(domain: bytes, public_key: bytes, handles: Sequence[bytes],
                         share: bytes, extra: bytes) -> bytes:
    struct = keccak(encode(
        ["bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
        [_RESPONSE_TYPEHASH, keccak(public_key), keccak(b"".join(handles)), keccak(share),
         keccak(extra)]))
    return eip712.typed_digest(domain, struct)


def user_session(signature: bytes, handles: Sequence[bytes]) -> bytes:
    return keccak(b"fhevm-py/kms/user" + len(signature).to_bytes(4, "big") + signature
                  + b"".join(handles))


def public_decrypt_digest(info: KmsInfo, handles: Sequence[bytes], cleartexts: bytes,
                          extra: bytes) -> bytes:
    return eip712.typed_digest(info.response_domain(),
                               eip712.public_decrypt_struct_hash(handles, cleartexts, extra))


def _type_bits(handle: bytes) -> int:
    try:
        return FheType(handle[30]).bits
    except ValueError:
        raise DecryptionError(f"unknown type code {handle[30]} in 0x{handle.hex()}") from None


def open_user_answers(info: KmsInfo, request: dict, secret: X25519PrivateKey,
                      answers: Sequence[dict]) -> list[int]:
    """Check each answer's signature, open its sealed share, and reconstruct the cleartexts
    (integers, in the request's order). Without known signers nothing is accepted: an
    unsigned share could come from anyone between the client and the parties."""
    require_signers(info)
    handles = [_bytes(p["handle"]) for p in request["handleContractPairs"]]
    public_key = _bytes(request["publicKey"])
    extra = _bytes(request["extraData"])
    session = user_session(_bytes(request["signature"]), handles)
    domain = info.response_domain()
    opened: dict[int, dict] = {}
    reasons: list[str] = []
    for a in answers:
        try:
            index = int(a["index"])
            sealed = _bytes(a["userDecryptedShare"])
            sig = _bytes(a["signature"])
        except (KeyError, ValueError, TypeError):
            reasons.append("malformed answer")
            continue
        if index in opened:
            continue
        if not 1 <= index <= len(info.signers):
            reasons.append(f"answer from unknown party {index}")
            continue
        digest = user_response_digest(domain, public_key, handles, sealed, extra)
        if recover(digest, sig) != info.signers[index - 1]:
            reasons.append(f"party {index}: signature is not the party's")
            continue
        try:
            payload = json.loads(decrypt_share(secret, sealed,
                                               session + index.to_bytes(4, "big")))
        except (InvalidTag, ValueError):
            reasons.append(f"party {index}: sealed share does not open")
            continue
        if (not isinstance(payload, dict) or payload.get("index") != index
                or payload.get("session") != _hex(session)):
            reasons.append(f"party {index}: share for another request")
            continue
        opened[index] = payload
    if not opened:
        raise DecryptionError("no valid answer: " + "; ".join(reasons or ["none received"]))
    return _combine(info, handles, opened)


def require_signers(info: KmsInfo) -> None:
    if not info.signers:
        raise DecryptionError("no KMS signers are known (the node's fhevm_nodeInfo names none), "
                              "so no decryption answer can be authenticated")


def _well_formed(groups: object, count: int) -> bool:
    """One list of block groups (one or two block indices each) per handle."""
    return (isinstance(groups, list) and len(groups) == count
            and all(isinstance(row, list) and all(
                isinstance(g, list) and 1 <= len(g) <= 2
                and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 128
                        for b in g) for g in row) for row in groups))


def _combine(info: KmsInfo, handles: list[bytes], opened: dict[int, dict]) -> list[int]:
    n, t = max(info.parties, max(opened)), info.threshold
    tally: dict[str, list[int]] = {}
    for j, p in opened.items():
        tally.setdefault(json.dumps(p.get("groups")), []).append(j)
    chosen, members = max(tally.items(), key=lambda kv: len(kv[1]))
    if len(members) < t + 1:
        raise DecryptionError(f"fewer than t + 1 = {t + 1} valid answers agree")
    groups = json.loads(chosen)
    if not _well_formed(groups, len(handles)):
        raise DecryptionError("malformed block groups in the answers")
    try:
        rows = {j: [[int(v, 16) for v in row] for row in opened[j]["shares"]] for j in members}
    except (KeyError, TypeError, ValueError):
        raise DecryptionError("malformed shares in an answer") from None
    values = []
    for k, h in enumerate(handles):
        pts = []
        for i in range(len(groups[k])):
            ys = {j: s[k][i] for j, s in rows.items() if k < len(s) and i < len(s[k])}
            try:
                pts.append(opening.combine(ys, n, t)[0])
            except opening.ReconstructionError as exc:
                raise DecryptionError(f"cannot reconstruct 0x{h.hex()}: {exc}") from None
        values.append(opening.assemble(groups[k], pts, _type_bits(h)))
    return values
