"""fhevm.client against a real devnet node, through the pytest plugin's fixtures
(fhevm_node, fhevm_w3, fhevm_accounts, fhevm_client, fhevm_deploy, fhevm_decrypt).

Backend: `--fhevm-backend` (default clear). Round trips of every type through input ->
contract -> user decryption; inputs bound to another user, contract or chain rejected on
chain; tampered proofs and lists rejected; ACL refusals; public decryption checked on chain.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from web3.exceptions import ContractLogicError

from fhevm.client import (
    AsyncFhevmClient,
    DecryptionError,
    DecryptionRefused,
    FhevmClient,
    InputRejected,
    NodeNotRunning,
    WrongChain,
)

VAULT = Path(__file__).with_name("Vault.sol")

ALL = [("add_bool", True), ("add8", 0xA5), ("add16", 0xBEEF), ("add32", 2**32 - 2),
       ("add64", 2**64 - 1), ("add128", 2**128 - 3),
       ("add_address", to_checksum_address("0x50157cffd6bbfa2dece204a89ec419c23ef5755d")),
       ("add256", 2**256 - 5)]


def fhevm_rpc_missing(w3) -> str | None:
    resp = w3.provider.make_request("fhevm_nodeInfo", [])
    return None if "result" in resp else "the node has no fhevm_nodeInfo JSON-RPC method yet"


@pytest.fixture(scope="module")
def vault(fhevm_w3, fhevm_deploy):
    missing = fhevm_rpc_missing(fhevm_w3)
    if missing:
        pytest.skip(missing)
    return fhevm_deploy(VAULT)


@pytest.fixture(scope="module")
def alice(fhevm_accounts):
    return fhevm_accounts[1]


@pytest.fixture(scope="module")
def bob(fhevm_accounts):
    return fhevm_accounts[2]


def store(vault, sender, enc) -> list[bytes]:
    """storeAll(handles, proof) from `sender`; the stored handles (computed copies)."""
    before = vault.functions.count().call()
    vault.functions.storeAll(enc.handles, enc.input_proof).transact({"from": sender.address})
    after = vault.functions.count().call()
    return [bytes(vault.functions.stored(i).call()) for i in range(before, after)]


def test_round_trip_every_type(fhevm_client, vault, alice):
    b = fhevm_client.create_input(vault.address, alice.address)
    for method, value in ALL:
        getattr(b, method)(value)
    enc = b.encrypt()
    assert [h[30] for h in enc.handles] == [0, 2, 3, 4, 5, 6, 7, 8]
    assert [h[21] for h in enc.handles] == list(range(8))
    handles = store(vault, alice, enc)
    got = fhevm_client.user_decrypt([(h, vault.address) for h in handles], alice)
    assert got == [v for _, v in ALL]
    assert isinstance(got[0], bool) and isinstance(got[6], str)


def test_compute_then_decrypt_with_fixture_and_unlocked_signer(
        fhevm_client, fhevm_decrypt, vault, alice):
    [h] = store(vault, alice, fhevm_client.create_input(vault.address, alice).add64(40).encrypt())
    i = vault.functions.count().call() - 1
    vault.functions.add64(i, 2).transact({"from": alice.address})
    [r] = [bytes(vault.functions.stored(i + 1).call())]
    assert fhevm_decrypt(r, vault, alice) == 42
    # the node holds the dev accounts unlocked: it signs the EIP-712 request itself
    assert fhevm_client.user_decrypt([(h, vault.address)], alice.address) == [40]


def test_acl_refusal_says_what_to_do(fhevm_client, vault, alice, bob):
    [h] = store(vault, alice, fhevm_client.create_input(vault.address, alice).add64(7).encrypt())
    with pytest.raises(DecryptionRefused, match="allow"):
        fhevm_client.user_decrypt([(h, vault.address)], bob)  # bob was never allowed
    i = vault.functions.count().call() - 1
    vault.functions.add64Private(i, 1).transact({"from": alice.address})
    private = bytes(vault.functions.stored(i + 1).call())
    with pytest.raises(DecryptionRefused, match="FHE.allow"):
        fhevm_client.user_decrypt([(private, vault.address)], alice)


def test_public_decryption_checked_on_chain(fhevm_client, vault, alice):
    [h] = store(vault, alice, fhevm_client.create_input(vault.address, alice).add64(99).encrypt())
    with pytest.raises(DecryptionRefused):
        fhevm_client.public_decrypt([h])  # not yet publicly decryptable
    vault.functions.reveal(vault.functions.count().call() - 1).transact({"from": alice.address})
    res = fhevm_client.public_decrypt([h])
    assert res.values == [99]
    vault.functions.verify([h], res.cleartexts, res.proof).transact({"from": alice.address})
    bad = bytearray(res.proof)
    bad[5] ^= 1  # inside the first signature
    with pytest.raises(ContractLogicError):
        vault.functions.verify([h], res.cleartexts, bytes(bad)).transact(
            {"from": alice.address})
    wrong_value = (100).to_bytes(32, "big")
    with pytest.raises(ContractLogicError):
        vault.functions.verify([h], wrong_value, res.proof).transact({"from": alice.address})


def test_input_bound_to_other_user_or_contract_is_rejected(
        fhevm_client, fhevm_deploy, vault, alice, bob):
    for_bob = fhevm_client.create_input(vault.address, bob).add64(5).encrypt()
    with pytest.raises(ContractLogicError):
        store(vault, alice, for_bob)  # alice sends bob's input
    other = fhevm_deploy(VAULT)
    for_other = fhevm_client.create_input(other.address, alice).add64(5).encrypt()
    with pytest.raises(ContractLogicError):
        store(vault, alice, for_other)
    assert store(other, alice, for_other)  # where it belongs, it is accepted


def test_input_bound_to_other_chain_is_rejected(fhevm_node, fhevm_client, vault, alice):
    """A proof signed by the node's own input signer, but for chain id 1, is refused."""
    if fhevm_node.data_dir is None:
        pytest.skip("needs the data directory of a node started by the plugin")
    from fhevm import attest
    from fhevm.config import FhevmConfig
    from node.devnet import DB_FILE
    from node.kms_wiring import load_node_keys
    from node.store import Store

    db = Store(os.path.join(fhevm_node.data_dir, DB_FILE))
    try:
        keys = load_node_keys(str(fhevm_node.data_dir), fhevm_client.backend, db)
    finally:
        db.close()
    enc = fhevm_client.create_input(vault.address, alice).add64(5).encrypt()
    forged = attest.input_proof(FhevmConfig(), enc.handles, bytes.fromhex(alice.address[2:]),
                                bytes.fromhex(vault.address[2:]), 1, keys.input_keys)
    with pytest.raises(ContractLogicError):
        vault.functions.storeAll(enc.handles, forged).transact({"from": alice.address})
    # the same signer for this chain: accepted (so the chain id is what was refused)
    good = attest.input_proof(FhevmConfig(), enc.handles, bytes.fromhex(alice.address[2:]),
                              bytes.fromhex(vault.address[2:]), fhevm_client.chain_id,
                              keys.input_keys)
    vault.functions.storeAll(enc.handles, good).transact({"from": alice.address})
    # a handle of another chain is refused by the client before anything is sent
    alien = enc.handles[0][:22] + (1).to_bytes(8, "big") + enc.handles[0][30:]
    with pytest.raises(WrongChain):
        fhevm_client.user_decrypt([(alien, vault.address)], alice)


