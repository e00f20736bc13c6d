"""Public decryption of values a block has just made public, on a running tfhe node.

    python benchmarks/public_reveal.py --url http://127.0.0.1:8545 [--waits 0,4] [--json PATH]

For each wait: deploy ConfidentialVoting, cast one encrypted vote, move the clock to the
deadline, `requestReveal()` (which makes both euint32 tallies publicly decryptable), wait,
then time `client.public_decrypt` of both tallies through the KMS parties. The node squashes
handles made public as their block is mined (node.kms.presquash): asked at once, the
decryption waits for that squash; asked later, it finds them cached and costs the threshold
protocol alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web3 import Web3  # noqa: E402

from contracts import load_artifact  # noqa: E402
from fhevm.client import FhevmClient  # noqa: E402


def _send(w3: Web3, fn, sender: str) -> None:
    r = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}), timeout=600,
                                            poll_latency=0.005)
    if r["status"] != 1:
        raise RuntimeError("transaction reverted")


def reveal_ms(w3: Web3, client: FhevmClient, wait_s: float) -> float:
    owner, voter = w3.eth.accounts[:2]
    art = load_artifact("ConfidentialVoting")
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = factory.constructor("benchmark", 600).transact({"from": owner})
    addr = w3.eth.wait_for_transaction_receipt(tx, timeout=600)["contractAddress"]
    poll = w3.eth.contract(address=addr, abi=art["abi"])
    enc = client.create_input(addr, voter).add_bool(True).encrypt()
    _send(w3, poll.functions.vote(enc.handles[0], enc.input_proof), voter)
    w3.provider.make_request("evm_setNextBlockTimestamp", [poll.functions.deadline().call()])
    w3.provider.make_request("evm_mine", [])
    _send(w3, poll.functions.requestReveal(), voter)
    time.sleep(wait_s)
    handles = [poll.functions.yesTally().call(), poll.functions.noTally().call()]
    t = time.perf_counter()
    result = client.public_decrypt(handles)
    ms = (time.perf_counter() - t) * 1000
    if list(result.values) != [1, 0]:
        raise RuntimeError(f"wrong tallies {result.values}")
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8545")
    ap.add_argument("--waits", default="0,4", help="seconds between reveal and request")
    ap.add_argument("--json")
    args = ap.parse_args()
    w3 = Web3(Web3.HTTPProvider(args.url, request_kwargs={"timeout": 600}))
    client = FhevmClient(w3)
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "url": args.url,
           "backend": client.backend, "values": "two euint32 tallies", "runs": []}
    for wait in (float(x) for x in args.waits.split(",")):
        ms = reveal_ms(w3, client, wait)
        out["runs"].append({"wait_s": wait, "public_decrypt_ms": round(ms, 1)})
        print(f"asked {wait:g} s after the reveal block: public decryption {ms:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
