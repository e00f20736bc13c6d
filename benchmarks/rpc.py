"""RPC throughput of fhevm-node (and hardhat's node, side by side, where npm installs it).

Measures, each against a fresh node:
  * plain ETH transfers per second: pre-signed raw transactions sent one after the
    other over one keep-alive HTTP connection, automine (one block per transaction);
  * eth_call per second on a deployed contract, same client;
  * 100 concurrent clients for 60 s (calls, balance reads, raw transfers): errors must be 0.

    python benchmarks/rpc.py                      # fhevm-node, plus hardhat if it installs
    python benchmarks/rpc.py --no-hardhat --seconds 20 --transfers 500
    python benchmarks/rpc.py --url http://127.0.0.1:8545   # an already running node
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"
KEYS = [Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key
        for i in range(10)]
CHAIN_ID = 31337
# runtime: return the 32-byte word 42 (PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN)
RUNTIME = "602a60005260206000f3"
INITCODE = "0x600a600c600039600a6000f3" + RUNTIME


class Client:
    """Minimal JSON-RPC client on one persistent HTTP/1.1 connection."""

    def __init__(self, url: str) -> None:
        u = urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.n = 0

    def call(self, method: str, params: list | None = None) -> object:
        self.n += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method,
                           "params": params or []})
        self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
        reply = json.loads(self.conn.getresponse().read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node exited with code {proc.returncode}")
        try:
            Client(url).call("eth_chainId")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("node did not start")


def start_fhevm_node(tmp: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "node", "start", "--port", str(port), "--backend", "clear",
         "--data-dir", os.path.join(tmp, "fhevm"), "--quiet"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    return url, proc


def start_hardhat(tmp: str) -> tuple[str, subprocess.Popen] | None:
    """`npx hardhat node` from a scratch npm project; None if npm cannot install it."""
    if shutil.which("npm") is None:
        return None
    proj = os.path.join(tmp, "hardhat")
    os.makedirs(proj)
    Path(proj, "package.json").write_text('{"name":"hh-bench","private":true}')
    Path(proj, "hardhat.config.js").write_text(
        "module.exports = { networks: { hardhat: { chainId: 31337 } } };\n")
    try:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                        "hardhat@^2.22"], cwd=proj, check=True, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (subprocess.SubprocessError, OSError):
        return None
    port = free_port()
    proc = subprocess.Popen(["npx", "hardhat", "node", "--port", str(port)], cwd=proj,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
    except RuntimeError:
        stop(proc)
        return None
    return url, proc


def group_cpu_seconds(pgid: int | None) -> float:
    """CPU time (user + system) of every process in a process group, from /proc: the
    node's own work, whatever else the machine is doing."""
    if pgid is None or not os.path.isdir("/proc"):
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: process group
            total += int(fields[11]) + int(fields[12])
    return total / tick


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def sign_transfers(key: bytes, start_nonce: int, n: int, to: str) -> list[str]:
    acct = Account.from_key(key)
    return ["0x" + bytes(acct.sign_transaction({
        "to": to, "value": 1, "gas": 21000, "maxFeePerGas": 100 * 10**9,
        "maxPriorityFeePerGas": 10**9, "nonce": start_nonce + i, "chainId": CHAIN_ID,
        "type": 2}).raw_transaction).hex() for i in range(n)]


