"""fhevm.client without a node: request format and signature against node.kms, opening and
combining sealed answers (Reed-Solomon), tampering, typed values, input builders."""

from __future__ import annotations

import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from eth_account import Account
from eth_utils import to_checksum_address

from fhevm.client import DecryptionError, InputRejected, KmsInfo, WrongChain
from fhevm.client import kms as ckms
from fhevm.client.client import (
    _Builder,
    decryption_pairs,
    parse_input_result,
    parse_node_info,
    parse_public_result,
)
from fhevm.client.opening import DELTA_LOG2
from fhevm.client.sealing import encrypt_share
from fhevm.client.values import typed_for
from fhevm.types import FheType
from node.kms import messages, shamir

N, T = 4, 1
PARTY_KEYS = [Account.create() for _ in range(N)]
INFO = KmsInfo(chain_id=31337, signers=tuple(a.address for a in PARTY_KEYS), threshold=T,
               parties=N)
CONTRACT = to_checksum_address("0x" + "ab" * 20)


def handle(code: int, chain: int = 31337, index: int = 0xFF) -> bytes:
    return secrets.token_bytes(21) + bytes([index]) + chain.to_bytes(8, "big") + bytes([code, 0])


def groups_for(bits: int) -> list[list[int]]:
    blocks = max(1, (bits + 1) // 2)
    return [list(range(i, min(i + 2, blocks))) for i in range(0, blocks, 2)]


def answers_for(body: dict, values: list[int], lie: dict[int, int] | None = None) -> list[dict]:
    """The n parties' answers in node.kms.party's format (noiseless openings m * 2^124)."""
    handles = [bytes.fromhex(p["handle"][2:]) for p in body["handleContractPairs"]]
    groups = [groups_for(FheType(h[30]).bits) for h in handles]
    shares = []
    for v, gs in zip(values, groups, strict=True):
        row = []
        for g in gs:
            m = (v >> (2 * g[0])) & 3
            if len(g) == 2:
                m |= ((v >> (2 * g[1])) & 3) << 2
            row.append(shamir.share(m << DELTA_LOG2, N, T))
        shares.append(row)
    out = []
    for j in range(1, N + 1):
        rows = [[hex(s[j - 1] + (lie or {}).get(j, 0)) for s in row] for row in shares]
        out.append(sealed_answer(body, j, {"groups": groups, "shares": rows}))
    return out


def sealed_answer(body: dict, j: int, fields: dict) -> dict:
    """Party j's signed answer carrying `fields` (plus its index and the session)."""
    handles = [bytes.fromhex(p["handle"][2:]) for p in body["handleContractPairs"]]
    pk = bytes.fromhex(body["publicKey"][2:])
    session = messages.user_session(bytes.fromhex(body["signature"][2:]), handles)
    payload = json.dumps({"index": j, "session": "0x" + session.hex(), **fields}).encode()
    sealed = encrypt_share(X25519PublicKey.from_public_bytes(pk), payload,
                           session + j.to_bytes(4, "big"))
    domain = messages.decryption_domain(INFO.gateway_chain_id, INFO.decryption_contract)
    digest = messages.user_response_digest(domain, pk, handles, sealed,
                                           bytes.fromhex(body["extraData"][2:]))
    return {"index": j, "userDecryptedShare": "0x" + sealed.hex(),
            "signature": "0x" + messages.sign_digest(digest, PARTY_KEYS[j - 1].key).hex()}


def signed_request(user, pairs):
    req = ckms.build_user_request(INFO, pairs, user.address)
    sig = user.sign_typed_data(full_message=req.typed_data()).signature
    return req, req.signed(bytes(sig))


VALUES = {0: 1, 2: 0xAB, 3: 0xBEEF, 4: 2**32 - 1, 5: 2**64 - 2, 6: 2**127 + 5,
          7: int("5015" * 10, 16), 8: 2**256 - 3}


def test_request_signature_is_what_the_parties_check():
    user = Account.create()
    req, body = signed_request(user, [(handle(5), CONTRACT)])
    domain = messages.decryption_domain(INFO.chain_id, INFO.decryption_contract)
    digest = messages.user_request_digest(domain, bytes.fromhex(body["publicKey"][2:]),
                                          body["contractAddresses"], body["startTimestamp"],
                                          body["durationDays"],
                                          bytes.fromhex(body["extraData"][2:]))
    assert messages.recover(digest, bytes.fromhex(body["signature"][2:])) == user.address
    assert body["userAddress"] == user.address and body["contractAddresses"] == [CONTRACT]


def test_open_and_combine_every_type():
    user = Account.create()
    pairs = [(handle(code), CONTRACT) for code in VALUES]
    req, body = signed_request(user, pairs)
    got = ckms.open_user_answers(INFO, body, req.secret, answers_for(body, list(VALUES.values())))
    assert got == list(VALUES.values())
    typed = [typed_for(h, v) for (h, _), v in zip(pairs, got, strict=True)]
    assert typed[0] is True and typed[6] == to_checksum_address("0x" + "5015" * 10)


def test_one_lying_party_is_corrected_two_are_refused():
    user = Account.create()
    req, body = signed_request(user, [(handle(5), CONTRACT)])
    v = [123456789]
    assert ckms.open_user_answers(INFO, body, req.secret, answers_for(body, v, {2: 1 << 124})) == v
    with pytest.raises(DecryptionError):
        ckms.open_user_answers(INFO, body, req.secret,
                               answers_for(body, v, {2: 1 << 124, 3: 7 << 124}))


def test_no_party_dictates_cleartexts_or_block_groups():
    """A validly signed answer with cleartexts instead of shares, or t + 1 agreeing on
    malformed block groups, gives a DecryptionError, never a value."""
    user = Account.create()
    req, body = signed_request(user, [(handle(5), CONTRACT)])
    answers = answers_for(body, [42])
    liar = sealed_answer(body, 1, {"values": ["0x7"]})
    with pytest.raises(DecryptionError):
        ckms.open_user_answers(INFO, body, req.secret, [liar])
    assert ckms.open_user_answers(INFO, body, req.secret, [liar, *answers[1:]]) == [42]
    rows = [[hex(1)] * 3]
    bad = [sealed_answer(body, j, {"groups": [[[0, 1, 2]]], "shares": rows}) for j in (1, 2)]
    with pytest.raises(DecryptionError, match="malformed block groups"):
        ckms.open_user_answers(INFO, body, req.secret, bad)


def test_tampered_signature_or_share_is_ignored():
    user = Account.create()
    req, body = signed_request(user, [(handle(4), CONTRACT)])
    answers = answers_for(body, [77])
    bad_sig = dict(answers[0], signature=answers[1]["signature"])
    sealed = bytearray(bytes.fromhex(answers[1]["userDecryptedShare"][2:]))
    sealed[-1] ^= 1
    bad_share = dict(answers[1], userDecryptedShare="0x" + sealed.hex())
    # two answers dropped: t + 1 = 2 good ones remain
    assert ckms.open_user_answers(INFO, body, req.secret,
                                  [bad_sig, bad_share, *answers[2:]]) == [77]
    with pytest.raises(DecryptionError, match="agree|no valid"):
        ckms.open_user_answers(INFO, body, req.secret, [bad_sig, bad_share, answers[2]])
    # a share sealed to someone else's key does not open
    other, _ = signed_request(user, [(handle(4), CONTRACT)])
    with pytest.raises(DecryptionError):
        ckms.open_user_answers(INFO, body, other.secret, answers)


def test_node_info_and_results():
    info = parse_node_info({"chainId": 31337, "backend": "clear", "maxInputBits": 2048,
                            "kms": {"parties": ["u"] * N, "n": N, "t": T, "threshold": T + 1,
                                    "signers": list(INFO.signers)},
                            "gateway": {"chainId": 10901}})
    assert info.kms.signers == INFO.signers and info.kms.gateway_chain_id == 10901
    with pytest.raises(WrongChain):
        decryption_pairs(info, [(handle(5, chain=1), CONTRACT)])
    items = [(FheType.Uint64, 5)]
    h = handle(5, index=0)
    ok = {"handles": ["0x" + h.hex()], "inputProof": "0x" + (bytes([1, 0]) + h).hex()}
    assert parse_input_result(info, items, ok, CONTRACT, CONTRACT).handles == [h]
    with pytest.raises(InputRejected):  # wrong type in the handle
        parse_input_result(info, [(FheType.Uint8, 5)], ok, CONTRACT, CONTRACT)
    # public decryption: proof signed by a KMS signer passes, by anyone else fails
    hs = [handle(0), handle(5)]
    clear = messages.encode_cleartexts([1, 99])
    digest = ckms.public_decrypt_digest(info.kms, hs, clear, b"\x00")
    good = bytes([1]) + messages.sign_digest(digest, PARTY_KEYS[0].key) + b"\x00"
    res = parse_public_result(info, hs, {"cleartexts": "0x" + clear.hex(),
                                         "decryptionProof": "0x" + good.hex()})
    assert res.values == [True, 99] and res.proof == good
    bad = bytes([1]) + messages.sign_digest(digest, Account.create().key) + b"\x00"
    with pytest.raises(DecryptionError):
        parse_public_result(info, hs, {"cleartexts": "0x" + clear.hex(),
                                       "decryptionProof": "0x" + bad.hex()})


def test_without_known_signers_no_answer_is_accepted():
    """A node that names no KMS signers gets no trust: correctly sealed shares and a public
    result are refused, since nothing proves the parties produced them."""
    from dataclasses import replace

    user = Account.create()
    req, body = signed_request(user, [(handle(5), CONTRACT)])
    unsigned = replace(INFO, signers=())
    with pytest.raises(DecryptionError, match="no KMS signers"):
        ckms.open_user_answers(unsigned, body, req.secret, answers_for(body, [42]))
    info = parse_node_info({"chainId": 31337, "kms": {"n": N, "t": T}})
    hs = [handle(5)]
    clear = messages.encode_cleartexts([99])
    with pytest.raises(DecryptionError, match="no KMS signers"):
        parse_public_result(info, hs, {"cleartexts": "0x" + clear.hex(),
                                       "decryptionProof": "0x00"})


def test_builder_checks_values_and_size():
    b = _Builder(CONTRACT, CONTRACT, 2048)
    b.add_bool(True).add8(255).add_address("0x" + "11" * 20).add256(2**256 - 1)
    assert b.total_bits == 2 + 8 + 160 + 256
    with pytest.raises(InputRejected, match="out of range"):
        b.add8(256)
    with pytest.raises(InputRejected):
        b.add_address("0x1234")
    with pytest.raises(InputRejected, match="2048 bits"):
        for _ in range(7):
            b.add256(0)


def test_input_proof_signatures_checked_client_side():
    from eth_keys import keys as eth_keys

    from fhevm import attest
    from fhevm.config import FhevmConfig

    signer = eth_keys.PrivateKey(secrets.token_bytes(32))
    info = parse_node_info({"chainId": 31337, "backend": "clear",
                            "inputSigners": [signer.public_key.to_checksum_address()]})
    user = bytes.fromhex(CONTRACT[2:])
    hs = [handle(5, index=0), handle(0, index=1)]
    items = [(FheType.Uint64, 1), (FheType.Bool, 0)]
    proof = attest.input_proof(FhevmConfig(), hs, user, user, 31337, [signer])
    result = {"handles": ["0x" + h.hex() for h in hs], "inputProof": "0x" + proof.hex()}
    assert parse_input_result(info, items, result, CONTRACT, CONTRACT).input_proof == proof
    other = to_checksum_address("0x" + "cd" * 20)
    with pytest.raises(InputRejected, match="not an input signer"):  # bound to someone else
        parse_input_result(info, items, result, other, CONTRACT)
    forged = attest.input_proof(FhevmConfig(), hs, user, user, 31337,
                                [eth_keys.PrivateKey(secrets.token_bytes(32))])
    with pytest.raises(InputRejected, match="not an input signer"):
        parse_input_result(info, items, {**result, "inputProof": "0x" + forged.hex()},
                           CONTRACT, CONTRACT)


def test_plugin_is_registered(request):
    assert request.config.pluginmanager.hasplugin("fhevm")
    assert request.config.getoption("--fhevm-backend") in ("clear", "tfhe")


class FakeTfheNode:
    """A provider answering the fhevm_* methods the way a tfhe node does: the public key,
    and uploads that it decrypts (with the compact private key) and attests."""

    def __init__(self):
        from eth_keys import keys as eth_keys

        from tfhe.integer.compact_list import generate_compact_keys
        from tfhe.keys import ClientKey
        from tfhe.params import PARAMETER_SETS_BY_NAME

        ck = ClientKey.generate(PARAMETER_SETS_BY_NAME["INSECURE_TEST_PARAMS"])
        self.priv, self.pk, _ = generate_compact_keys(ck)
        self.signer = eth_keys.PrivateKey(secrets.token_bytes(32))
        self.uploaded: list[list[int]] = []

    def make_request(self, method, params):
        from fhevm import attest, handles
        from fhevm.config import FhevmConfig
        from tfhe.integer.compact_list import CompactCiphertextList

        if method == "fhevm_nodeInfo":
            return {"result": {"chainId": 31337, "backend": "tfhe", "maxInputBits": 2048,
                               "inputSigners": [self.signer.public_key.to_checksum_address()],
                               "kms": None, "gateway": None}}
        if method == "fhevm_getPublicKey":
            return {"result": "0x" + self.pk.to_bytes().hex()}
        if method == "fhevm_uploadInputs":
            req = params[0]
            lst = CompactCiphertextList.from_bytes(bytes.fromhex(req["ciphertext"][2:]),
                                                   public_key=self.pk)
            self.uploaded.append(self.priv.decrypt(lst))
            hs = [handles.input_handle(b"\x01" * 32, i, 31337, FheType(c))
                  for i, c in enumerate(lst.types)]
            user = bytes.fromhex(req["userAddress"][2:])
            contract = bytes.fromhex(req["contractAddress"][2:])
            proof = attest.input_proof(FhevmConfig(), hs, user, contract, 31337, [self.signer])
            return {"result": {"handles": ["0x" + h.hex() for h in hs],
                               "inputProof": "0x" + proof.hex()}}
        return {"error": {"code": -32601, "message": f"method {method} not found"}}


class FakeW3:
    def __init__(self, provider):
        self.provider = provider


def test_tfhe_inputs_are_compact_lists_under_the_node_key():
    from fhevm.client import AsyncFhevmClient, FhevmClient

    node = FakeTfheNode()
    client = FhevmClient(FakeW3(node))
    assert client.backend == "tfhe"
    user = Account.create().address
    enc = (client.create_input(CONTRACT, user).add_bool(True).add8(200)
           .add_address(CONTRACT).add256(2**255).encrypt())
    assert [h[30] for h in enc.handles] == [0, 2, 7, 8]
    assert node.uploaded[-1] == [1, 200, int(CONTRACT, 16), 2**255]

    class AsyncProvider:
        async def make_request(self, method, params):
            return node.make_request(method, params)

    async def main():
        c = await AsyncFhevmClient.connect(FakeW3(AsyncProvider()))
        b = await c.create_input(CONTRACT, user)
        return await b.add64(7).add16(9).encrypt()

    import asyncio

    enc = asyncio.run(main())
    assert len(enc.handles) == 2 and node.uploaded[-1] == [7, 9]
