"""fhEVM RPC of a clear-backend node: inputs, public and user decryption (mock KMS).

One `fhevm-node start --backend clear` process: inputs uploaded with fhevm_uploadInputs
are accepted by a deployed contract through FHE.fromExternal (FHETestACL.addInputs),
public decryptions pass FHE.checkSignatures on chain, user decryptions open with the
same client code as the real KMS's answers, and the ACL refuses what it should.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak
from nodetest_util import NodeProcess, rpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
pytest.importorskip("fhevm.runtime")
artifacts = pytest.importorskip("contracts.artifacts")

from node.decryption import kms_config  # noqa: E402
from node.kms import client as kms_client  # noqa: E402

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV0_KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
DEV1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DEV1_KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
EUINT64 = 5


def call_data(sig: str, *args: object) -> str:
    types = [t for t in sig[sig.index("(") + 1:-1].split(",") if t]
    return "0x" + (selector(sig) + encode(types, list(args))).hex()


def ok(url: str, method: str, params: list) -> object:
    reply = rpc(url, method, params, timeout=120)
    assert "error" not in reply, reply
    return reply["result"]


def err(url: str, method: str, params: list) -> dict:
    reply = rpc(url, method, params, timeout=120)
    assert "error" in reply, reply
    return reply["error"]


def send(url: str, to: str | None, data: str, sender: str = DEV0) -> dict:
    h = ok(url, "eth_sendTransaction", [{"from": sender, "to": to, "data": data,
                                         "gas": hex(10_000_000)}])
    return ok(url, "eth_getTransactionReceipt", [h])


def mined(url: str, to: str | None, data: str, sender: str = DEV0) -> dict:
    receipt = send(url, to, data, sender)
    assert receipt["status"] == "0x1", receipt
    return receipt


def view(url: str, contract: str, data: str) -> bytes:
    return bytes.fromhex(ok(url, "eth_call", [{"to": contract, "data": data}, "latest"])[2:])


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):
    n = NodeProcess(tmp_path_factory.mktemp("fhevm-rpc") / "data")
    yield n
    n.stop()


@pytest.fixture(scope="module")
def acl_test(node: NodeProcess) -> str:
    code = "0x" + artifacts.load_bytecode("FHETestACL").hex()
    return mined(node.url, None, code)["contractAddress"]


def upload(url: str, contract: str, values: list[int], user: str = DEV0) -> tuple[list, bytes]:
    out = ok(url, "fhevm_uploadInputs", [{
        "userAddress": user, "contractAddress": contract,
        "values": [{"type": EUINT64, "value": hex(v)} for v in values]}])
    return [bytes.fromhex(h[2:]) for h in out["handles"]], bytes.fromhex(out["inputProof"][2:])


@pytest.fixture(scope="module")
def sum_handle(node: NodeProcess, acl_test: str) -> bytes:
    """FHETestACL.addInputs(20, 22) from uploaded inputs: DEV0 and the contract may use it."""
    (a, b), proof = upload(node.url, acl_test, [20, 22])
    mined(node.url, acl_test, call_data("addInputs(bytes32,bytes32,bytes)", a, b, proof))
    return view(node.url, acl_test, call_data("lastResult()"))


def test_node_info(node: NodeProcess) -> None:
    info = ok(node.url, "fhevm_nodeInfo", [])
    assert info["chainId"] == 31337 and info["backend"] == "clear"
    assert info["acl"] == "0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D"
    assert info["maxInputBits"] == 2048
    kms = info["kms"]
    assert kms["mock"] and kms["parties"] == [] and kms["threshold"] == 2
    assert len(kms["signers"]) == 4 and len(set(kms["signers"])) == 4
    assert info["gateway"]["chainId"] == 10901
    assert ok(node.url, "fhevm_getPublicKey", []) is None


def test_inputs_accepted_by_contract(node: NodeProcess, acl_test: str, sum_handle: bytes) -> None:
    assert sum_handle[30] == EUINT64 and sum_handle[21] == 0xFF
    # the ciphertexts are served to the KMS parties
    (a, _), _ = upload(node.url, acl_test, [7, 8])
    assert ok(node.url, "fhevm_getCiphertext", ["0x" + a.hex()]).startswith("0x")


def test_input_proof_is_bound_to_user_and_contract(node: NodeProcess, acl_test: str) -> None:
    (a, b), proof = upload(node.url, acl_test, [1, 2])
    data = call_data("addInputs(bytes32,bytes32,bytes)", a, b, proof)
    assert send(node.url, acl_test, data, sender=DEV1)["status"] == "0x0"  # not DEV1's
    (c, d), other = upload(node.url, DEV1, [1, 2])  # signed for another contract
    data = call_data("addInputs(bytes32,bytes32,bytes)", c, d, other)
    assert send(node.url, acl_test, data)["status"] == "0x0"
    mined(node.url, acl_test, call_data("addInputs(bytes32,bytes32,bytes)", a, b, proof))


@pytest.mark.parametrize("values, needle", [
    ([{"type": 8, "value": "0x1"}] * 9, "exceeds 2048"),
    ([{"type": 9, "value": "0x1"}], "unknown type code"),
    ([{"type": 2, "value": "0x100"}], "out of range"),
    ([{"type": 0, "value": "0x2"}], "out of range"),
    ([], "non-empty"),
    ([{"type": 5, "value": "0xzz"}], "not a number"),
])
def test_malformed_inputs(node: NodeProcess, acl_test: str, values: list, needle: str) -> None:
    e = err(node.url, "fhevm_uploadInputs",
            [{"userAddress": DEV0, "contractAddress": acl_test, "values": values}])
    assert e["code"] == -32602 and needle in e["message"], e


def test_malformed_input_requests(node: NodeProcess, acl_test: str) -> None:
    cases = [
        ([{"userAddress": "0x12", "contractAddress": acl_test, "values": []}], "userAddress"),
        ([{"userAddress": DEV0, "contractAddress": acl_test, "ciphertext": "0x00"}],
         "clear backend"),
        ([{"userAddress": DEV0, "contractAddress": acl_test}], "exactly one"),
        (["nope"], "expected one object"),
    ]
    for params, needle in cases:
        e = err(node.url, "fhevm_uploadInputs", params)
        assert e["code"] == -32602 and needle in e["message"], e


def test_public_decrypt_checked_on_chain(node: NodeProcess, acl_test: str,
                                         sum_handle: bytes) -> None:
    h = "0x" + sum_handle.hex()
    e = err(node.url, "fhevm_publicDecrypt", [[h]])
    assert "not publicly decryptable" in e["message"]
    mined(node.url, acl_test, call_data("makePubliclyDecryptable(bytes32)", sum_handle))
    out = ok(node.url, "fhevm_publicDecrypt", [[h]])
    cleartexts = bytes.fromhex(out["cleartexts"][2:])
    proof = bytes.fromhex(out["decryptionProof"][2:])
    assert int.from_bytes(cleartexts, "big") == 42 and out["values"] == ["0x2a"]
    sig = "checkSignatures(bytes32[],bytes,bytes)"
    forged = (43).to_bytes(32, "big")
    assert send(node.url, acl_test, call_data(sig, [sum_handle], forged, proof))[
        "status"] == "0x0"
    mined(node.url, acl_test, call_data(sig, [sum_handle], cleartexts, proof))
    assert view(node.url, acl_test, call_data("lastVerified()")) == keccak(cleartexts)
    e = err(node.url, "fhevm_publicDecrypt", [["0x12"]])
    assert e["code"] == -32602


def test_user_decrypt(node: NodeProcess, acl_test: str, sum_handle: bytes) -> None:
    cfg = kms_config(ok(node.url, "fhevm_nodeInfo", []))
    req, secret = kms_client.user_request(DEV0_KEY, cfg, [(sum_handle, acl_test)], [acl_test])
    answers = ok(node.url, "fhevm_userDecrypt", [req])["answers"]
    assert len(answers) == 4
    assert kms_client.open_user_answers(cfg, req, secret, answers) == [42]
    # another key cannot open the answers
    other, _ = kms_client.new_keypair()
    with pytest.raises(kms_client.KmsError):
        kms_client.open_user_answers(cfg, req, other, answers)


def test_user_decrypt_refusals(node: NodeProcess, acl_test: str, sum_handle: bytes) -> None:
    cfg = kms_config(ok(node.url, "fhevm_nodeInfo", []))
    pair = [(sum_handle, acl_test)]
    req, _ = kms_client.user_request(DEV1_KEY, cfg, pair, [acl_test])  # DEV1 not allowed
    assert "not allowed" in err(node.url, "fhevm_userDecrypt", [req])["message"]
    req, _ = kms_client.user_request(DEV1_KEY, cfg, pair, [acl_test])
    req["userAddress"] = DEV0  # DEV1 signs for DEV0
    assert "signature" in err(node.url, "fhevm_userDecrypt", [req])["message"]
    old = int(time.time()) - 3 * 86400
    req, _ = kms_client.user_request(DEV0_KEY, cfg, pair, [acl_test], start=old, days=1)
    assert "validity window" in err(node.url, "fhevm_userDecrypt", [req])["message"]
    req, _ = kms_client.user_request(DEV0_KEY, cfg, pair, [DEV1])  # contract not signed
    assert "not in the signed request" in err(node.url, "fhevm_userDecrypt", [req])["message"]
    bad = dict(req, publicKey="0x1234")
    assert err(node.url, "fhevm_userDecrypt", [bad])["code"] == -32602