def deploy(c: Client) -> str:
    acct = Account.from_key(KEYS[0])
    nonce = int(c.call("eth_getTransactionCount", [acct.address, "pending"]), 16)
    raw = acct.sign_transaction({"data": INITCODE, "gas": 200_000, "maxFeePerGas": 100 * 10**9,
                                 "maxPriorityFeePerGas": 10**9, "nonce": nonce,
                                 "chainId": CHAIN_ID, "type": 2}).raw_transaction
    h = c.call("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    for _ in range(100):
        r = c.call("eth_getTransactionReceipt", [h])
        if r:
            return r["contractAddress"]
        time.sleep(0.1)
    raise RuntimeError("deployment not mined")


def bench_transfers(url: str, n: int) -> float:
    c = Client(url)
    sender = Account.from_key(KEYS[1]).address
    nonce = int(c.call("eth_getTransactionCount", [sender, "pending"]), 16)
    raws = sign_transfers(KEYS[1], nonce, n, Account.from_key(KEYS[2]).address)
    t = time.perf_counter()
    for raw in raws:
        c.call("eth_sendRawTransaction", [raw])
    dt = time.perf_counter() - t
    final = int(c.call("eth_getTransactionCount", [sender, "latest"]), 16)
    assert final == nonce + n, f"only {final - nonce} of {n} transfers mined"
    return n / dt


def bench_calls(url: str, contract: str, n: int) -> float:
    c = Client(url)
    t = time.perf_counter()
    for _ in range(n):
        out = c.call("eth_call", [{"to": contract, "data": "0x"}, "latest"])
        assert int(out, 16) == 42
    return n / (time.perf_counter() - t)


async def concurrent(url: str, contract: str, clients: int, seconds: float) -> dict:
    """`clients` clients for `seconds`: each mixes eth_call, eth_getBalance and, for
    every tenth client, its own raw transfers. Every answer is checked."""
    import aiohttp

    c = Client(url)
    funder = Account.from_key(KEYS[3])
    accounts = [Account.create() for _ in range(clients // 10)]
    nonce = int(c.call("eth_getTransactionCount", [funder.address, "pending"]), 16)
    for i, a in enumerate(accounts):  # fund the senders
        raw = funder.sign_transaction({
            "to": a.address, "value": 10**18, "gas": 21000, "maxFeePerGas": 100 * 10**9,
            "maxPriorityFeePerGas": 10**9, "nonce": nonce + i, "chainId": CHAIN_ID,
            "type": 2}).raw_transaction
        c.call("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    per_sender = int(seconds * 20)
    signed = {a.address: sign_transfers(a.key, 0, per_sender, funder.address)
              for a in accounts}
    stats = {"requests": 0, "errors": 0, "transfers": 0}
    deadline = time.perf_counter() + seconds

    async def one(session: aiohttp.ClientSession, idx: int) -> None:
        sender = accounts[idx // 10].address if idx % 10 == 0 and accounts else None
        queue = list(signed[sender]) if sender else []
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            if sender and queue and i % 2 == 0:
                req = ("eth_sendRawTransaction", [queue.pop(0)])
            elif i % 3 == 0:
                req = ("eth_getBalance", [funder.address, "latest"])
            else:
                req = ("eth_call", [{"to": contract, "data": "0x"}, "latest"])
            body = {"jsonrpc": "2.0", "id": i, "method": req[0], "params": req[1]}
            try:
                async with session.post(url, json=body) as r:
                    reply = await r.json()
                ok = "result" in reply and (req[0] != "eth_call" or
                                            int(reply["result"], 16) == 42)
            except Exception:
                ok = False
            stats["requests"] += 1
            if not ok:
                stats["errors"] += 1
            elif req[0] == "eth_sendRawTransaction":
                stats["transfers"] += 1

    conn = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        t = time.perf_counter()
        await asyncio.gather(*(one(session, i) for i in range(clients)))
        stats["seconds"] = round(time.perf_counter() - t, 1)
    stats["requests_per_s"] = round(stats["requests"] / stats["seconds"], 1)
    return stats


def run_suite(name: str, url: str, args: argparse.Namespace, pgid: int | None = None) -> dict:
    c = Client(url)
    contract = deploy(c)
    bench_transfers(url, 50)  # warm-up
    cpu0 = group_cpu_seconds(pgid)
    transfers = bench_transfers(url, args.transfers)
    cpu1 = group_cpu_seconds(pgid)
    calls = bench_calls(url, contract, args.calls)
    cpu2 = group_cpu_seconds(pgid)
    res = {"node": name, "transfers_per_s": round(transfers, 1),
           "eth_call_per_s": round(calls, 1),
           "server_cpu_ms_per_transfer": round((cpu1 - cpu0) * 1000 / args.transfers, 3),
           "server_cpu_ms_per_call": round((cpu2 - cpu1) * 1000 / args.calls, 3)}
    if args.seconds > 0:
        res["concurrent"] = asyncio.run(concurrent(url, contract, args.clients, args.seconds))
    print(json.dumps(res), flush=True)
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="benchmark this running node instead of starting one")
    p.add_argument("--transfers", type=int, default=2000)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--no-hardhat", action="store_true")
    args = p.parse_args()
    results = []
    if args.url:
        results.append(run_suite("given", args.url, args))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url, proc = start_fhevm_node(tmp)
            try:
                results.append(run_suite("fhevm-node", url, args, proc.pid))
            finally:
                stop(proc)
            if not args.no_hardhat:
                hh = start_hardhat(tmp)
                if hh is None:
                    print(json.dumps({"node": "hardhat", "skipped": "npm could not install "
                                      "or start hardhat"}), flush=True)
                else:
                    try:
                        results.append(run_suite("hardhat", hh[0], args, hh[1].pid))
                    finally:
                        stop(hh[1])
    if len(results) == 2:
        f, h = results
        print(json.dumps({
            "transfers_ratio": round(f["transfers_per_s"] / h["transfers_per_s"], 2),
            "eth_call_ratio": round(f["eth_call_per_s"] / h["eth_call_per_s"], 2),
            # the same ratios in server CPU per operation, which machine load does not skew
            "transfers_cpu_ratio": round(h["server_cpu_ms_per_transfer"]
                                         / f["server_cpu_ms_per_transfer"], 2),
            "eth_call_cpu_ratio": round(h["server_cpu_ms_per_call"]
                                        / f["server_cpu_ms_per_call"], 2)}))
    errors = sum(r.get("concurrent", {}).get("errors", 0) for r in results)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
