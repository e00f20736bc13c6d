"""Keys and the real KMS on a tfhe-backend node (INSECURE_ test parameters, to stay fast).

`fhevm-node keygen --backend tfhe` leaves no TFHE client key in any file of the data
directory (unless --insecure-keep-client-key); `fhevm-node start` launches the 4 KMS
parties, an input list encrypted under fhevm_getPublicKey goes through a contract, and the
parties decrypt publicly (checked on chain) and for the user; SIGTERM stops the parties.

Set FHEVM_SKIP_TFHE_NODE_TESTS=1 to skip (keygen and dealing take ~20 s, the node test
~40 s on 2 cores; the INSECURE_ squash key written is ~48 MiB).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from nodetest_util import ROOT, NodeProcess

pytestmark = pytest.mark.skipif(os.environ.get("FHEVM_SKIP_TFHE_NODE_TESTS") == "1",
                                reason="FHEVM_SKIP_TFHE_NODE_TESTS=1")
sys.path.insert(0, str(ROOT))
pytest.importorskip("tfhe.integer.compact_list")
artifacts = pytest.importorskip("contracts.artifacts")

from test_node_fhevm_rpc import DEV0, DEV0_KEY, call_data, err, mined, ok, view  # noqa: E402

from fhevm.pytest_plugin import free_port_range  # noqa: E402
from node.decryption import kms_config  # noqa: E402
from node.kms import client as kms_client  # noqa: E402

CLIENT_KEY_MARK = b'"kind": "client"'  # header of a tfhe client key file
PARAMS = {"FHEVM_NODE_KEY_PARAMS": "INSECURE_TEST_PARAMS"}


def keygen(data: Path, *extra: str, base: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **PARAMS, "FHEVM_NODE_KMS_BASE_PORT": str(base or free_port_range())}
    out = subprocess.run([sys.executable, "-m", "node", "keygen", "--backend", "tfhe",
                          "--data-dir", str(data), *extra], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def files_with_client_key(data: Path) -> list[Path]:
    return [p for p in data.rglob("*") if p.is_file() and CLIENT_KEY_MARK in p.read_bytes()]


def stored_keys(data: Path) -> set[str]:
    with sqlite3.connect(data / "chain.sqlite3") as db:
        return {n for (n,) in db.execute("SELECT name FROM keys")}


@pytest.fixture(scope="module")
def tfhe_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("tfhe-node") / "data"
    keygen(data)
    return data


def test_keygen_keeps_no_client_key(tfhe_data: Path) -> None:
    assert stored_keys(tfhe_data) == {"tfhe/server_key", "tfhe/compact_public_key",
                                      "tfhe/casting_key", "signers/input/1"}
    assert (tfhe_data / "kms" / "public" / "kms.json").exists()
    assert sorted(p.name for p in (tfhe_data / "kms").glob("party-*")) == [
        f"party-{j}" for j in range(1, 5)]
    assert files_with_client_key(tfhe_data) == []


def test_insecure_keep_client_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keygen(data, "--insecure-keep-client-key")
    assert "tfhe/client_key" in stored_keys(data)
    assert files_with_client_key(data) != []  # the scan above would see one
    keygen(data)  # the choice is remembered: a later keygen / start keeps the key
    assert "tfhe/client_key" in stored_keys(data)


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2):
            return True
    except OSError:
        return False


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise TimeoutError(what)
        time.sleep(0.3)


def _kill_parties(kms_dir: Path) -> None:
    """Safety net: party processes of this data directory still running after the node."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"node.kms.party" in cmd and str(kms_dir).encode() in cmd:
            os.kill(int(proc.name), 9)


def test_tfhe_node_inputs_and_kms(tfhe_data: Path) -> None:
    from tfhe.integer.compact_list import CompactListBuilder, CompactPublicKey

    n = NodeProcess(tfhe_data, "--backend", "tfhe")
    info = ok(n.url, "fhevm_nodeInfo", [])
    urls = info["kms"]["parties"]
    try:
        assert info["backend"] == "tfhe" and not info["kms"]["mock"] and len(urls) == 4
        _wait(lambda: all(_alive(u) for u in urls), 90, "KMS parties did not start")
        pk = CompactPublicKey.from_bytes(bytes.fromhex(ok(n.url, "fhevm_getPublicKey",
                                                          [])[2:]))
        contract = mined(n.url, None, "0x" + artifacts.load_bytecode("FHETestACL").hex())[
            "contractAddress"]
        blob = CompactListBuilder(pk).add64(20).add64(22).encrypt().to_bytes()
        up = ok(n.url, "fhevm_uploadInputs", [{"userAddress": DEV0, "contractAddress": contract,
                                               "ciphertext": "0x" + blob.hex()}])
        a, b = (bytes.fromhex(h[2:]) for h in up["handles"])
        proof = bytes.fromhex(up["inputProof"][2:])
        mined(n.url, contract, call_data("addInputs(bytes32,bytes32,bytes)", a, b, proof))
        h = view(n.url, contract, call_data("lastResult()"))

        e = err(n.url, "fhevm_uploadInputs", [{"userAddress": DEV0, "contractAddress": contract,
                                               "ciphertext": "0x" + blob[:-3].hex()}])
        assert e["code"] == -32602 and "invalid ciphertext list" in e["message"], e
        e = err(n.url, "fhevm_uploadInputs", [{"userAddress": DEV0, "contractAddress": contract,
                                               "values": [{"type": 5, "value": "0x1"}]}])
        assert e["code"] == -32602 and "clear backend" in e["message"]

        cfg = kms_config(info)
        req, secret = kms_client.user_request(DEV0_KEY, cfg, [(h, contract)], [contract])
        answers = ok(n.url, "fhevm_userDecrypt", [req])["answers"]
        assert kms_client.open_user_answers(cfg, req, secret, answers) == [42]

        assert "not publicly decryptable" in err(n.url, "fhevm_publicDecrypt",
                                                 [["0x" + h.hex()]])["message"]
        mined(n.url, contract, call_data("makePubliclyDecryptable(bytes32)", h))
        out = ok(n.url, "fhevm_publicDecrypt", [["0x" + h.hex()]])
        assert out["values"] == ["0x2a"]
        mined(n.url, contract, call_data("checkSignatures(bytes32[],bytes,bytes)", [h],
                                         bytes.fromhex(out["cleartexts"][2:]),
                                         bytes.fromhex(out["decryptionProof"][2:])))
    finally:
        n.stop()
        try:
            _wait(lambda: not any(_alive(u) for u in urls), 20, "parties outlived the node")
        finally:
            _kill_parties(tfhe_data / "kms")
