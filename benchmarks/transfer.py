"""Confidential transfers (ConfidentialToken, ERC-7984) end to end over JSON-RPC.

Starts a node in a temporary directory (or uses --url), deploys ConfidentialToken from the
committed artifact, mints to several senders, then measures with the SDK
(`fhevm.client.FhevmClient`):
  * latency of one confidential transfer with an encrypted input: input encryption (and,
    on tfhe, the compact list), fhevm_uploadInputs, eth_sendTransaction, receipt;
    one sender, one transfer after the other (median and worst), once with a gas limit
    in the transaction and once letting web3 call eth_estimateGas first (its default);
  * transfers per second with --senders senders, each in its own thread with its own
    connection, each sending --transfers transfers (encrypt, upload, send with a gas
    limit, wait);
  * gas per transfer (from the receipts) and HCU per transfer (fhevm_getTransactionHcu:
    what the executor metered, checked against its table (fhevm.hcu) summed over the FHE
    operations a transfer between two funded accounts runs, ConfidentialToken._update);
  * ms per user decryption of a balance (request signed locally, fhevm_userDecrypt, the
    answers opened and combined by the SDK).

    python benchmarks/transfer.py                          # clear backend
    python benchmarks/transfer.py --backend tfhe           # tfhe, INSECURE test keys
    python benchmarks/transfer.py --url http://127.0.0.1:8545 --json out.json

The tfhe node started here uses the key parameters of FHEVM_NODE_KEY_PARAMS, which this
script (like the pytest plugin) sets to INSECURE_TEST_PARAMS unless it is already set: the
real-parameter figures need FHEVM_NODE_KEY_PARAMS set to the DEFAULT parameter set name
(key generation then takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web3 import Web3  # noqa: E402

from contracts import load_artifact  # noqa: E402
from fhevm import hcu  # noqa: E402
from fhevm.client import FhevmClient  # noqa: E402
from fhevm.pytest_plugin import start_node  # noqa: E402
from fhevm.types import FheType  # noqa: E402

TRANSFER_SIG = "confidentialTransfer(address,bytes32,bytes)"
MINT = 10**9
GAS_LIMIT = 1_000_000  # a transfer uses about 510k gas


def transfer_hcu() -> tuple[int, int]:
    """(total, depth) HCU of a transfer between two accounts that both hold a balance:
    asEuint64(0), ge(balance, amount), select, sub, add (ConfidentialToken._update)."""
    u64 = FheType.Uint64
    triv = hcu.unary_cost("trivialEncrypt", u64)
    ge = hcu.binary_cost("ge", u64, False)
    sel = hcu.unary_cost("select", u64)
    sub = hcu.binary_cost("sub", u64, False)
    add = hcu.binary_cost("add", u64, False)
    total = triv + ge + sel + sub + add
    depth = ge + sel + max(sub, add)
    return total, depth


def connect(url: str) -> tuple[Web3, FhevmClient]:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
    return w3, FhevmClient(w3)


def wait(w3: Web3, tx: bytes) -> dict:
    r = w3.eth.wait_for_transaction_receipt(tx, timeout=600, poll_latency=0.005)
    if r["status"] != 1:
        raise RuntimeError(f"transaction 0x{bytes(tx).hex()} reverted")
    return r


def one_transfer(w3: Web3, client: FhevmClient, token, sender: str, to: str,
                 amount: int, gas: int | None = GAS_LIMIT) -> tuple[float, dict]:
    """(seconds, receipt) of encrypt + upload + send + mined. gas=None lets web3 ask
    the node for eth_estimateGas first (its default; a second execution of the call)."""
    fn = token.get_function_by_signature(TRANSFER_SIG)
    tx = {"from": sender} if gas is None else {"from": sender, "gas": gas}
    t = time.perf_counter()
    enc = client.create_input(token.address, sender).add64(amount).encrypt()
    r = wait(w3, fn(to, enc.handles[0], enc.input_proof).transact(tx))
    return time.perf_counter() - t, r


def node_hcu(w3: Web3, tx_hash: bytes) -> tuple[int, int] | None:
    """(HCU, HCU depth) the node reports for a mined transaction, None if it cannot."""
    res = w3.provider.make_request("fhevm_getTransactionHcu", ["0x" + bytes(tx_hash).hex()])
    got = res.get("result")
    return None if not got else (int(got["hcu"], 16), int(got["hcuDepth"], 16))


def run(url: str, senders: int, transfers: int, latency_n: int, decrypts: int) -> dict:
    w3, client = connect(url)
    accounts = w3.eth.accounts
    if len(accounts) < senders + 2:
        raise SystemExit(f"the node holds {len(accounts)} accounts; need senders + 2")
    owner, sink = accounts[0], accounts[-1]
    holders = accounts[1:1 + senders]
    art = load_artifact("ConfidentialToken")
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    t = time.perf_counter()
    r = wait(w3, factory.constructor("Bench", "BNCH", "").transact({"from": owner}))
    deploy_s = time.perf_counter() - t
    token = w3.eth.contract(address=r["contractAddress"], abi=art["abi"])
    t = time.perf_counter()
    mint_gas = []
    for a in [owner, *holders, sink]:  # every party holds a balance: same ops per transfer
        tx = token.functions.mint(a, MINT).transact({"from": owner, "gas": GAS_LIMIT})
        mint_gas.append(wait(w3, tx)["gasUsed"])
    mint_s = (time.perf_counter() - t) / (len(holders) + 2)

    # warm-up (public key fetch and parse on tfhe, first compile paths), not counted
    one_transfer(w3, client, token, owner, sink, 1)

    lat, lat_est, gas = [], [], []
    for _ in range(latency_n):
        s, r = one_transfer(w3, client, token, owner, sink, 1)
        reported = node_hcu(w3, r["transactionHash"])
        lat.append(s)
        gas.append(r["gasUsed"])
        s, r = one_transfer(w3, client, token, owner, sink, 1, gas=None)
        lat_est.append(s)
        gas.append(r["gasUsed"])

    errors: list[BaseException] = []
    per_thread: list[list[float]] = [[] for _ in holders]

    def worker(i: int, sender: str) -> None:
        try:
            tw3, tclient = connect(url)
            ttoken = tw3.eth.contract(address=token.address, abi=art["abi"])
            for _ in range(transfers):
                s, r = one_transfer(tw3, tclient, ttoken, sender, sink, 1)
                per_thread[i].append(s)
                gas.append(r["gasUsed"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(holders)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    if errors:
        raise errors[0]
    done = sum(len(p) for p in per_thread)

    handle = token.functions.confidentialBalanceOf(owner).call()
    client.user_decrypt([(handle, token.address)], owner)  # warm-up
    dec = []
    for _ in range(decrypts):
        t = time.perf_counter()
        (value,) = client.user_decrypt([(handle, token.address)], owner)
        dec.append(time.perf_counter() - t)
    expected = MINT - 1 - 2 * latency_n
    if int(value) != expected:
        raise RuntimeError(f"owner balance decrypted as {value}, expected {expected}")
    (sink_value,) = client.user_decrypt(
        [(token.functions.confidentialBalanceOf(sink).call(), token.address)], sink)
    if int(sink_value) != MINT + 1 + 2 * latency_n + done:
        raise RuntimeError(f"sink balance {sink_value}, "
                           f"expected {MINT + 1 + 2 * latency_n + done}")

    total_hcu, depth_hcu = transfer_hcu()
    source = "fhevm.hcu table summed over the ops of _update (the node did not report it)"
    if latency_n and reported is not None:
        if reported != (total_hcu, depth_hcu):
            raise RuntimeError(f"node reports HCU {reported}, the table {total_hcu, depth_hcu}")
        source = "node (fhevm_getTransactionHcu), equal to the fhevm.hcu table"
    return {
        "backend": client.backend,
        "key_params": None,  # set by main when it started the node
        "deploy_s": deploy_s,
        "mint_ms": mint_s * 1000,
        "mint_gas": statistics.median(mint_gas),
        "transfer_latency_ms_median": statistics.median(lat) * 1000,
        "transfer_latency_ms_max": max(lat) * 1000,
        "transfer_latency_estimate_gas_ms_median": statistics.median(lat_est) * 1000,
        "transfer_latency_estimate_gas_ms_max": max(lat_est) * 1000,
        "latency_samples": latency_n,
        "senders": len(holders),
        "concurrent_transfers": done,
        "concurrent_wall_s": wall,
        "transfers_per_s": done / wall,
        "concurrent_latency_ms_median": statistics.median(
            [s for p in per_thread for s in p]) * 1000,
        "gas_per_transfer_median": statistics.median(gas),
        "gas_per_transfer_min": min(gas),
        "gas_per_transfer_max": max(gas),
        "hcu_per_transfer": total_hcu,
        "hcu_depth_per_transfer": depth_hcu,
        "hcu_source": source,
        "user_decrypt_ms_median": statistics.median(dec) * 1000,
        "user_decrypt_ms_max": max(dec) * 1000,
        "user_decrypt_samples": decrypts,
        "balances_checked": True,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("clear", "tfhe"), default="clear")
    p.add_argument("--url", help="use a running node instead of starting one")
    p.add_argument("--senders", type=int, default=4)
    p.add_argument("--transfers", type=int, default=None,
                   help="transfers per sender (default: 25 clear, 3 tfhe)")
    p.add_argument("--latency", type=int, default=None,
                   help="single-sender transfers timed one by one (default: 20 clear, 5 tfhe)")
    p.add_argument("--decrypts", type=int, default=None,
                   help="user decryptions timed (default: 20 clear, 5 tfhe)")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args()
    tfhe = args.backend == "tfhe"
    transfers = args.transfers or (3 if tfhe else 25)
    latency_n = args.latency or (5 if tfhe else 20)
    decrypts = args.decrypts or (5 if tfhe else 20)

    node = None
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="fhevm-bench-") as tmp:
        url = args.url
        try:
            if url is None:
                if tfhe:  # what the node started here uses (as the pytest plugin does)
                    os.environ.setdefault("FHEVM_NODE_KEY_PARAMS", "INSECURE_TEST_PARAMS")
                t = time.perf_counter()
                node = start_node(Path(tmp) / "data", args.backend,
                                  timeout=1800 if tfhe else 120)
                url = node.url
                print(f"node ({args.backend}) ready in {time.perf_counter() - t:.1f} s at {url}")
            out = run(url, args.senders, transfers, latency_n, decrypts)
        finally:
            if node is not None:
                node.stop()
    if node is not None and out["backend"] == "tfhe":
        out["key_params"] = os.environ.get("FHEVM_NODE_KEY_PARAMS")
    out["loadavg_before"] = load_before
    out["loadavg_after"] = os.getloadavg()
    out["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    rows = [
        ("backend", out["backend"] + (f" ({out['key_params']})" if out["key_params"] else "")),
        (f"transfer latency, gas limit given (median / max of {latency_n})",
         f"{out['transfer_latency_ms_median']:.1f} / {out['transfer_latency_ms_max']:.1f} ms"),
        (f"transfer latency, web3 estimates gas (median / max of {latency_n})",
         f"{out['transfer_latency_estimate_gas_ms_median']:.1f} / "
         f"{out['transfer_latency_estimate_gas_ms_max']:.1f} ms"),
        (f"transfers/s, {out['senders']} senders x {transfers} (gas limit given)",
         f"{out['transfers_per_s']:.2f} ({out['concurrent_transfers']} in "
         f"{out['concurrent_wall_s']:.2f} s; median latency "
         f"{out['concurrent_latency_ms_median']:.1f} ms)"),
        ("gas per transfer (median, min-max)",
         f"{out['gas_per_transfer_median']:,} ({out['gas_per_transfer_min']:,}-"
         f"{out['gas_per_transfer_max']:,})"),
        ("HCU per transfer (" + out["hcu_source"].split(" (")[0].split(",")[0] + ")",
         f"{out['hcu_per_transfer']:,} (depth {out['hcu_depth_per_transfer']:,})"),
        (f"user decryption (median / max of {decrypts})",
         f"{out['user_decrypt_ms_median']:.1f} / {out['user_decrypt_ms_max']:.1f} ms"),
        ("mint (mean) / deploy", f"{out['mint_ms']:.1f} ms / {out['deploy_s'] * 1000:.0f} ms"),
        ("load average before / after", " / ".join(
            f"{a[0]:.2f}" for a in (out["loadavg_before"], out["loadavg_after"]))),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