def test_tampered_proofs_and_lists_are_rejected(fhevm_client, vault, alice):
    enc = fhevm_client.create_input(vault.address, alice).add64(1).add8(2).encrypt()
    sig_at = 2 + 32 * len(enc.handles)
    cases = {
        "signature": enc.input_proof[:sig_at + 3] + bytes([enc.input_proof[sig_at + 3] ^ 1])
        + enc.input_proof[sig_at + 4:],
        "truncated": enc.input_proof[:sig_at + 30],
        "no signers": bytes([2, 0]) + enc.input_proof[2:sig_at] + b"\x00",
        "handle in proof": enc.input_proof[:3] + bytes([enc.input_proof[3] ^ 1])
        + enc.input_proof[4:],
    }
    for name, proof in cases.items():
        with pytest.raises(ContractLogicError):
            vault.functions.storeAll(enc.handles, proof).transact({"from": alice.address})
            pytest.fail(f"tampered proof accepted: {name}")
    # a handle relabelled with another type (euint64 -> euint32) does not match the proof
    relabelled = enc.handles[0][:30] + bytes([4]) + enc.handles[0][31:]
    with pytest.raises(ContractLogicError):
        vault.functions.storeAll([relabelled], enc.input_proof).transact({"from": alice.address})
    # the node refuses malformed lists with a clear error
    rpc = fhevm_client.rpc
    body = {"userAddress": alice.address, "contractAddress": vault.address}
    if fhevm_client.backend == "tfhe":
        blob = fhevm_client.create_input(vault.address, alice).add8(1)
        from fhevm.client.client import _compact_ciphertext

        raw = bytearray(_compact_ciphertext(fhevm_client.public_key(), blob.items))
        for bad in (bytes(raw[:-5]), bytes(raw[:20]) + b"\xff" + bytes(raw[21:])):
            with pytest.raises(InputRejected):
                rpc("fhevm_uploadInputs", [{**body, "ciphertext": "0x" + bad.hex()}])
    else:
        for values in ([{"type": 2, "value": "0x100"}], [{"type": 9, "value": "0x1"}],
                       [{"type": 8, "value": "0x1"}] * 9):
            with pytest.raises(InputRejected):
                rpc("fhevm_uploadInputs", [{**body, "values": values}])
    # and the client refuses before sending
    with pytest.raises(InputRejected, match="2048 bits"):
        b = fhevm_client.create_input(vault.address, alice)
        for _ in range(9):
            b.add256(0)


