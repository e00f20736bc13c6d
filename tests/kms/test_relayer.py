"""The decryption relayer on a running node: a contract calls FHE.requestDecryption, the
node's relayer decrypts through the KMS and calls back, the callback checks the KMS
signatures with FHE.checkSignatures(requestId, ...); a forged or replayed callback is
rejected on chain; a callback that reverts is given up (logged) without hurting the node.

Runs on the clear backend (the mock KMS signs: ~10 s); `pytest tests/kms/test_relayer.py
--fhevm-backend tfhe` runs it on a tfhe node with the 4 threshold parties (INSECURE_ test
parameters, ~1 min)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_abi import encode

from fhevm.pytest_plugin import compile_solidity, start_node
from node.relayer import RELAYER_ADDRESS, find_requests

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def node(request, tmp_path_factory):
    backend = request.config.getoption("--fhevm-backend") or "clear"
    n = start_node(tmp_path_factory.mktemp("relayer") / "data", backend,
                   timeout=600 if backend == "tfhe" else 120)
    try:
        yield n
    finally:
        n.stop()


@pytest.fixture(scope="module")
def w3(node):
    from web3 import Web3

    return Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 600}))


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


def _revert_reason(w3, tx: dict) -> str:
    from web3.exceptions import ContractCustomError, ContractLogicError

    try:
        w3.eth.call(tx)
    except (ContractLogicError, ContractCustomError) as exc:
        return f"{exc} {getattr(exc, 'data', '')}"
    return ""


def _selector(sig: str) -> str:
    from eth_utils import keccak

    return "0x" + keccak(text=sig)[:4].hex()


def test_request_callback_and_forgeries(node, w3) -> None:
    art = compile_solidity(HERE / "OracleClient.sol")["OracleClient"]
    me = w3.eth.accounts[0]
    assert w3.eth.get_balance(RELAYER_ADDRESS) > 0  # funded at genesis
    tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact(
        {"from": me})
    c = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(tx)["contractAddress"],
                        abi=art["abi"])
    timeout = 300 if node.backend == "tfhe" else 60

    # 1. request -> the relayer's callback arrives and is checked on chain
    receipt = w3.eth.wait_for_transaction_receipt(
        c.functions.computeAndReveal(30, 80).transact({"from": me}))
    assert receipt["status"] == 1
    _wait(lambda: c.functions.callbacks().call() == 1, timeout, "no callback")
    assert c.functions.revealedSum().call() == 110 and c.functions.revealedBig().call()
    assert c.functions.fulfilled(0).call()
    [ev] = c.events.Revealed().get_logs(from_block=receipt["blockNumber"])
    cb_tx = w3.eth.get_transaction(ev["transactionHash"])
    assert cb_tx["from"] == RELAYER_ADDRESS and cb_tx["to"] == c.address

    # 2. a callback that reverts: the relayer gives up (logged), the node carries on
    receipt = w3.eth.wait_for_transaction_receipt(
        c.functions.revealIntoRevert().transact({"from": me}))
    assert receipt["status"] == 1
    _wait(lambda: "given up" in node.log(), timeout, "the relayer did not give up")
    assert not c.functions.fulfilled(1).call()
    assert w3.eth.block_number >= receipt["blockNumber"]

    # 3. anyone may deliver a result, but only a correctly signed one, and only once
    handles = ["0x" + bytes(h).hex() for h in c.functions.requestHandles(1).call()]
    out = w3.provider.make_request("fhevm_publicDecrypt", [handles])["result"]
    cleartexts, proof = bytes.fromhex(out["cleartexts"][2:]), bytes.fromhex(
        out["decryptionProof"][2:])
    forged = encode(["uint256", "bool"], [111, True])
    assert forged != cleartexts

    def reveal(rid: int, ct: bytes) -> dict:
        return {"from": me, "to": c.address,
                "data": c.encode_abi("reveal", [rid, ct, proof])}

    reason = _revert_reason(w3, reveal(1, forged))
    assert reason and ("KMSInvalidSigner" in reason or _selector("KMSInvalidSigner(address)")
                       in reason), reason
    # a forged transaction is mined and fails
    bad = w3.eth.send_transaction({**reveal(1, forged), "gas": 2_000_000})
    assert w3.eth.wait_for_transaction_receipt(bad)["status"] == 0
    good = w3.eth.send_transaction({**reveal(1, cleartexts), "gas": 2_000_000})
    assert w3.eth.wait_for_transaction_receipt(good)["status"] == 1
    assert c.functions.callbacks().call() == 2 and c.functions.fulfilled(1).call()
    assert _selector("DecryptionRequestAlreadyFulfilled(uint256)")[2:] in _revert_reason(
        w3, reveal(1, cleartexts))
    assert _selector("UnknownDecryptionRequest(uint256)")[2:] in _revert_reason(
        w3, reveal(7, cleartexts))
    assert "Traceback" not in node.log()


def test_find_requests_skips_failed_and_malformed_events() -> None:
    from types import SimpleNamespace

    from node.records import LogRec
    from node.relayer import TOPIC

    good = LogRec(b"\x11" * 20, (TOPIC, (5).to_bytes(32, "big")),
                  encode(["bytes32[]", "bytes4"], [[b"\x01" * 32], b"\xaa\xbb\xcc\xdd"]))
    malformed = LogRec(b"\x22" * 20, (TOPIC, (6).to_bytes(32, "big")), b"\x00" * 5)
    empty = LogRec(b"\x33" * 20, (TOPIC, (7).to_bytes(32, "big")),
                   encode(["bytes32[]", "bytes4"], [[], b"\x00" * 4]))
    other = LogRec(b"\x44" * 20, (b"\x00" * 32,), b"")
    ok_tx = SimpleNamespace(status=1, logs=(good, malformed, empty, other), hash=b"\x01" * 32)
    failed_tx = SimpleNamespace(status=0, logs=(good,), hash=b"\x02" * 32)
    rec = SimpleNamespace(header=SimpleNamespace(block_number=9), txs=(ok_tx, failed_tx))
    [req] = find_requests(rec)  # type: ignore[arg-type]
    assert (req.contract, req.request_id, req.handles, req.selector, req.block) == (
        b"\x11" * 20, 5, (b"\x01" * 32,), b"\xaa\xbb\xcc\xdd", 9)


def test_squashed_ciphertext_rpc(node, w3) -> None:
    """fhevm_getSquashedCiphertext on the running node: shapes, null, errors (tfhe); the
    clear backend has none to give."""
    rpc = w3.provider.make_request
    unknown = "0x" + "00" * 30 + "0500"
    if node.backend != "tfhe":
        err = rpc("fhevm_getSquashedCiphertext", [unknown])["error"]
        assert err["code"] == -32000 and "clear backend" in err["message"]
        return
    from node.kms.params import INSECURE_SQUASH_TEST_PARAMS
    from node.kms.squashing import decode_squashed

    art = compile_solidity(HERE / "OracleClient.sol")["OracleClient"]
    me = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact(
        {"from": me})
    c = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(tx)["contractAddress"],
                        abi=art["abi"])
    w3.eth.wait_for_transaction_receipt(c.functions.compute(1, 2).transact({"from": me}))
    h_sum = "0x" + bytes(c.functions.sum().call()).hex()
    h_big = "0x" + bytes(c.functions.big().call()).hex()
    dim = INSECURE_SQUASH_TEST_PARAMS.lwe_dimension
    one = rpc("fhevm_getSquashedCiphertext", [h_sum])["result"]
    groups, lwes = decode_squashed(one, 64, dim)
    assert len(groups) == len(lwes) >= 16
    both = rpc("fhevm_getSquashedCiphertext", [[h_big, unknown, h_sum]])["result"]
    assert both[1] is None and both[2] == one
    assert decode_squashed(both[0], 1, dim)[0] == [(0,)]
    assert rpc("fhevm_getSquashedCiphertext", [["0x1234"]])["error"]["code"] == -32602
    too_many = ["0x" + "00" * 30 + "0800"] * 3  # 3 x 128 blocks > 256
    assert rpc("fhevm_getSquashedCiphertext", [too_many])["error"]["code"] == -32602


def test_relayer_retries_a_bounded_number_of_times_and_keeps_going() -> None:
    """Failures of the KMS or of the send are retried MAX_ATTEMPTS times, a reverting
    callback is not retried, and the next request is still served."""
    import asyncio

    from node.relayer import Relayer, Request, callback_data

    calls: list[str] = []
    state = {"kms_failures": 10}

    async def dispatch(method: str, params: list):
        calls.append(method)
        if method == "fhevm_publicDecrypt":
            if state["kms_failures"] > 0:
                state["kms_failures"] -= 1
                raise RuntimeError("KMS down")
            return {"cleartexts": "0x" + "00" * 31 + "2a", "decryptionProof": "0x01"}
        if method == "eth_estimateGas":
            if params[0]["to"].lower() == "0x" + "ee" * 20:
                raise RuntimeError("execution reverted")
            return hex(50_000)
        if method == "eth_getTransactionCount":
            return "0x0"
        if method == "eth_gasPrice":
            return hex(10**9)
        if method == "eth_sendRawTransaction":
            return "0x" + "ab" * 32
        if method == "eth_blockNumber":
            return "0x0"
        if method == "eth_getLogs":
            return []
        if method == "eth_getStorageAt":
            return "0x" + "00" * 32
        raise AssertionError(method)

    def req(contract: bytes, rid: int) -> Request:
        return Request(contract, rid, (b"\x01" * 32,), b"\x12\x34\x56\x78", 1)

    async def go() -> Relayer:
        r = Relayer(dispatch, 31337, attempts=3, backoff=(0.0,))
        r.start()
        r._enqueue(1, [req(b"\x11" * 20, 0)])  # the KMS fails 10 times: given up after 3
        await r.idle()
        state["kms_failures"] = 1
        r._enqueue(1, [req(b"\xee" * 20, 1), req(b"\x11" * 20, 2)])  # reverting, then fine
        await r.idle()
        await r.stop()
        return r

    r = asyncio.run(go())
    assert [f[0].request_id for f in r.failed] == [0, 1]
    assert "KMS down" in r.failed[0][1] and "revert" in r.failed[1][1]
    assert [s[0].request_id for s in r.sent] == [2]
    assert calls.count("eth_estimateGas") == 2  # request 1 once (not retried), request 2
    assert calls.count("fhevm_publicDecrypt") == 3 + 2 + 1
    assert calls.count("eth_sendRawTransaction") == 1
    data = callback_data(req(b"\x11" * 20, 2), b"\x00" * 31 + b"\x2a", b"\x01")
    assert data[:4] == b"\x12\x34\x56\x78" and len(data) == 4 + 32 * 7


class FakeChain:
    """The JSON-RPC a relayer uses, over a list of blocks with DecryptionRequested logs and
    a set of fulfilled (contract, request id): enough to test the resume logic alone."""

    def __init__(self, head: int, salt: str = "a") -> None:
        self.head, self.salt = head, salt
        self.events: list[tuple[int, bytes, int]] = []  # (block, contract, request id)
        self.fulfilled: set[tuple[str, int]] = set()
        self.calls: list[tuple[str, list]] = []
        self.decrypts_left: int | None = None  # then the KMS hangs (None: never)

    def emit(self, block: int, contract: bytes, rid: int) -> None:
        self.events.append((block, contract, rid))
        self.head = max(self.head, block)

    async def dispatch(self, method: str, params: list):
        import asyncio

        from eth_utils import to_checksum_address

        from node.relayer import TOPIC, fulfilled_slot

        self.calls.append((method, params))
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            return {"hash": f"0x{self.salt * 2}{int(params[0], 16):062x}"}
        if method == "eth_getLogs":
            lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            return [{"address": "0x" + c.hex(), "blockNumber": hex(b),
                     "topics": ["0x" + TOPIC.hex(), "0x" + rid.to_bytes(32, "big").hex()],
                     "data": "0x" + encode(["bytes32[]", "bytes4"],
                                           [[b"\x01" * 32], b"\x12\x34\x56\x78"]).hex(),
                     "transactionHash": "0x" + "cd" * 32}
                    for b, c, rid in self.events if lo <= b <= hi]
        if method == "eth_getStorageAt":
            for _, c, rid in self.events:
                if (params[0], int(params[1], 16)) == (to_checksum_address(c),
                                                       fulfilled_slot(rid)):
                    return "0x" + ("00" * 31 + ("01" if (params[0], rid) in self.fulfilled
                                                 else "00"))
            return "0x" + "00" * 32
        if method == "fhevm_publicDecrypt":
            if self.decrypts_left is not None:
                if self.decrypts_left == 0:
                    await asyncio.sleep(3600)
                self.decrypts_left -= 1
            return {"cleartexts": "0x" + "00" * 31 + "2a", "decryptionProof": "0x01"}
        if method == "eth_estimateGas":
            return hex(50_000)
        if method in ("eth_getTransactionCount", "eth_gasPrice"):
            return "0x1"
        if method == "eth_sendRawTransaction":
            return "0x" + "ab" * 32
        raise AssertionError(method)

    def scans(self) -> list[tuple[int, int]]:
        return [(int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16))
                for m, p in self.calls if m == "eth_getLogs"]


def _run_relayer(chain: FakeChain, state, live=()):
    import asyncio

    from node.relayer import Relayer, Request

    async def go() -> Relayer:
        r = Relayer(chain.dispatch, 31337, backoff=(0.0,), state=state)
        r.start()
        for block, contract, rid in live:
            r._enqueue(block, [Request(contract, rid, (b"\x01" * 32,), b"\x12\x34\x56\x78",
                                       block)])
        await r.idle()
        await r.stop()
        return r

    return asyncio.run(go())


def test_relayer_resumes_from_its_state_and_skips_answered_requests(tmp_path) -> None:
    """A restarted relayer scans only the blocks after the last one it fully handled, skips
    requests already answered (storage flag, no KMS round), serves the rest once."""
    import json

    from eth_utils import to_checksum_address

    a, b = b"\x11" * 20, b"\x22" * 20
    state = tmp_path / "relayer.json"
    chain = FakeChain(head=5)
    chain.emit(2, a, 0)
    chain.emit(4, b, 0)
    chain.fulfilled.add((to_checksum_address(a), 0))  # answered by someone while down
    r = _run_relayer(chain, state, live=[(4, b, 0), (6, a, 1)])  # 4: also seen live
    assert chain.scans() == [(0, 5)]
    assert [q.contract for q in r.skipped] == [a]
    assert [(q.contract, q.request_id) for q, _ in r.sent] == [(b, 0), (a, 1)]  # b once only
    assert [m for m, _ in chain.calls].count("fhevm_publicDecrypt") == 2
    assert json.loads(state.read_text())["block"] == 6

    chain.fulfilled |= {(to_checksum_address(b), 0), (to_checksum_address(a), 1)}
    chain.calls.clear()
    chain.emit(9, b, 1)  # mined while the node ran without its relayer
    r = _run_relayer(chain, state)
    assert chain.scans() == [(7, 9)] and [(q.contract, q.request_id) for q, _ in r.sent] == [
        (b, 1)]
    assert json.loads(state.read_text())["block"] == 9

    other = FakeChain(head=9, salt="b")  # a state file of another chain: scan everything
    other.emit(3, a, 0)
    r = _run_relayer(other, state)
    assert other.scans() == [(0, 9)] and [q.request_id for q, _ in r.sent] == [0]
    state.write_text("{not json")  # unreadable: scan everything too, then rewrite it
    other.calls.clear()
    _run_relayer(other, state)
    assert other.scans() == [(0, 9)] and json.loads(state.read_text())["block"] == 9


def test_relayer_resumes_pending_requests_after_a_restart(tmp_path) -> None:
    """A request mined while the node ran without its relayer (--no-relayer, then stopped)
    is answered after a restart with the relayer on; one answered meanwhile by someone else
    is not delivered again (clear backend)."""
    data = tmp_path / "data"
    art = compile_solidity(HERE / "OracleClient.sol")["OracleClient"]
    node = start_node(data, "clear", extra_args=("--no-relayer",))
    try:
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(node.url))
        me = w3.eth.accounts[0]
        tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact(
            {"from": me})
        address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        c = w3.eth.contract(address=address, abi=art["abi"])
        for a in (30, 5):  # requests 0 and 1
            w3.eth.wait_for_transaction_receipt(
                c.functions.computeAndReveal(a, 80).transact({"from": me}))
        handles = ["0x" + bytes(h).hex() for h in c.functions.requestHandles(0).call()]
        out = w3.provider.make_request("fhevm_publicDecrypt", [handles])["result"]
        w3.eth.wait_for_transaction_receipt(c.functions.reveal(
            0, bytes.fromhex(out["cleartexts"][2:]), bytes.fromhex(out["decryptionProof"][2:])
        ).transact({"from": me}))  # request 0 answered by hand
        assert c.functions.callbacks().call() == 1 and not c.functions.fulfilled(1).call()
    finally:
        node.stop()
    node = start_node(data, "clear")
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        c = w3.eth.contract(address=address, abi=art["abi"])
        _wait(lambda: c.functions.fulfilled(1).call(), 60, "request 1 not answered")
        assert c.functions.callbacks().call() == 2 and c.functions.revealedSum().call() == 85
        log = node.log()  # request 0 came first (served in order): skipped, not given up
        assert "given up" not in log and "Traceback" not in log, log[-3000:]
    finally:
        node.stop()


def test_relayer_stopped_mid_resume_keeps_what_it_did_not_serve(tmp_path) -> None:
    """Stopped while the resume scan is still serving (the KMS hangs on the second request),
    the relayer records only the blocks it finished, even though later blocks came in live;
    the next start serves the rest."""
    import asyncio
    import json

    from node.relayer import Relayer

    a = b"\x11" * 20
    state = tmp_path / "relayer.json"
    chain = FakeChain(head=8)
    chain.emit(3, a, 0)
    chain.emit(5, a, 1)
    chain.decrypts_left = 1

    async def go() -> Relayer:
        r = Relayer(chain.dispatch, 31337, backoff=(0.0,), state=state)
        r.start()
        r._enqueue(12, [])  # a live block while the scan is busy
        for _ in range(200):
            await asyncio.sleep(0.01)
            if r.sent:
                break
        await asyncio.sleep(0.05)
        await r.stop()
        return r

    r = asyncio.run(go())
    assert [q.request_id for q, _ in r.sent] == [0]
    assert json.loads(state.read_text())["block"] == 3
    chain.decrypts_left = None
    chain.calls.clear()
    r = _run_relayer(chain, state)
    assert chain.scans() == [(4, 8)] and [q.request_id for q, _ in r.sent] == [1]
