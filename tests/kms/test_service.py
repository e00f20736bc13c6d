"""KMS parties over HTTP: public and user decryption against a fake node's ACL (eth_call),
liars, refusals, signatures. Ciphertexts are pre-squashed (StaticSource)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

import pytest
from aiohttp import web
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import to_canonical_address, to_checksum_address

from fhevm import attest, verifiers
from fhevm.client import field as F
from fhevm.config import FhevmConfig
from fhevm.pytest_plugin import free_port_range
from node.kms import client, dealer, launch, squashing
from node.kms.acl import AclClient, JsonRpc
from node.kms.party import Party, StaticSource
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng

TYPES = {1: 0, 4: 1, 8: 2, 16: 3, 32: 4, 64: 5, 128: 6, 160: 7, 256: 8}
CONTRACT = to_checksum_address("0x" + "c0" * 20)


def _handle(bits: int) -> bytes:
    return secrets.token_bytes(21) + b"\xff" + (31337).to_bytes(8, "big") + bytes(
        [TYPES[bits], 0])


class FakeNode:
    """eth_call for the three ACL reads, answered from Python sets."""

    def __init__(self) -> None:
        self.public: set[bytes] = set()
        self.allowed: set[tuple[bytes, str]] = set()
        self.delegations: set[tuple[str, str, str]] = set()

    def answer(self, data: bytes) -> bool:
        sel, args = data[:4], data[4:]
        if sel == selector("isAllowedForDecryption(bytes32)"):
            return decode(["bytes32"], args)[0] in self.public
        if sel == selector("isAllowed(bytes32,address)"):
            h, a = decode(["bytes32", "address"], args)
            return (h, to_checksum_address(a)) in self.allowed
        if sel == selector("isHandleDelegatedForUserDecryption(address,address,address,bytes32)"):
            d, g, c, h = decode(["address", "address", "address", "bytes32"], args)
            d, g, c = map(to_checksum_address, (d, g, c))
            return ((h, d) in self.allowed and (h, c) in self.allowed
                    and (d, g, c) in self.delegations)
        raise ValueError("unknown selector")

    def app(self) -> web.Application:
        async def rpc(request: web.Request) -> web.Response:
            body = await request.json()
            assert body["method"] == "eth_call"
            data = bytes.fromhex(body["params"][0]["data"][2:])
            out = encode(["bool"], [self.answer(data)])
            return web.json_response({"jsonrpc": "2.0", "id": body["id"],
                                      "result": "0x" + out.hex()})

        app = web.Application()
        app.router.add_post("/", rpc)
        return app


class Liar(Party):
    """A party whose shares are random field elements (correctly signed)."""

    async def _shares(self, session, handles):
        rows = await super()._shares(session, handles)
        return [[secrets.randbelow(F.P) for _ in row] for row in rows]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    rng = Csprng.from_os()
    key = rng.binary(4096)
    base = free_port_range(6)  # the parties and the node
    kms_dir = tmp_path_factory.mktemp("kms")
    cfg = dealer.deal_shares(kms_dir, key, 4, 1, 4, 4, base_port=base)
    values = {bits: secrets.randbelow(1 << bits) for bits in (1, 8, 64, 160)}
    table, handles = {}, {}
    for bits, v in values.items():
        groups = squashing.group_blocks([(3, 1)] * (1 if bits == 1 else bits // 2))
        lwes = []
        for g in groups:
            m = sum(((v >> (2 * b)) & 3) << (2 * k) for k, b in enumerate(g))
            hi, lo = sq.encrypt128(key, m, 61, rng)
            lwes.append(sq.to_ints(hi, lo))
        h = _handle(bits)
        handles[bits] = h
        table[h] = (groups, lwes)
    return kms_dir, cfg, StaticSource(table), handles, values, base + 4


async def _serve(world, node: FakeNode, liars=(), down=(), now=time.time):
    kms_dir, cfg, source, *_, node_port = world
    runners = []
    nr = web.AppRunner(node.app())
    await nr.setup()
    await web.TCPSite(nr, "127.0.0.1", node_port).start()
    runners.append(nr)
    acl = AclClient(JsonRpc(f"http://127.0.0.1:{node_port}/"))
    parties = []
    for j in range(1, cfg.n + 1):
        if j in down:
            continue
        pdir = Path(kms_dir) / f"party-{j}"
        cls = Liar if j in liars else Party
        party = cls(dealer.load_party(pdir), cfg, acl, source, pdir, now=now)
        parties.append(party)
        r = web.AppRunner(party.app())
        await r.setup()
        await web.TCPSite(r, "127.0.0.1", cfg.ports[j - 1]).start()
        runners.append(r)
    return runners, parties


async def _stop(runners) -> None:
    for r in runners:
        await r.cleanup()


def _run(world, node, coro_fn, **kw):
    async def main():
        runners, parties = await _serve(world, node, **kw)
        try:
            return await coro_fn(launch.party_urls(world[1]), parties)
        finally:
            await _stop(runners)
    return asyncio.run(main())


# -- public decryption --------------------------------------------------------------------

def test_public_decryption_with_a_proof_the_verifier_accepts(world) -> None:
    _, cfg, _, handles, values, _ = world
    node = FakeNode()
    hs = [handles[1], handles[8], handles[160]]
    node.public.update(hs)
    got = _run(world, node, lambda urls, _: client.public_decrypt(urls, cfg, hs))
    assert got.values == [values[1], values[8], values[160]]
    assert got.decrypted_result == encode(["uint256"] * 3, got.values)
    # what KMSVerifier.verifyDecryptionEIP712KMSSignatures computes and checks
    digest = attest.decryption_digest(FhevmConfig(), hs, got.decrypted_result, b"\x00")
    n_sigs = got.proof[0]
    sigs = verifiers.split_signatures(got.proof, 1, n_sigs)
    signers = {to_checksum_address(verifiers.recover(digest, s)) for s in sigs}
    assert len(signers) == n_sigs >= cfg.t + 1 and signers <= set(cfg.signers)
    assert got.proof[1 + 65 * n_sigs:] == b"\x00"
    # a tampered cleartext does not verify against the same signatures
    forged = attest.decryption_digest(FhevmConfig(), hs, encode(["uint256"] * 3, [0, 0, 0]),
                                      b"\x00")
    assert not {to_checksum_address(verifiers.recover(forged, s)) for s in sigs} & set(
        cfg.signers)


def test_public_decryption_needs_the_acl(world) -> None:
    _, cfg, _, handles, _, _ = world
    node = FakeNode()
    node.public.add(handles[8])  # the other one is not publicly decryptable

    async def go(urls, _):
        body = {"handles": ["0x" + handles[8].hex(), "0x" + handles[64].hex()]}
        answers = await client.post_all(urls, "/v1/public-decrypt/share", body, 60)
        assert all(a is not None and a.get("status") == 403 for a in answers)
        with pytest.raises(client.KmsError):
            await client.public_decrypt(urls, cfg, [handles[8], handles[64]])

    _run(world, node, go)


def test_public_decryption_corrects_a_liar_and_survives_one_down(world) -> None:
    _, cfg, _, handles, values, _ = world
    node = FakeNode()
    node.public.add(handles[64])
    for kw in ({"liars": (2,)}, {"down": (3,)}):
        got = _run(world, node, lambda urls, _: client.public_decrypt(urls, cfg,
                                                                       [handles[64]]), **kw)
        assert got.values == [values[64]]


def test_public_decryption_refuses_two_liars(world) -> None:
    _, cfg, _, handles, _, _ = world
    node = FakeNode()
    node.public.add(handles[8])
    with pytest.raises(client.KmsError):
        _run(world, node, lambda urls, _: client.public_decrypt(urls, cfg, [handles[8]]),
             liars=(1, 4))


def test_repeated_request_reuses_the_recorded_answer(world) -> None:
    kms_dir, cfg, _, handles, _, _ = world
    node = FakeNode()
    node.public.add(handles[1])
    extra = secrets.token_bytes(8)

    async def go(urls, parties):
        first = await client.public_decrypt(urls, cfg, [handles[1]], extra)
        second = await client.public_decrypt(urls, cfg, [handles[1]], extra)
        return first, second

    first, second = _run(world, node, go)
    assert first.values == second.values
    session = Party.public_session([handles[1]], extra).hex()
    log = (Path(kms_dir) / "party-1" / "sessions.log").read_text().splitlines()
    assert sum(1 for line in log if line.startswith(session)) == 1


# -- user decryption ----------------------------------------------------------------------

def _allow(node: FakeNode, handle: bytes, *accounts: str) -> None:
    for a in accounts:
        node.allowed.add((handle, to_checksum_address(a)))


def test_user_decryption(world) -> None:
    _, cfg, _, handles, values, _ = world
    user = Account.create()
    node = FakeNode()
    hs = [handles[8], handles[64]]
    for h in hs:
        _allow(node, h, user.address, CONTRACT)
    req, sk = client.user_request(user.key, cfg, [(h, CONTRACT) for h in hs], [CONTRACT])
    got = _run(world, node, lambda urls, _: client.user_decrypt(urls, cfg, req, sk),
               liars=(3,))
    assert got == [values[8], values[64]]


def test_user_decryption_refusals(world) -> None:
    _, cfg, _, handles, _, _ = world
    user, other = Account.create(), Account.create()
    node = FakeNode()
    _allow(node, handles[8], user.address)  # the contract is not allowed
    _allow(node, handles[1], user.address, CONTRACT)

    async def go(urls, _):
        req, sk = client.user_request(user.key, cfg, [(handles[8], CONTRACT)], [CONTRACT])
        answers = await client.post_all(urls, "/v1/user-decrypt", req, 60)
        assert [a["status"] for a in answers] == [403] * 4
        # signed by someone else than userAddress
        req, sk = client.user_request(other.key, cfg, [(handles[1], CONTRACT)], [CONTRACT])
        req["userAddress"] = user.address
        answers = await client.post_all(urls, "/v1/user-decrypt", req, 60)
        assert [a["status"] for a in answers] == [403] * 4
        # outside the validity window
        req, sk = client.user_request(user.key, cfg, [(handles[1], CONTRACT)], [CONTRACT],
                                      start=int(time.time()) - 3 * 86400, days=1)
        with pytest.raises(client.KmsError):
            await client.user_decrypt(urls, cfg, req, sk)
        # a contract the user did not sign for
        req, sk = client.user_request(user.key, cfg, [(handles[1], CONTRACT)],
                                      ["0x" + "11" * 20])
        with pytest.raises(client.KmsError):
            await client.user_decrypt(urls, cfg, req, sk)

    _run(world, node, go)


def test_user_decryption_rejects_tampered_answers(world) -> None:
    _, cfg, _, handles, values, _ = world
    user = Account.create()
    node = FakeNode()
    _allow(node, handles[160], user.address, CONTRACT)

    async def go(urls, _):
        req, sk = client.user_request(user.key, cfg, [(handles[160], CONTRACT)], [CONTRACT])
        answers = await client.post_all(urls, "/v1/user-decrypt", req, 60)
        assert client.open_user_answers(cfg, req, sk, answers) == [values[160]]
        bad = [dict(a) for a in answers]
        sig = bytearray(bytes.fromhex(bad[0]["signature"][2:]))
        sig[5] ^= 1
        bad[0]["signature"] = "0x" + sig.hex()  # tampered signature: answer ignored
        assert client.open_user_answers(cfg, req, sk, bad) == [values[160]]
        sealed = bytearray(bytes.fromhex(bad[1]["userDecryptedShare"][2:]))
        sealed[-1] ^= 1
        bad[1]["userDecryptedShare"] = "0x" + sealed.hex()  # signature no longer matches
        assert client.open_user_answers(cfg, req, sk, bad) == [values[160]]  # 2 valid left
        with pytest.raises(client.KmsError):  # one valid answer cannot be decoded
            client.open_user_answers(cfg, req, sk, bad[:2] + bad[3:])
        other_sk, _ = client.new_keypair()  # shares sealed to the user's key only
        with pytest.raises(client.KmsError):
            client.open_user_answers(cfg, req, other_sk, answers)

    _run(world, node, go)


def test_delegated_user_decryption(world) -> None:
    _, cfg, _, handles, values, _ = world
    owner, delegate = Account.create(), Account.create()
    node = FakeNode()
    _allow(node, handles[8], owner.address, CONTRACT)
    req, sk = client.user_request(delegate.key, cfg, [(handles[8], CONTRACT)], [CONTRACT],
                                  delegator=owner.address)
    with pytest.raises(client.KmsError):
        _run(world, node, lambda urls, _: client.user_decrypt(urls, cfg, req, sk))
    node.delegations.add((owner.address, delegate.address, CONTRACT))
    got = _run(world, node, lambda urls, _: client.user_decrypt(urls, cfg, req, sk))
    assert got == [values[8]]


def test_start_parties_runs_one_process_per_party(world, tmp_path) -> None:
    kms_dir, cfg, *_ = world
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "kms").symlink_to(kms_dir)
    procs = launch.start_parties(data_dir, "http://127.0.0.1:1/", wait=120)
    try:
        assert len(procs) == cfg.n and len({p.pid for p in procs}) == cfg.n
        import urllib.request
        for j, url in enumerate(launch.party_urls(cfg), 1):
            with urllib.request.urlopen(url + "/health", timeout=5) as r:
                info = json.loads(r.read())
            assert info == {"index": j, "address": cfg.signers[j - 1]}
    finally:
        launch.stop_parties(procs)
    assert all(p.poll() is not None for p in procs)
    assert to_canonical_address(cfg.signers[0])


def test_peers_ignore_shares_with_a_bad_signature(world) -> None:
    _, cfg, _, handles, values, _ = world
    node = FakeNode()
    node.public.add(handles[8])
    extra = secrets.token_bytes(4)

    async def go(urls, parties):
        body = {"handles": ["0x" + handles[8].hex()], "extraData": "0x" + extra.hex()}
        shares = await client.post_all(urls, "/v1/public-decrypt/share", body, 60)
        session = Party.public_session([handles[8]], extra)
        assert sorted(parties[0].verified_shares(session, shares)) == [1, 2, 3, 4]
        forged = [dict(s) for s in shares]
        forged[1]["shares"] = [[hex(secrets.randbelow(F.P)) for _ in row]
                               for row in forged[1]["shares"]]  # signature no longer matches
        forged[2]["index"] = 4  # party 3's share passed off as party 4's
        assert sorted(parties[0].verified_shares(session, forged)) == [1, 4]
        no_session = {k: v for k, v in shares[3].items() if k != "session"}
        assert sorted(parties[0].verified_shares(session, [*shares[:3], no_session, 7])) == [
            1, 2, 3]  # malformed responses are skipped, not a server error
        signed = await client.post_all(urls, "/v1/public-decrypt/sign",
                                        {**body, "responses": forged}, 60)
        assert {int(a["values"][0]) for a in signed} == {values[8]}

    _run(world, node, go)
