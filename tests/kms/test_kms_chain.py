"""End to end on DEFAULT: an in-memory fhEVM chain (tests.fhevm.harness) whose KMS verifier
knows the dealt party addresses; the node side squashes each ciphertext once
(node.kms.squasher), the parties read the chain's ACL through eth_call, fetch the squashed
LWEs and decrypt; the proof passes verifyDecryptionEIP712KMSSignatures."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import to_canonical_address

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fhevm.backends.tfhe import TfheBackend  # noqa: E402
from fhevm.types import FheType  # noqa: E402
from node.kms import client, dealer, launch  # noqa: E402
from tests.fhevm.harness import ACL, KMS, Devnet, call_data  # noqa: E402
from tests.kms.fake_node import squasher_for, with_parties  # noqa: E402
from tfhe import DEFAULT  # noqa: E402

VERIFY = "verifyDecryptionEIP712KMSSignatures(bytes32[],bytes,bytes)"


@pytest.fixture(scope="module")
def chain(default_keys, squash_pair, tmp_path_factory):
    ck, sk = default_keys
    sec, key = squash_pair
    net = Devnet(TfheBackend(sk, ck))
    kms_dir = tmp_path_factory.mktemp("kms-chain")
    cfg = dealer.deal_shares(kms_dir, sec.lwe_key, 4, 1, DEFAULT.ks_base_log, DEFAULT.ks_level,
                             base_port=0)
    out = net.send(KMS, call_data("defineNewContext(address[],uint256)",
                                  [to_canonical_address(a) for a in cfg.signers], 2),
                   sender=net.owner_key)
    assert out.success, out.reason
    return net, kms_dir, cfg, squasher_for(net, kms_dir, cfg, (sk.ksk, key))


def test_public_and_user_decryption_on_chain(chain) -> None:
    net, kms_dir, cfg, squasher = chain
    h_pub = net.handle("fheRand(uint8)", int(FheType.Uint8))
    h_user = net.handle("fheRand(uint8)", int(FheType.Bool))
    h_secret = net.handle("trivialEncrypt(uint256,uint8)", 1, int(FheType.Bool))
    user = Account.create()
    for data in (call_data("allowForDecryption(bytes32[])", [h_pub]),
                 call_data("allow(bytes32,address)", h_user, to_canonical_address(user.address))):
        out = net.send(net.probe, call_data("exec(address,bytes)", ACL, data))
        assert out.success, out.reason
    probe = "0x" + net.probe.hex()

    async def go(urls):
        pub = await client.public_decrypt(urls, cfg, [h_pub])
        with pytest.raises(client.KmsError):  # not marked publicly decryptable
            await client.public_decrypt(urls, cfg, [h_user])
        req, sk = client.user_request(user.key, cfg, [(h_user, probe)], [probe])
        mine = await client.user_decrypt(urls, cfg, req, sk)
        req, sk = client.user_request(user.key, cfg, [(h_secret, probe)], [probe])
        with pytest.raises(client.KmsError):  # the user is not allowed on this one
            await client.user_decrypt(urls, cfg, req, sk)
        return pub, mine

    pub, mine = asyncio.run(with_parties(net, kms_dir, cfg, squasher, go))
    assert squasher.squash_calls == 2  # once per handle decrypted, not once per party
    assert pub.values == [net.rt.decrypt(h_pub)]
    assert mine == [net.rt.decrypt(h_user)]
    out = net.call(KMS, call_data(VERIFY, [h_pub], pub.decrypted_result, pub.proof))
    assert out.success and decode(["bool"], out.output) == (True,)
    forged = (pub.values[0] ^ 1).to_bytes(32, "big")
    out = net.call(KMS, call_data(VERIFY, [h_pub], forged, pub.proof))
    assert not out.success and "KMSInvalidSigner" in out.reason
    assert launch.party_urls(cfg)  # ports 0..3 here: parties bound to ephemeral ports


def test_public_handles_are_squashed_when_their_block_is_mined(chain) -> None:
    """node.kms.presquash: the handles of a block's AllowedForDecryption events (and only
    those) are squashed in the background, so a later public decryption finds them ready."""
    import threading
    from types import SimpleNamespace

    from node.kms.presquash import Presquasher, public_handles

    net, _, _, squasher = chain
    h_pub = net.handle("fheRand(uint8)", int(FheType.Uint16))
    h_other = net.handle("fheRand(uint8)", int(FheType.Uint8))
    out = net.send(net.probe, call_data("exec(address,bytes)", ACL,
                                        call_data("allowForDecryption(bytes32[])", [h_pub])))
    assert out.success, out.reason
    assert public_handles(out.logs) == [h_pub]
    calls = squasher.squash_calls
    block = SimpleNamespace(txs=[SimpleNamespace(logs=out.logs)])

    async def go() -> None:
        pre = Presquasher(lambda: squasher, asyncio.get_running_loop())
        writer = threading.Thread(target=pre.on_block, args=(block,))  # as the writer thread
        writer.start()
        writer.join()
        for _ in range(600):
            if squasher.cached(h_pub) is not None:
                return
            await asyncio.sleep(0.1)

    asyncio.run(go())
    assert squasher.cached(h_pub) is not None and squasher.cached(h_other) is None
    assert squasher.squash_calls == calls + 1