def test_tampered_kms_answers_are_rejected(fhevm_client, vault, alice):
    """Answers whose signatures do not match (here: the request rewritten after signing)
    are dropped; with fewer than t + 1 left the client refuses to guess."""
    from fhevm.client import kms

    [h] = store(vault, alice, fhevm_client.create_input(vault.address, alice).add32(5).encrypt())
    info = fhevm_client.node_info.kms
    req = kms.build_user_request(info, [(h, vault.address)], alice.address)
    body = req.signed(bytes(alice.sign_typed_data(full_message=req.typed_data()).signature))
    answers = fhevm_client.rpc("fhevm_userDecrypt", [body])["answers"]
    assert kms.open_user_answers(info, body, req.secret, answers) == [5]
    forged = [dict(a, signature=answers[0]["signature"]) for a in answers]
    with pytest.raises(DecryptionError):  # only party 1's own answer still verifies
        kms.open_user_answers(info, body, req.secret, forged)


def test_node_not_running_error():
    from web3 import Web3

    with pytest.raises(NodeNotRunning, match="fhevm-node start"):
        FhevmClient(Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2})))


def test_async_client_round_trip(fhevm_node, vault, alice):
    from web3 import AsyncWeb3

    async def main():
        w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(fhevm_node.url))
        client = await AsyncFhevmClient.connect(w3)
        b = await client.create_input(vault.address, alice)
        enc = await b.add16(1234).add_bool(False).encrypt()
        handles = await asyncio.to_thread(store, vault, alice, enc)
        got = await client.user_decrypt([(h, vault.address) for h in handles], alice)
        await w3.provider.disconnect()
        return got

    assert asyncio.run(main()) == [1234, False]


def test_deploy_fixture_takes_source_text_and_artifact_names(fhevm_deploy, fhevm_decrypt,
                                                             fhevm_client, alice):
    src = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {FHE, euint32} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
contract Counter is ZamaEthereumConfig {
    euint32 public count;
    function bump(uint32 by) external {
        count = FHE.add(count, by);
        FHE.allowThis(count);
        FHE.allow(count, msg.sender);
    }
}
"""
    counter = fhevm_deploy(src)
    counter.functions.bump(5).transact({"from": alice.address})
    counter.functions.bump(6).transact({"from": alice.address})
    assert fhevm_decrypt(counter.functions.count().call(), counter, alice) == 11
    acl_test = fhevm_deploy("FHETestACL")
    assert len(acl_test.w3.eth.get_code(acl_test.address)) > 0
