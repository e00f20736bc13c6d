"""A short round trip on a tfhe-backend node (real TFHE, INSECURE_ test parameters, the 4
KMS parties): compact-list input -> contract -> threshold user decryption, and a tampered
list refused. The whole of test_client_node.py runs on tfhe with `--fhevm-backend tfhe`
(several minutes); this keeps one tfhe path in the default suite (~25 s on 2 cores).

Set FHEVM_SKIP_TFHE_NODE_TESTS=1 to skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fhevm.client import FhevmClient, InputRejected
from fhevm.pytest_plugin import compile_solidity, start_node

# every type on tfhe takes ~160 s here (threshold decryption of 300+ blocks): that is
# `pytest tests/client --fhevm-backend tfhe`; the default suite keeps three small ones.
ALL = [("add_bool", True), ("add8", 0xC3), ("add16", 0xBEEF)]

pytestmark = pytest.mark.skipif(os.environ.get("FHEVM_SKIP_TFHE_NODE_TESTS") == "1",
                                reason="FHEVM_SKIP_TFHE_NODE_TESTS=1")


@pytest.fixture(scope="module")
def tfhe_node(request, tmp_path_factory):
    from fhevm.backends import available_backends

    if "tfhe" not in available_backends(with_keys=True):
        pytest.skip("the tfhe backend does not load in this checkout")
    if request.config.getoption("--fhevm-backend") == "tfhe":
        pytest.skip("test_client_node.py already runs on tfhe (--fhevm-backend tfhe)")
    node = start_node(tmp_path_factory.mktemp("tfhe-devnet") / "data", "tfhe", timeout=300)
    try:
        yield node
    finally:
        node.stop()


def test_tfhe_round_trip_and_tampered_list(tfhe_node):
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(tfhe_node.url, request_kwargs={"timeout": 600}))
    client = FhevmClient(w3)
    assert client.backend == "tfhe" and len(client.node_info.kms.signers) == 4
    art = compile_solidity(Path(__file__).with_name("Vault.sol"))["Vault"]
    me = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact(
        {"from": me})
    vault = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(tx)["contractAddress"],
                            abi=art["abi"])

    b = client.create_input(vault.address, me)
    for method, value in ALL:
        getattr(b, method)(value)
    enc = b.encrypt()
    vault.functions.storeAll(enc.handles, enc.input_proof).transact({"from": me})
    handles = [bytes(vault.functions.stored(i).call()) for i in range(len(ALL))]
    assert client.user_decrypt([(h, vault.address) for h in handles], me) == [
        v for _, v in ALL]

    from fhevm.client.client import _compact_ciphertext

    raw = _compact_ciphertext(client.public_key(), [(enc.handles[1][30], 1)])
    for bad in (raw[:-8], raw + b"\x00", raw[:16] + bytes([raw[16] ^ 0xFF]) + raw[17:]):
        with pytest.raises(InputRejected):
            client.rpc("fhevm_uploadInputs", [{"userAddress": me,
                                               "contractAddress": vault.address,
                                               "ciphertext": "0x" + bad.hex()}])
