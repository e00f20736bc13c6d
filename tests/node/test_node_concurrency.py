"""Reads about committed state answer at once while a long block executes; interval mining."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

from nodetest_util import NodeProcess, rpc

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# runtime: an endless JUMPDEST/JUMP loop that burns all the gas it is given
BURNER_INIT = "0x6004600c60003960046000f3" + "5b600056"


def ok(url: str, method: str, params: list | None = None) -> object:
    reply = rpc(url, method, params, timeout=120)
    assert "error" not in reply, reply
    return reply["result"]


def test_reads_answer_during_long_block(node_url: str) -> None:
    h = ok(node_url, "eth_sendTransaction", [{"from": DEV0, "data": BURNER_INIT}])
    burner = ok(node_url, "eth_getTransactionReceipt", [h])["contractAddress"]
    head = ok(node_url, "eth_blockNumber")
    done = threading.Event()
    elapsed: list[float] = []

    def long_block() -> None:
        t = time.perf_counter()
        ok(node_url, "eth_sendTransaction",
           [{"from": DEV0, "to": burner, "gas": hex(3_000_000)}])
        elapsed.append(time.perf_counter() - t)
        done.set()

    threading.Thread(target=long_block, daemon=True).start()
    time.sleep(0.05)
    latencies = []
    while not done.is_set():
        for method, params in (("eth_blockNumber", []), ("eth_getBalance", [DEV0, "latest"])):
            t = time.perf_counter()
            result = ok(node_url, method, params)
            latencies.append(time.perf_counter() - t)
            if method == "eth_blockNumber":  # the old head until the block is committed
                assert int(result, 16) in (int(head, 16), int(head, 16) + 1)
    done.wait(120)
    assert elapsed and elapsed[0] > 0.3, "the block was too short to test anything"
    assert len(latencies) >= 4
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) >= 10 else max(latencies)
    print(f"long block {elapsed[0]:.2f}s, {len(latencies)} reads, p90 {p90 * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")
    assert p90 < 0.1, (p90, elapsed)
    assert max(latencies) < elapsed[0] / 2


def test_interval_mining(tmp_path: Path) -> None:
    n = NodeProcess(tmp_path / "data", "--block-time", "0.5")
    try:
        start = int(ok(n.url, "eth_blockNumber"), 16)
        h = ok(n.url, "eth_sendTransaction", [{"from": DEV0, "to": DEV0, "value": "0x1"}])
        assert ok(n.url, "eth_getTransactionReceipt", [h]) is None  # queued, not mined
        deadline = time.time() + 10
        receipt = None
        while receipt is None and time.time() < deadline:
            time.sleep(0.1)
            receipt = ok(n.url, "eth_getTransactionReceipt", [h])
        assert receipt is not None and receipt["status"] == "0x1"
        time.sleep(1.2)  # empty blocks keep coming
        assert int(ok(n.url, "eth_blockNumber"), 16) >= start + 2
    finally:
        n.stop()
