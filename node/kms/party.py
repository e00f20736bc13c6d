"""One KMS party: an aiohttp service that answers with signed, flooded partial decryptions.

Endpoints (JSON over HTTP):
  GET  /health                      index, address
  POST /v1/public-decrypt/share     {handles, extraData} -> signed shares (ACL: publicly
                                    decryptable handles only)
  POST /v1/public-decrypt/sign      {handles, extraData, responses} -> the party checks the
                                    peers' signed shares, decodes them itself and signs the
                                    EIP-712 PublicDecryptVerification of the cleartexts
  POST /v1/user-decrypt             signed user request -> share encrypted to the user's
                                    X25519 key, signed (UserDecryptResponseVerification)

Ciphertexts: the node squashes each handle once for all parties and serves the squashed
LWEs (`fhevm_getSquashedCiphertext`, NodeSource); a party holds no squash key. It still
checks the ACL itself on the chain (eth_call through the node).

Counters: a request's PRSS session id is a hash of the request; a party evaluates a session
once, records its answer in sessions.log (fsync'd) and answers repeats from the record, so
no PRSS counter is ever evaluated twice, even across restarts. Run: python -m node.kms.party.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from eth_utils import to_checksum_address

from fhevm.client import opening
from fhevm.client.sealing import encrypt_share
from tfhe.integer import blocks_for_bits

from . import messages, squashing, threshold
from .acl import AclClient, JsonRpc, RpcError
from .dealer import PartyMaterial, PublicConfig, load_party

MAX_HANDLES = 64
MAX_DURATION_DAYS = 365
MAX_CONTRACTS = 10  # as Zama's gateway
TYPE_BITS = squashing.TYPE_BITS
MAX_FETCH_BLOCKS = 256  # blocks of squashed ciphertexts asked of the node in one call
SQUASH_TIMEOUT = 900.0  # seconds: a DEFAULT euint256 squash on 2 cores takes minutes

Squashed = squashing.Squashed


class CiphertextSource(Protocol):
    """Where a party gets the squashed LWEs of handles; KeyError(handle) when missing."""

    async def squashed(self, handles: Sequence[bytes]) -> list[Squashed]: ...


class StaticSource:
    """Pre-squashed ciphertexts (tests)."""

    def __init__(self, table: dict[bytes, Squashed]) -> None:
        self.table = table

    async def squashed(self, handles: Sequence[bytes]) -> list[Squashed]:
        for h in handles:
            if h not in self.table:
                raise KeyError(h)
        return [self.table[h] for h in handles]


class NodeSource:
    """Squashed ciphertexts from the node (JSON-RPC `fhevm_getSquashedCiphertext`): the
    node squashes each handle once for all parties (node.kms.squasher); the party checks
    the shape (groups cover the type's blocks, LWEs of its key's dimension) and keeps a
    small cache (a public decryption reads a handle in both rounds)."""

    def __init__(self, rpc: JsonRpc, dimension: int, max_cached_lwes: int = 512) -> None:
        self.rpc, self.dimension, self.max_cached = rpc, dimension, max_cached_lwes
        self._cache: OrderedDict[bytes, Squashed] = OrderedDict()

    def _remember(self, h: bytes, sq: Squashed) -> None:
        self._cache[h] = sq
        while sum(len(v[1]) for v in self._cache.values()) > self.max_cached \
                and len(self._cache) > 1:
            self._cache.popitem(last=False)

    async def squashed(self, handles: Sequence[bytes]) -> list[Squashed]:
        for h in handles:
            if h in self._cache:
                self._cache.move_to_end(h)
        missing = [h for h in dict.fromkeys(handles) if h not in self._cache]
        got: dict[bytes, Squashed] = {}
        for chunk in squashing.batches(missing, _blocks, MAX_FETCH_BLOCKS):
            answer = await self.rpc.call("fhevm_getSquashedCiphertext",
                                         [[_hex(h) for h in chunk]], timeout=SQUASH_TIMEOUT)
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise RpcError("fhevm_getSquashedCiphertext: malformed answer")
            for h, obj in zip(chunk, answer, strict=True):
                if obj is None:
                    raise KeyError(h)
                try:
                    got[h] = squashing.decode_squashed(obj, TYPE_BITS[h[30]], self.dimension)
                except ValueError as exc:
                    raise RpcError(f"squashed ciphertext of {_hex(h)}: {exc}") from None
        for h, v in got.items():
            self._remember(h, v)
        out = []
        for h in handles:
            v = got.get(h) or self._cache.get(h)
            if v is None:
                raise KeyError(h)
            out.append(v)
        return out


def _blocks(handle: bytes) -> int:
    return blocks_for_bits(TYPE_BITS[handle[30]])


def _bad(status: type[web.HTTPException], reason: str) -> web.HTTPException:
    return status(text=json.dumps({"error": reason}), content_type="application/json")


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _bytes(x: str) -> bytes:
    if not isinstance(x, str) or not x.startswith("0x"):
        raise _bad(web.HTTPBadRequest, "hex strings must start with 0x")
    try:
        return bytes.fromhex(x[2:])
    except ValueError:
        raise _bad(web.HTTPBadRequest, "bad hex") from None


def _handles(raw: object) -> list[bytes]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_HANDLES:
        raise _bad(web.HTTPBadRequest, f"1 to {MAX_HANDLES} handles")
    out = [_bytes(h) for h in raw]
    if any(len(h) != 32 or h[30] not in TYPE_BITS for h in out):
        raise _bad(web.HTTPBadRequest, "malformed handle")
    return out


class Party:
    """State and request handling of one party (independent of HTTP for tests)."""

    def __init__(self, material: PartyMaterial, cfg: PublicConfig, acl: AclClient,
                 source: CiphertextSource, state_dir: Path,
                 now: Callable[[], float] = time.time) -> None:
        self.m, self.cfg, self.acl, self.source, self.now = material, cfg, acl, source, now
        self.state_dir = state_dir
        self._log = state_dir / "sessions.log"
        self._answers: dict[bytes, list[list[int]]] = {}
        if self._log.exists():
            for line in self._log.read_text().splitlines():
                sid, _, rows = line.partition(" ")
                self._answers[bytes.fromhex(sid)] = [[int(v, 16) for v in r]
                                                     for r in json.loads(rows)]
        self._lock = asyncio.Lock()
        self.domain = messages.decryption_domain(cfg.gateway_chain_id, cfg.decryption_contract)
        self.request_domain = messages.decryption_domain(cfg.chain_id, cfg.decryption_contract)

    # -- sessions (PRSS counters are never evaluated twice) --------------------------------

    def _record(self, session: bytes, shares: list[list[int]]) -> None:
        """Keep the answer (memory and sessions.log, fsync'd) so that a repeated request is
        answered without evaluating the PRSS at the same counter again."""
        self._answers[session] = shares
        with open(self._log, "a") as f:
            f.write(session.hex() + " " + json.dumps([[hex(v) for v in r] for r in shares])
                    + "\n")
            f.flush()
            os.fsync(f.fileno())

    async def _shares(self, session: bytes, handles: Sequence[bytes]) -> list[list[int]]:
        """This party's partial decryptions of every squashed LWE of every handle."""
        if session in self._answers:
            return self._answers[session]
        lwes = [s[1] for s in await self._squashed(handles)]
        async with self._lock:
            if session in self._answers:
                return self._answers[session]
            out, item = [], 0
            for rows in lwes:
                row = []
                for lwe in rows:
                    ctr = threshold.counter(session, item)
                    row.append(threshold.partial_decrypt(self.m.key_share, self.m.prss, lwe, ctr))
                    item += 1
                out.append(row)
            self._record(session, out)
            return out

    async def _squashed(self, handles: Sequence[bytes]) -> list[Squashed]:
        try:
            return await self.source.squashed(handles)
        except KeyError as exc:
            h = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
            raise _bad(web.HTTPNotFound, f"no ciphertext for {_hex(h)}") from None

    async def _require(self, ok: bool, reason: str) -> None:
        if not ok:
            raise _bad(web.HTTPForbidden, reason)

    # -- public decryption ---------------------------------------------------------------

    public_session = staticmethod(messages.public_session)

    async def _public_request(self, body: dict) -> tuple[list[bytes], bytes, bytes]:
        """(handles, extraData, session) of a public decryption the ACL allows."""
        handles = _handles(body.get("handles"))
        extra = _bytes(body.get("extraData", "0x00"))
        for h in handles:
            await self._require(await self.acl.is_allowed_for_decryption(h),
                                f"handle {_hex(h)} is not publicly decryptable")
        return handles, extra, self.public_session(handles, extra)

    async def public_share(self, body: dict) -> dict:
        handles, _, session = await self._public_request(body)
        shares = await self._shares(session, handles)
        sig = messages.sign_digest(messages.share_digest(session, self.m.index, shares),
                                   self.m.signing_key)
        return {"index": self.m.index, "address": self.m.address, "session": _hex(session),
                "handles": [_hex(h) for h in handles],
                "shares": [[hex(v) for v in row] for row in shares], "signature": _hex(sig)}

    def verified_shares(self, session: bytes, responses: Sequence[dict]) -> dict[int, list]:
        """{party index: shares} of the responses whose signature is their party's."""
        out: dict[int, list] = {}
        for r in responses:
            try:
                index = int(r["index"])
                shares = [[int(v, 16) for v in row] for row in r["shares"]]
                sig = _bytes(r["signature"])
                theirs = _bytes(r["session"])
            except (KeyError, TypeError, ValueError, web.HTTPException):
                continue
            if not 1 <= index <= self.cfg.n or index in out or theirs != session:
                continue
            signer = messages.recover(messages.share_digest(session, index, shares), sig)
            if signer == self.cfg.signers[index - 1]:
                out[index] = shares
        return out

    async def public_sign(self, body: dict) -> dict:
        handles, extra, session = await self._public_request(body)
        got = self.verified_shares(session, body.get("responses") or [])
        mine = self._answers.get(session)
        if mine is not None and got.get(self.m.index, mine) != mine:
            raise _bad(web.HTTPConflict, "my own share in the bundle was altered")
        values = []
        squashed = await self._squashed(handles)
        try:
            for k, h in enumerate(handles):
                groups, lwes = squashed[k]
                if any(len(s[k]) != len(lwes) for s in got.values()):
                    raise _bad(web.HTTPBadRequest, "share count does not match the ciphertext")
                pts = [opening.combine({j: s[k][i] for j, s in got.items()}, self.cfg.n,
                                         self.cfg.t)[0] for i in range(len(lwes))]
                values.append(opening.assemble(groups, pts, TYPE_BITS[h[30]]))
        except opening.ReconstructionError as exc:
            raise _bad(web.HTTPUnprocessableEntity, f"cannot reconstruct: {exc}") from None
        result = messages.encode_cleartexts(values)
        digest = messages.public_decrypt_digest(self.domain, handles, result, extra)
        return {"index": self.m.index, "values": [str(v) for v in values],
                "decryptedResult": _hex(result),
                "signature": _hex(messages.sign_digest(digest, self.m.signing_key))}

    # -- user decryption ------------------------------------------------------------------

    async def user_decrypt(self, body: dict) -> dict:
        try:
            pairs = [(_bytes(p["handle"]), to_checksum_address(p["contractAddress"]))
                     for p in body["handleContractPairs"]]
            user = to_checksum_address(body["userAddress"])
            contracts = [to_checksum_address(c) for c in body["contractAddresses"]]
            public_key = _bytes(body["publicKey"])
            start, days = int(body["startTimestamp"]), int(body["durationDays"])
            extra = _bytes(body.get("extraData", "0x00"))
            signature = _bytes(body["signature"])
            delegator = body.get("delegatorAddress")
            delegator = to_checksum_address(delegator) if delegator else None
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(web.HTTPBadRequest, f"malformed request: {exc}") from None
        handles = _handles([_hex(h) for h, _ in pairs])
        if not 0 < len(contracts) <= MAX_CONTRACTS:
            raise _bad(web.HTTPBadRequest, f"1 to {MAX_CONTRACTS} contract addresses")
        if len(public_key) != 32:
            raise _bad(web.HTTPBadRequest, "publicKey must be a 32-byte X25519 key")
        digest = messages.user_request_digest(self.request_domain, public_key, contracts, start,
                                              days, extra, delegator)
        await self._require(messages.recover(digest, signature) == user,
                            "request signature is not the user's")
        now = self.now()
        await self._require(0 < days <= MAX_DURATION_DAYS and start <= now
                            < start + days * 86400, "request outside its validity window")
        owner = delegator or user
        for h, c in pairs:
            await self._require(c in contracts, f"contract {c} not in the signed request")
            await self._require(c != owner and c != user, "user address equals contract address")
            if delegator is None:
                ok = await self.acl.is_allowed(h, user) and await self.acl.is_allowed(h, c)
            else:
                ok = await self.acl.is_delegated(delegator, user, c, h)
            await self._require(ok, f"{owner} / {c} not allowed on {_hex(h)}")
        session = messages.user_session(signature, handles)
        shares = await self._shares(session, handles)
        groups = [s[0] for s in await self._squashed(handles)]
        payload = json.dumps({"index": self.m.index, "session": _hex(session), "groups": groups,
                              "shares": [[hex(v) for v in row] for row in shares]}).encode()
        sealed = encrypt_share(X25519PublicKey.from_public_bytes(public_key), payload,
                               session + self.m.index.to_bytes(4, "big"))
        rdigest = messages.user_response_digest(self.domain, public_key, handles, sealed, extra)
        return {"index": self.m.index, "address": self.m.address,
                "userDecryptedShare": _hex(sealed),
                "signature": _hex(messages.sign_digest(rdigest, self.m.signing_key))}

    # -- HTTP -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        async def wrap(request: web.Request, fn) -> web.Response:
            try:
                body = await request.json()
            except ValueError:
                raise _bad(web.HTTPBadRequest, "body is not JSON") from None
            if not isinstance(body, dict):
                raise _bad(web.HTTPBadRequest, "body must be an object")
            try:
                return web.json_response(await fn(body))
            except RpcError as exc:
                raise _bad(web.HTTPBadGateway, f"node unreachable: {exc}") from None

        async def health(_: web.Request) -> web.Response:
            return web.json_response({"index": self.m.index, "address": self.m.address})

        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_get("/health", health)
        for path, fn in (("/v1/public-decrypt/share", self.public_share),
                         ("/v1/public-decrypt/sign", self.public_sign),
                         ("/v1/user-decrypt", self.user_decrypt)):
            app.router.add_post(path, functools.partial(wrap, fn=fn))
        return app


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="one KMS party")
    ap.add_argument("--kms-dir", required=True, type=Path)
    ap.add_argument("--index", required=True, type=int)
    ap.add_argument("--rpc-url", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    cfg = PublicConfig.load(args.kms_dir)
    party_dir = args.kms_dir / f"party-{args.index}"
    material = load_party(party_dir)
    rpc = JsonRpc(args.rpc_url)
    source = NodeSource(rpc, len(material.key_share.values))  # no squash key here
    party = Party(material, cfg, AclClient(rpc), source, party_dir)
    web.run_app(party.app(), host=args.host, port=cfg.ports[args.index - 1], print=None)


if __name__ == "__main__":
    main()
