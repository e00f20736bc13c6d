"""Decryption for the node's RPC: relay to the KMS parties (tfhe), or the "mock" KMS (clear).

The clear backend has no keys to share, so the node plays the KMS itself, like Zama's
hardhat mock: it checks exactly what a party checks (ACL, the user's EIP-712 signature and
validity window), decrypts, and signs with the devnet KMS keys whose addresses genesis
registered, so `FHE.checkSignatures` and the client's answer checks run unchanged. User
decryption answers have the parties' format (node.kms.party.Party.user_decrypt): each
"party" j seals a Shamir share (degree t over F_p) of Y = m * 2^124 for every 4-bit
group of the value to the user's X25519 key and signs UserDecryptResponseVerification, so
`node.kms.client.open_user_answers` reconstructs them exactly as it does real ones.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from eth_utils import to_checksum_address

from fhevm.client.opening import DELTA_LOG2
from fhevm.client.sealing import encrypt_share
from node.kms import messages, shamir
from node.kms.party import MAX_CONTRACTS, MAX_DURATION_DAYS, MAX_HANDLES, TYPE_BITS

# is_allowed(handle, account) / is_allowed_for_decryption(handle) / is_delegated(...)
Acl = Any


class DecryptionRefused(ValueError):
    """The ACL, a signature or the validity window forbids the request."""


class BadRequest(ValueError):
    """Malformed request."""


def _bytes(x: Any, name: str) -> bytes:
    if not isinstance(x, str) or not x.startswith("0x"):
        raise BadRequest(f"{name} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(x[2:])
    except ValueError:
        raise BadRequest(f"{name} is not valid hex") from None


def parse_handles(raw: Any) -> list[bytes]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_HANDLES:
        raise BadRequest(f"expected a list of 1 to {MAX_HANDLES} handles")
    out = [_bytes(h, "handle") for h in raw]
    for h in out:
        if len(h) != 32 or h[30] not in TYPE_BITS:
            raise BadRequest(f"malformed handle 0x{h.hex()}")
    return out


def groups_for(bits: int) -> list[tuple[int, ...]]:
    """Block grouping of a clean radix value: pairs of 2-bit blocks (one block for ebool)."""
    blocks = max(1, (bits + 1) // 2)
    return [tuple(range(i, min(i + 2, blocks))) for i in range(0, blocks, 2)]


def group_plaintexts(value: int, groups: Sequence[tuple[int, ...]]) -> list[int]:
    out = []
    for g in groups:
        m = (value >> (2 * g[0])) & 3
        if len(g) == 2:
            m |= ((value >> (2 * g[1])) & 3) << 2
        out.append(m)
    return out


# -- user decryption ----------------------------------------------------------------------

def parse_user_request(body: Any) -> dict:
    """The fields of a user-decryption request (node.kms.client.user_request's format)."""
    if not isinstance(body, dict):
        raise BadRequest("the request must be an object")
    try:
        pairs = [(_bytes(p["handle"], "handle"), to_checksum_address(p["contractAddress"]))
                 for p in body["handleContractPairs"]]
        delegator = body.get("delegatorAddress")
        req = {
            "pairs": pairs,
            "user": to_checksum_address(body["userAddress"]),
            "contracts": [to_checksum_address(c) for c in body["contractAddresses"]],
            "public_key": _bytes(body["publicKey"], "publicKey"),
            "start": int(body["startTimestamp"]),
            "days": int(body["durationDays"]),
            "extra": _bytes(body.get("extraData", "0x00"), "extraData"),
            "signature": _bytes(body["signature"], "signature"),
            "delegator": to_checksum_address(delegator) if delegator else None,
        }
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, BadRequest):
            raise
        raise BadRequest(f"malformed user-decryption request: {exc}") from None
    req["handles"] = parse_handles(["0x" + h.hex() for h, _ in pairs])
    if not 0 < len(req["contracts"]) <= MAX_CONTRACTS:
        raise BadRequest(f"1 to {MAX_CONTRACTS} contract addresses")
    if len(req["public_key"]) != 32:
        raise BadRequest("publicKey must be a 32-byte X25519 key")
    try:
        X25519PublicKey.from_public_bytes(req["public_key"])
    except ValueError:
        raise BadRequest("publicKey is not an X25519 key") from None
    return req


