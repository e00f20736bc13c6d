"""Client side: ask the parties, check their signatures, combine with error correction.

`public_decrypt` runs the two rounds (signed shares, then each party's EIP-712 signature
over the cleartexts it decoded itself) and returns the proof that FHE.checkSignatures
accepts. `user_request` builds and signs the EIP-712 user-decryption request with a fresh
X25519 key; `user_decrypt` sends it, opens the sealed shares and reconstructs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from . import messages, squashing, threshold
from .dealer import PublicConfig
from .party import TYPE_BITS
from .userenc import decrypt_share


class KmsError(RuntimeError):
    """The KMS refused, or not enough valid answers came back."""


@dataclass(frozen=True)
class PublicDecryption:
    values: list[int]
    decrypted_result: bytes  # abi-encoded cleartexts
    signatures: list[bytes]
    proof: bytes  # numSigners | signatures | extraData, for FHE.checkSignatures


async def _post_all(urls: Sequence[str], path: str, body: dict,
                    timeout: float) -> list[dict | None]:
    async def one(session: aiohttp.ClientSession, url: str) -> dict | None:
        try:
            async with session.post(url.rstrip("/") + path, json=body) as r:
                data = await r.json(content_type=None)
                return data if r.status == 200 else {"error": data, "status": r.status}
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
        return list(await asyncio.gather(*(one(s, u) for u in urls)))


def _ok(answers: list[dict | None]) -> list[dict]:
    return [a for a in answers if a is not None and "error" not in a]


def _refusals(answers: list[dict | None]) -> list:
    return [a["error"] for a in answers if a is not None and "error" in a]


async def public_decrypt(urls: Sequence[str], cfg: PublicConfig, handles: Sequence[bytes],
                         extra: bytes = b"\x00", timeout: float = 600) -> PublicDecryption:
    body = {"handles": ["0x" + h.hex() for h in handles], "extraData": "0x" + extra.hex()}
    first = await _post_all(urls, "/v1/public-decrypt/share", body, timeout)
    shares = _ok(first)
    if len(shares) < cfg.t + 1:
        raise KmsError(f"public decryption refused: {_refusals(first)}")
    second = await _post_all(urls, "/v1/public-decrypt/sign", {**body, "responses": shares},
                             timeout)
    domain = messages.decryption_domain(cfg.gateway_chain_id, cfg.decryption_contract)
    by_result: dict[bytes, dict[str, bytes]] = {}
    for a in _ok(second):
        try:
            index = int(a["index"])
            result = bytes.fromhex(a["decryptedResult"][2:])
            sig = bytes.fromhex(a["signature"][2:])
        except (KeyError, ValueError, TypeError):
            continue
        if not 1 <= index <= cfg.n:
            continue
        signer = messages.recover(messages.public_decrypt_digest(domain, handles, result, extra),
                                  sig)
        if signer == cfg.signers[index - 1]:
            by_result.setdefault(result, {})[signer] = sig  # one signature per signer
    agreed = [(r, s) for r, s in by_result.items() if len(s) >= cfg.t + 1]
    if len(agreed) != 1:
        raise KmsError(f"no cleartext signed by t + 1 parties: {_refusals(second)}")
    result, sigs = agreed[0][0], list(agreed[0][1].values())
    values = [int.from_bytes(result[32 * i:32 * i + 32], "big") for i in range(len(handles))]
    return PublicDecryption(values, result, sigs, bytes([len(sigs)]) + b"".join(sigs) + extra)


def new_keypair() -> tuple[X25519PrivateKey, bytes]:
    sk = X25519PrivateKey.generate()
    return sk, sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def user_request(private_key: bytes, cfg: PublicConfig,
                 pairs: Sequence[tuple[bytes, str]], contracts: Sequence[str],
                 start: int | None = None, days: int = 1, extra: bytes = b"\x00",
                 delegator: str | None = None) -> tuple[dict, X25519PrivateKey]:
    """A signed user-decryption request (signed as a wallet signs typed data)."""
    sk, pk = new_keypair()
    start = int(time.time()) - 1 if start is None else start
    contracts = [to_checksum_address(c) for c in contracts]
    message = {"publicKey": pk, "contractAddresses": contracts, "startTimestamp": start,
               "durationDays": days, "extraData": extra}
    types = messages.USER_DECRYPT_TYPES
    if delegator is not None:
        message["delegatorAddress"] = to_checksum_address(delegator)
        types = messages.DELEGATED_USER_DECRYPT_TYPES
    domain = {"name": "Decryption", "version": "1", "chainId": cfg.chain_id,
              "verifyingContract": cfg.decryption_contract}
    signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
    account = Account.from_key(private_key)
    sig = account.sign_message(signable).signature
    req = {
        "handleContractPairs": [{"handle": "0x" + h.hex(), "contractAddress": c}
                                for h, c in pairs],
        "userAddress": account.address, "contractAddresses": contracts,
        "publicKey": "0x" + pk.hex(), "startTimestamp": start, "durationDays": days,
        "extraData": "0x" + extra.hex(), "signature": "0x" + bytes(sig).hex(),
    }
    if delegator is not None:
        req["delegatorAddress"] = to_checksum_address(delegator)
    return req, sk


def open_user_answers(cfg: PublicConfig, request: dict, secret: X25519PrivateKey,
                      answers: Sequence[dict]) -> list[int]:
    """Check each party's signature, open its sealed share, combine robustly. The block
    grouping of each handle is taken from the answers (t + 1 must agree on it)."""
    handles = [bytes.fromhex(p["handle"][2:]) for p in request["handleContractPairs"]]
    public_key = bytes.fromhex(request["publicKey"][2:])
    extra = bytes.fromhex(request["extraData"][2:])
    signature = bytes.fromhex(request["signature"][2:])
    session = messages.user_session(signature, handles)
    domain = messages.decryption_domain(cfg.gateway_chain_id, cfg.decryption_contract)
    opened: dict[int, tuple[str, list[list[int]]]] = {}
    for a in answers:
        try:
            index = int(a["index"])
            sealed = bytes.fromhex(a["userDecryptedShare"][2:])
            sig = bytes.fromhex(a["signature"][2:])
        except (KeyError, ValueError, TypeError):
            continue
        if not 1 <= index <= cfg.n or index in opened:
            continue
        digest = messages.user_response_digest(domain, public_key, handles, sealed, extra)
        if messages.recover(digest, sig) != cfg.signers[index - 1]:
            continue  # unsigned or signed by someone else: ignored
        try:
            payload = json.loads(decrypt_share(secret, sealed, session + index.to_bytes(4, "big")))
            if payload.get("index") != index or payload.get("session") != "0x" + session.hex():
                continue
            rows = [[int(v, 16) for v in row] for row in payload["shares"]]
            opened[index] = (json.dumps(payload["groups"]), rows)
        except (InvalidTag, ValueError, KeyError, TypeError):
            continue
    tally: dict[str, int] = {}
    for g, _ in opened.values():
        tally[g] = tally.get(g, 0) + 1
    if not tally or max(tally.values()) < cfg.t + 1:
        raise KmsError("fewer than t + 1 valid answers agree on the ciphertexts")
    chosen = max(tally, key=tally.__getitem__)
    groups = [[tuple(g) for g in row] for row in json.loads(chosen)]
    shares = {j: rows for j, (g, rows) in opened.items() if g == chosen}
    values = []
    for k, h in enumerate(handles):
        pts = []
        for i in range(len(groups[k])):
            ys = {j: s[k][i] for j, s in shares.items() if k < len(s) and i < len(s[k])}
            try:
                pts.append(threshold.combine(ys, cfg.n, cfg.t)[0])
            except threshold.ReconstructionError as exc:
                raise KmsError(f"cannot reconstruct handle 0x{h.hex()}: {exc}") from None
        values.append(squashing.assemble(groups[k], pts, TYPE_BITS[h[30]]))
    return values


async def user_decrypt(urls: Sequence[str], cfg: PublicConfig, request: dict,
                       secret: X25519PrivateKey, timeout: float = 600) -> list[int]:
    """Send the request to every party and reconstruct the cleartexts."""
    answers = await _post_all(urls, "/v1/user-decrypt", request, timeout)
    ok = _ok(answers)
    if len(ok) < cfg.t + 1:
        raise KmsError(f"user decryption refused: {_refusals(answers)}")
    return open_user_answers(cfg, request, secret, ok)


def public_decrypt_sync(urls: Sequence[str], cfg: PublicConfig, handles: Sequence[bytes],
                        extra: bytes = b"\x00", timeout: float = 600) -> PublicDecryption:
    """`public_decrypt` for callers without an event loop (CLI, relayer thread)."""
    return asyncio.run(public_decrypt(urls, cfg, handles, extra, timeout))


def user_decrypt_sync(urls: Sequence[str], cfg: PublicConfig, request: dict,
                      secret: X25519PrivateKey, timeout: float = 600) -> list[int]:
    """`user_decrypt` for callers without an event loop."""
    return asyncio.run(user_decrypt(urls, cfg, request, secret, timeout))
