"""Issue 8's CI check, on real TFHE with DEFAULT (128-bit) parameters and the threshold KMS:
one confidential transfer of ConfidentialToken, then each holder decrypts their own balance
through a KMS user decryption (EIP-712 signed request to 4 parties, t = 1, each checking
the chain's ACL) and cannot decrypt the other's.

Keys are tests/kms's (DEFAULT engine keys and the squash key, cached under .cache/);
the parties run in-process over HTTP against the in-memory chain, as in
tests/kms/test_kms_chain.py."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.slow

aiohttp_web = pytest.importorskip("aiohttp.web")

from eth_utils import to_canonical_address, to_checksum_address  # noqa: E402

from fhevm.backends.tfhe import TfheBackend  # noqa: E402
from fhevm.types import FheType  # noqa: E402
from tests.apps.chain import AppChain  # noqa: E402
from tests.fhevm.harness import KMS, Devnet, call_data  # noqa: E402

TRANSFER = "confidentialTransfer(address,bytes32,bytes)"


@pytest.fixture(scope="module")
def kms_chain(tmp_path_factory):
    try:
        from node.kms import dealer
        from tests.kms.conftest import engine_keys, squash_keys
        from tfhe import DEFAULT
    except ImportError as exc:  # pragma: no cover - the KMS belongs to node/kms
        pytest.skip(f"threshold KMS unavailable: {exc}")
    ck, sk = engine_keys()
    sec, squash_key = squash_keys(ck)
    chain = AppChain.__new__(AppChain)
    chain.net = Devnet(TfheBackend(sk, ck))
    chain.alice, chain.bob, chain.carol = chain.net.alice, chain.net.bob, chain.net.owner_key
    kms_dir = tmp_path_factory.mktemp("apps-kms")
    cfg = dealer.deal_shares(kms_dir, sec.lwe_key, 4, 1, DEFAULT.ks_base_log, DEFAULT.ks_level,
                             base_port=0)
    out = chain.net.send(KMS, call_data("defineNewContext(address[],uint256)",
                                        [to_canonical_address(a) for a in cfg.signers], 2),
                         sender=chain.net.owner_key)
    assert out.success, out.reason
    return chain, kms_dir, cfg, (sk.ksk, squash_key)


def _rpc_app(net: Devnet):
    """The two JSON-RPC methods the parties use: eth_call (ACL) and fhevm_getCiphertext."""
    web = aiohttp_web

    async def rpc(request):
        body = await request.json()
        method, params = body["method"], body["params"]
        if method == "eth_call":
            out = net.call(bytes.fromhex(params[0]["to"][2:]),
                           bytes.fromhex(params[0]["data"][2:]))
            result = {"result": "0x" + out.output.hex()} if out.success else {
                "error": {"code": 3, "message": out.reason}}
        elif method == "fhevm_getCiphertext":
            blob = net.rt.store.get(bytes.fromhex(params[0][2:]))
            result = {"result": None if blob is None else "0x" + blob.hex()}
        else:
            result = {"error": {"code": -32601, "message": method}}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], **result})

    app = web.Application(client_max_size=2**26)
    app.router.add_post("/", rpc)
    return app


async def _serve(app, runners: list) -> str:
    runner = aiohttp_web.AppRunner(app)
    await runner.setup()
    site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    runners.append(runner)
    return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def _with_parties(net, kms_dir, cfg, keys, fn, squash_first=()):
    """Run the 4 parties (sharing one ciphertext source) around `fn(urls)`. The handles of
    `squash_first` are squashed once up front: parties asked at the same time about a handle
    not yet squashed would each squash it (RpcSource caches only finished results)."""
    from node.kms import dealer
    from node.kms.acl import AclClient, JsonRpc
    from node.kms.party import Party, RpcSource

    runners: list = []
    try:
        rpc = JsonRpc(await _serve(_rpc_app(net), runners) + "/")
        source = RpcSource(rpc, kms_dir / "public", cfg, keys)  # shared: one squash each
        urls = []
        for j in range(1, cfg.n + 1):
            pdir = kms_dir / f"party-{j}"
            party = Party(dealer.load_party(pdir), cfg, AclClient(rpc), source, pdir)
            urls.append(await _serve(party.app(), runners))
        for handle in squash_first:
            await source.squashed(handle)
        return await fn(urls)
    finally:
        for r in runners:
            await r.cleanup()


def test_transfer_and_user_decryption_default_kms(kms_chain):
    from node.kms import client

    chain, kms_dir, cfg, keys = kms_chain
    alice, bob = chain.alice, chain.bob
    token = chain.deploy("ConfidentialToken", "(string,string,string)", "T", "T", "")
    chain.ok(token, "mint(address,uint64)", chain.addr(alice), 1000)
    handle, proof = chain.encrypt(300, FheType.Uint64, alice, token)
    chain.ok(token, TRANSFER, chain.addr(bob), handle, proof)
    balances = {who: chain.view(token, "confidentialBalanceOf(address)", chain.addr(who))
                for who in (alice, bob)}
    contract = to_checksum_address(token)

    async def decrypt_as(urls, who, handle):
        request, secret = client.user_request(who.to_bytes(), cfg, [(handle, contract)],
                                              [contract])
        return await client.user_decrypt(urls, cfg, request, secret)

    async def go(urls):
        mine = [await decrypt_as(urls, who, balances[who]) for who in (alice, bob)]
        with pytest.raises(client.KmsError):  # bob may not read alice's balance
            await decrypt_as(urls, bob, balances[alice])
        return mine

    mine = asyncio.run(_with_parties(chain.net, kms_dir, cfg, keys, go,
                                     squash_first=list(balances.values())))
    assert mine == [[700], [300]]