async def check_user_request(req: dict, cfg: Any, acl: Acl, now: float) -> None:
    """What each KMS party checks (node.kms.party.Party.user_decrypt), in the same order."""
    domain = messages.decryption_domain(cfg.chain_id, cfg.decryption_contract)
    digest = messages.user_request_digest(domain, req["public_key"], req["contracts"],
                                          req["start"], req["days"], req["extra"],
                                          req["delegator"])
    if messages.recover(digest, req["signature"]) != req["user"]:
        raise DecryptionRefused("request signature is not the user's")
    start, days = req["start"], req["days"]
    if not (0 < days <= MAX_DURATION_DAYS and start <= now < start + days * 86400):
        raise DecryptionRefused("request outside its validity window")
    user, delegator = req["user"], req["delegator"]
    owner = delegator or user
    for h, c in req["pairs"]:
        if c not in req["contracts"]:
            raise DecryptionRefused(f"contract {c} not in the signed request")
        if c in (owner, user):
            raise DecryptionRefused("user address equals contract address")
        if delegator is None:
            ok = await acl.is_allowed(h, user) and await acl.is_allowed(h, c)
        else:
            ok = await acl.is_delegated(delegator, user, c, h)
        if not ok:
            raise DecryptionRefused(f"{owner} / {c} not allowed on 0x{h.hex()}")


def mock_user_answers(req: dict, cfg: Any, kms_keys: Sequence[Any],
                      values: Sequence[int]) -> list[dict]:
    """Answers of the n mock parties, in the real parties' format: each seals its Shamir
    shares of every group's noiseless opening Y = m * 2^124 to the user and signs."""
    handles = req["handles"]
    session = messages.user_session(req["signature"], handles)
    domain = messages.decryption_domain(cfg.gateway_chain_id, cfg.decryption_contract)
    groups = [groups_for(TYPE_BITS[h[30]]) for h in handles]
    # shares[k][i][j - 1]: party j's share of group i of handle k
    shares = [[shamir.share(m << DELTA_LOG2, cfg.n, cfg.t)
               for m in group_plaintexts(v, g)] for v, g in zip(values, groups, strict=True)]
    recipient = X25519PublicKey.from_public_bytes(req["public_key"])
    answers = []
    for j in range(1, cfg.n + 1):
        rows = [[hex(per_group[j - 1]) for per_group in row] for row in shares]
        payload = json.dumps({"index": j, "session": "0x" + session.hex(),
                              "groups": groups, "shares": rows}).encode()
        sealed = encrypt_share(recipient, payload, session + j.to_bytes(4, "big"))
        digest = messages.user_response_digest(domain, req["public_key"], handles, sealed,
                                                req["extra"])
        key = kms_keys[j - 1]
        answers.append({"index": j, "address": cfg.signers[j - 1],
                        "userDecryptedShare": "0x" + sealed.hex(),
                        "signature": "0x" + messages.sign_digest(digest, key.to_bytes()).hex()})
    return answers


# -- public decryption -----------------------------------------------------------------------

async def check_public(handles: Sequence[bytes], acl: Acl) -> None:
    for h in handles:
        if not await acl.is_allowed_for_decryption(h):
            raise DecryptionRefused(f"handle 0x{h.hex()} is not publicly decryptable")


def mock_public_decrypt(fhevm_config: Any, handles: Sequence[bytes], values: Sequence[int],
                        kms_keys: Sequence[Any], extra: bytes = b"\x00") -> tuple[bytes, bytes]:
    """(abi-encoded cleartexts, decryption proof signed by every mock KMS key)."""
    from fhevm import attest

    cleartexts = messages.encode_cleartexts(values)
    return cleartexts, attest.decryption_proof(fhevm_config, handles, cleartexts, kms_keys,
                                               extra)


Call = Callable[[str, list], Awaitable[Any]]


class LocalRpc:
    """node.kms.acl.JsonRpc's interface over the node's own dispatcher (no HTTP), so the
    mock KMS reads the ACL with the parties' own client (node.kms.acl.AclClient)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def call(self, method: str, params: list) -> object:
        return await self._call(method, params)


def kms_config(info: dict) -> Any:
    """node.kms.dealer.PublicConfig from fhevm_nodeInfo, for node.kms.client.user_request
    and open_user_answers (the same code path for the real KMS and the clear mock)."""
    from node.kms.dealer import PublicConfig

    kms, gw = info["kms"], info["gateway"]
    ports = tuple(int(u.rsplit(":", 1)[1]) for u in kms["parties"])
    return PublicConfig(kms["n"], kms["t"], tuple(kms["signers"]), ports, 0, 0,
                        chain_id=info["chainId"], gateway_chain_id=gw["chainId"],
                        decryption_contract=gw["decryptionVerifyingContract"])
