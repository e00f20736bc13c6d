"""Client side of the KMS protocols, without the node: EIP-712 request building, opening
the parties' sealed answers and combining them with Reed-Solomon error correction.

Formats are those of node/kms (messages, userenc, threshold, squashing): re-implemented
here because `fhevm` never imports `node`.

- The user signs UserDecryptRequestVerification (domain "Decryption", version "1", the
  host chain id, the decryption verifying contract).
- Each party answers {"index", "userDecryptedShare", "signature"}: the share is sealed to
  the user's ephemeral X25519 key (X25519, HKDF-SHA256, ChaCha20-Poly1305; ephemeral
  public key 32 | nonce 12 | ciphertext+tag, associated data session | index (4 bytes));
  the signature is the party's EIP-712 UserDecryptResponseVerification under the gateway
  domain. The opened payload is JSON {"index", "session", "groups", "shares"} (threshold
  shares of squashed block groups) or, from a clear-backend node, {"index", "session",
  "values"} (the cleartexts as hex strings).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import comb

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak, to_canonical_address, to_checksum_address

from fhevm import addresses, eip712
from fhevm.client.errors import DecryptionError
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
    signers: tuple[str, ...] = ()  # party 1..n; empty: answers' signatures are not checked
    threshold: int = 0  # t
    parties: int = 1  # n
    extra: dict = field(default_factory=dict)

    def request_domain(self) -> dict:
        return {"name": eip712.DECRYPTION_DOMAIN_NAME, "version": eip712.DOMAIN_VERSION,
                "chainId": self.chain_id, "verifyingContract": self.decryption_contract}

    def response_domain(self) -> bytes:
        return eip712.domain_separator(eip712.DECRYPTION_DOMAIN_NAME, eip712.DOMAIN_VERSION,
                                       self.gateway_chain_id,
                                       to_canonical_address(self.decryption_contract))


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
                       delegator: str | None = None) -> UserRequest:
    """A request for the handles of `pairs` ((handle, contract address)) with a fresh
    X25519 key; the contracts signed are those of the pairs, in first-seen order."""
    sk, pk = new_keypair()
    pairs = [(bytes(h), to_checksum_address(c)) for h, c in pairs]
    contracts: list[str] = []
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


# --- sealing (node/kms/userenc) --------------------------------------------------------------

_SEAL_INFO = b"fhevm-py/kms/user-decryption/v1"


def unseal(secret: X25519PrivateKey, sealed: bytes, aad: bytes) -> bytes:
    """Raises InvalidTag on a tampered or misdirected share."""
    if len(sealed) < 32 + 12 + 16:
        raise ValueError("sealed share too short")
    eph = X25519PublicKey.from_public_bytes(sealed[:32])
    mine = secret.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = HKDF(hashes.SHA256(), 32, salt=sealed[:32] + mine,
               info=_SEAL_INFO).derive(secret.exchange(eph))
    return ChaCha20Poly1305(key).decrypt(sealed[32:44], sealed[44:], aad)


# --- F_p and Reed-Solomon (node/kms/field, rs) -------------------------------------------------

P = (1 << 256) - 189


def _trim(a: list[int]) -> list[int]:
    while a and a[-1] == 0:
        a.pop()
    return a


def _add(a: list[int], b: list[int]) -> list[int]:
    out = [0] * max(len(a), len(b))
    for i, v in enumerate(a):
        out[i] = v
    for i, v in enumerate(b):
        out[i] = (out[i] + v) % P
    return _trim(out)


def _mul(a: list[int], b: list[int]) -> list[int]:
    if not a or not b:
        return []
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return _trim([v % P for v in out])


def _divmod(a: list[int], b: list[int]) -> tuple[list[int], list[int]]:
    a = list(a)
    q = [0] * max(0, len(a) - len(b) + 1)
    lead = pow(b[-1], P - 2, P)
    while len(_trim(a)) >= len(b):
        shift = len(a) - len(b)
        c = a[-1] * lead % P
        q[shift] = c
        for i, v in enumerate(b):
            a[i + shift] = (a[i + shift] - c * v) % P
    return _trim(q), _trim(a)


def _eval(a: list[int], x: int) -> int:
    acc = 0
    for c in reversed(a):
        acc = (acc * x + c) % P
    return acc


def _interpolate(xs: Sequence[int], ys: Sequence[int]) -> list[int]:
    out: list[int] = []
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        num, den = [1], 1
        for j, xj in enumerate(xs):
            if j != i:
                num = _mul(num, [(-xj) % P, 1])
                den = den * (xi - xj) % P
        scale = yi * pow(den, P - 2, P) % P
        out = _add(out, [c * scale % P for c in num])
    return out


def rs_decode_secret(shares: dict[int, int], t: int) -> int:
    """f(0) of the degree <= t polynomial that all but (m - t - 1) // 2 shares lie on
    (Gao's decoder); DecryptionError beyond the unique-decoding radius."""
    xs = sorted(shares)
    ys = [shares[x] % P for x in xs]
    m, k = len(xs), t + 1
    if m < k:
        raise DecryptionError(f"{m} answers cannot determine a degree-{t} polynomial")
    g0 = [1]
    for x in xs:
        g0 = _mul(g0, [(-x) % P, 1])
    r0, r1 = g0, _interpolate(xs, ys)
    v0: list[int] = []
    v1 = [1]
    stop = (m + k + 1) // 2
    while len(r1) - 1 >= stop:
        q, r = _divmod(r0, r1)
        r0, r1 = r1, r
        v0, v1 = v1, _add(v0, [(-c) % P for c in _mul(q, v1)])
    if not v1:
        raise DecryptionError("too many wrong answers to correct")
    f, rem = _divmod(r1, v1)
    if rem or len(f) > k:
        raise DecryptionError("too many wrong answers to correct")
    wrong = sum(1 for x, y in zip(xs, ys, strict=True) if _eval(f, x) != y)
    if 2 * wrong > m - k:
        raise DecryptionError("too many wrong answers to correct")
    return _eval(f, 0)


# --- opening (node/kms/threshold, squashing) ---------------------------------------------------

NOISE_BITS, WRAP_BITS, SQUASH_NOISE_LOG2, DELTA_LOG2 = 108, 56, 70, 124
KEY_DIMENSION = 4096
_Q = 1 << 128


def open_value(y: int, n: int, t: int) -> int:
    """The 4-bit plaintext of an opened value, or DecryptionError when it is not of the
    shape an honest opening has."""
    sets = comb(n, t)
    y %= P
    v = y - P if y > P // 2 else y
    if not -(KEY_DIMENSION + 1) * _Q <= v <= (sets << (WRAP_BITS + 128)) + _Q:
        raise DecryptionError("opened value out of range: inconsistent answers")
    phase = v % _Q
    m = ((phase + (1 << (DELTA_LOG2 - 1))) >> DELTA_LOG2) % 16
    residue = (phase - (m << DELTA_LOG2) + _Q // 2) % _Q - _Q // 2
    if abs(residue) > (sets << NOISE_BITS) + (1 << SQUASH_NOISE_LOG2):
        raise DecryptionError("opened value has noise beyond the budget")
    return m


def assemble(groups: Sequence[Sequence[int]], plaintexts: Sequence[int], bits: int) -> int:
    value = 0
    for g, m in zip(groups, plaintexts, strict=True):
        value |= (m & 3) << (2 * g[0])
        if len(g) == 2:
            value |= ((m >> 2) & 3) << (2 * g[1])
    return value & 1 if bits == 1 else value % (1 << bits)


def _type_bits(handle: bytes) -> int:
    try:
        return FheType(handle[30]).bits
    except ValueError:
        raise DecryptionError(f"unknown type code {handle[30]} in 0x{handle.hex()}") from None


def open_user_answers(info: KmsInfo, request: dict, secret: X25519PrivateKey,
                      answers: Sequence[dict]) -> list[int]:
    """Check each answer's signature (when the signers are known), open its sealed share,
    and reconstruct the cleartexts (integers, in the request's order)."""
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
        if info.signers:
            if not 1 <= index <= len(info.signers):
                reasons.append(f"answer from unknown party {index}")
                continue
            digest = user_response_digest(domain, public_key, handles, sealed, extra)
            if recover(digest, sig) != info.signers[index - 1]:
                reasons.append(f"party {index}: signature is not the party's")
                continue
        try:
            payload = json.loads(unseal(secret, sealed, session + index.to_bytes(4, "big")))
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
    clear = [p for p in opened.values() if "values" in p]
    if clear:  # clear backend: the node's own answer carries the cleartexts
        try:
            values = [int(v, 16) if isinstance(v, str) else int(v) for v in clear[0]["values"]]
        except (TypeError, ValueError):
            raise DecryptionError("malformed cleartexts in the node's answer") from None
        if len(values) != len(handles):
            raise DecryptionError("the node answered for another number of handles")
        return [v % (1 << _type_bits(h)) for v, h in zip(values, handles, strict=True)]
    return _combine(info, handles, opened)


def _combine(info: KmsInfo, handles: list[bytes], opened: dict[int, dict]) -> list[int]:
    n, t = max(info.parties, max(opened)), info.threshold
    tally: dict[str, list[int]] = {}
    for j, p in opened.items():
        tally.setdefault(json.dumps(p.get("groups")), []).append(j)
    chosen, members = max(tally.items(), key=lambda kv: len(kv[1]))
    if len(members) < t + 1:
        raise DecryptionError(f"fewer than t + 1 = {t + 1} valid answers agree")
    groups = json.loads(chosen)
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
                pts.append(open_value(rs_decode_secret(ys, t), n, t))
            except DecryptionError as exc:
                raise DecryptionError(f"cannot reconstruct 0x{h.hex()}: {exc}") from None
        values.append(assemble(groups[k], pts, _type_bits(h)))
    return values
