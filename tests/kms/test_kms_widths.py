"""Every width through both flows with real squashing, on INSECURE_ test parameters (fast,
not secure): engine keygen -> a contract computes on chain (real TFHE) -> the node side
squashes every block once (node.kms.squasher, INSECURE_SQUASH_TEST_PARAMS) -> 4 parties
over HTTP -> threshold public decryption (checked on chain) and user decryption.

The DEFAULT sample with real squashing is test_kms_chain.py (and test_kms_default.py).
~40 s on 2 shared cores (the squash of ~170 LWEs is most of it)."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path

import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import to_canonical_address

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fhevm.types import ARITH, FheType  # noqa: E402
from node.kms import client, dealer  # noqa: E402
from node.kms.params import INSECURE_SQUASH_TEST_PARAMS  # noqa: E402
from tests.fhevm.harness import ACL, KMS, Devnet, call_data, tfhe_test_backend  # noqa: E402
from tests.kms.fake_node import squasher_for, with_parties  # noqa: E402

VERIFY = "verifyDecryptionEIP712KMSSignatures(bytes32[],bytes,bytes)"
TYPES = [FheType.Bool, FheType.Uint8, FheType.Uint16, FheType.Uint32, FheType.Uint64,
         FheType.Uint128, FheType.Uint160, FheType.Uint256]
RAND = ARITH | {FheType.Bool, FheType.Uint256}


@pytest.fixture(scope="module")
def insecure_kms(tmp_path_factory):
    backend = tfhe_test_backend()
    net = Devnet(backend)
    ck, sk = backend.client.key, backend.server.shortint.key  # engine keys (ClientKey, ServerKey)
    kms_dir = tmp_path_factory.mktemp("kms-insecure")
    p = ck.params
    cfg = dealer.deal(kms_dir, ck.lwe_key, sk.ksk, p.ks_base_log,
                      p.ks_level, 4, 1, base_port=0,
                      squash_params="INSECURE_SQUASH_TEST_PARAMS")
    out = net.send(KMS, call_data("defineNewContext(address[],uint256)",
                                  [to_canonical_address(a) for a in cfg.signers], 2),
                   sender=net.owner_key)
    assert out.success, out.reason
    return net, kms_dir, cfg


def _value(net: Devnet, t: FheType) -> bytes:
    if t in RAND:
        return net.handle("fheRand(uint8)", int(t))
    return net.trivial(secrets.randbits(160), t)


def _computed(net: Devnet, cond: bytes, t: FheType) -> bytes:
    """select(cond, a + b, b) for arithmetic types, select(cond, a, b) otherwise."""
    a, b = _value(net, t), _value(net, t)
    if t in ARITH:
        a = net.handle("fheAdd(bytes32,bytes32,bytes1)", a, b, b"\x00")
    return net.handle("fheIfThenElse(bytes32,bytes32,bytes32)", cond, a, b)


def test_every_width_public_and_user_decryption(insecure_kms) -> None:
    net, kms_dir, cfg = insecure_kms
    assert cfg.squash_params == "INSECURE_SQUASH_TEST_PARAMS"
    cond = net.handle("fheRand(uint8)", int(FheType.Bool))
    handles = [_computed(net, cond, t) for t in TYPES]
    truth = [net.rt.decrypt(h) for h in handles]
    user = Account.create()
    for data in [call_data("allowForDecryption(bytes32[])", handles)] + [
            call_data("allow(bytes32,address)", h, to_canonical_address(user.address))
            for h in handles]:
        out = net.send(net.probe, call_data("exec(address,bytes)", ACL, data))
        assert out.success, out.reason
    probe = "0x" + net.probe.hex()
    squasher = squasher_for(net, kms_dir, cfg)
    calls: list[str] = []

    async def go(urls):
        pub = await client.public_decrypt(urls, cfg, handles)
        req, sk = client.user_request(user.key, cfg, [(h, probe) for h in handles], [probe])
        mine = await client.user_decrypt(urls, cfg, req, sk)
        return pub, mine

    pub, mine = asyncio.run(with_parties(net, kms_dir, cfg, squasher, go, calls))
    assert pub.values == truth
    assert mine == truth
    # 4 parties x 2 flows asked; the node squashed each handle once, in batches of <= 256
    # blocks (335 blocks here: two batched calls)
    assert calls.count("fhevm_getSquashedCiphertext") >= 8
    assert squasher.squash_calls == 2
    _, key = squasher.keys()
    assert key.params == INSECURE_SQUASH_TEST_PARAMS
    out = net.call(KMS, call_data(VERIFY, handles, pub.decrypted_result, pub.proof))
    assert out.success and decode(["bool"], out.output) == (True,)
