"""Client side: ask the parties, check their signatures, combine with error correction.

`public_decrypt` runs the two rounds (signed shares, then each party's EIP-712 signature
over the cleartexts it decoded itself) and returns the proof that FHE.checkSignatures
accepts. `user_request` builds and signs the EIP-712 user-decryption request with a fresh
X25519 key; `user_decrypt` sends it, opens the sealed shares and reconstructs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account
from eth_utils import to_checksum_address

from fhevm.client import kms as ckms
from fhevm.client.errors import DecryptionError
from fhevm.client.kms import new_keypair as new_keypair

from . import messages
from .dealer import PublicConfig


class KmsError(RuntimeError):
    """The KMS refused, or not enough valid answers came back."""


@dataclass(frozen=True)
class PublicDecryption:
    values: list[int]
    decrypted_result: bytes  # abi-encoded cleartexts
    signatures: list[bytes]
    proof: bytes  # numSigners | signatures | extraData, for FHE.checkSignatures


async def post_all(urls: Sequence[str], path: str, body: dict,
                   timeout: float) -> list[dict | None]:
    """POST `body` to every party at once; None for a party that did not answer."""
    async def one(session: aiohttp.ClientSession, url: str) -> dict | None:
        try:
            async with session.post(url.rstrip("/") + path, json=body) as r:
                data = await r.json(content_type=None)
                return data if r.status == 200 else {"error": data, "status": r.status}
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
        return list(await asyncio.gather(*(one(s, u) for u in urls)))


def answered(answers: list[dict | None]) -> list[dict]:
    """The answers that are not refusals."""
    return [a for a in answers if a is not None and "error" not in a]


def refusals(answers: list[dict | None]) -> list:
    """The parties' reasons for refusing."""
    return [a["error"] for a in answers if a is not None and "error" in a]


async def public_decrypt(urls: Sequence[str], cfg: PublicConfig, handles: Sequence[bytes],
                         extra: bytes = b"\x00", timeout: float = 600) -> PublicDecryption:
    body = {"handles": ["0x" + h.hex() for h in handles], "extraData": "0x" + extra.hex()}
    first = await post_all(urls, "/v1/public-decrypt/share", body, timeout)
    shares = answered(first)
    if len(shares) < cfg.t + 1:
        raise KmsError(f"public decryption refused: {refusals(first)}")
    second = await post_all(urls, "/v1/public-decrypt/sign", {**body, "responses": shares},
                             timeout)
    domain = messages.decryption_domain(cfg.gateway_chain_id, cfg.decryption_contract)
    by_result: dict[bytes, dict[str, bytes]] = {}
    for a in answered(second):
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
        raise KmsError(f"no cleartext signed by t + 1 parties: {refusals(second)}")
    result, sigs = agreed[0][0], list(agreed[0][1].values())
    values = [int.from_bytes(result[32 * i:32 * i + 32], "big") for i in range(len(handles))]
    return PublicDecryption(values, result, sigs, bytes([len(sigs)]) + b"".join(sigs) + extra)


def info_for(cfg: PublicConfig) -> ckms.KmsInfo:
    """The SDK's view of a dealt KMS (domains, signers, n, t)."""
    return ckms.KmsInfo(chain_id=cfg.chain_id, gateway_chain_id=cfg.gateway_chain_id,
                        decryption_contract=to_checksum_address(cfg.decryption_contract),
                        signers=tuple(cfg.signers), threshold=cfg.t, parties=cfg.n)


def user_request(private_key: bytes, cfg: PublicConfig,
                 pairs: Sequence[tuple[bytes, str]], contracts: Sequence[str],
                 start: int | None = None, days: int = 1, extra: bytes = b"\x00",
                 delegator: str | None = None) -> tuple[dict, X25519PrivateKey]:
    """A signed user-decryption request (signed as a wallet signs typed data) for the
    `contracts` given (the SDK's builder, which otherwise signs the pairs' contracts)."""
    account = Account.from_key(private_key)
    req = ckms.build_user_request(info_for(cfg), pairs, account.address, start, days, extra,
                                  delegator, contracts=contracts)
    signature = account.sign_typed_data(full_message=req.typed_data()).signature
    return req.signed(bytes(signature)), req.secret


def open_user_answers(cfg: PublicConfig, request: dict, secret: X25519PrivateKey,
                      answers: Sequence[dict]) -> list[int]:
    """Check each party's signature, open its sealed share, combine robustly (the SDK's
    fhevm.client.kms.open_user_answers); KmsError when no trustworthy cleartext results."""
    try:
        return ckms.open_user_answers(info_for(cfg), request, secret, answers)
    except DecryptionError as exc:
        raise KmsError(str(exc)) from None


async def user_decrypt(urls: Sequence[str], cfg: PublicConfig, request: dict,
                       secret: X25519PrivateKey, timeout: float = 600) -> list[int]:
    """Send the request to every party and reconstruct the cleartexts."""
    answers = await post_all(urls, "/v1/user-decrypt", request, timeout)
    ok = answered(answers)
    if len(ok) < cfg.t + 1:
        raise KmsError(f"user decryption refused: {refusals(answers)}")
    return open_user_answers(cfg, request, secret, ok)


def public_decrypt_sync(urls: Sequence[str], cfg: PublicConfig, handles: Sequence[bytes],
                        extra: bytes = b"\x00", timeout: float = 600) -> PublicDecryption:
    """`public_decrypt` for callers without an event loop (CLI, relayer thread)."""
    return asyncio.run(public_decrypt(urls, cfg, handles, extra, timeout))


def user_decrypt_sync(urls: Sequence[str], cfg: PublicConfig, request: dict,
                      secret: X25519PrivateKey, timeout: float = 600) -> list[int]:
    """`user_decrypt` for callers without an event loop."""
    return asyncio.run(user_decrypt(urls, cfg, request, secret, timeout))
