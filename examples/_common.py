"""Shared set-up for the examples: connect to a running fhevm-node and deploy artifacts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web3 import Web3  # noqa: E402

from contracts import load_artifact  # noqa: E402
from fhevm.client import FhevmClient  # noqa: E402

RPC_URL = os.environ.get("FHEVM_RPC_URL", "http://127.0.0.1:8545")


def connect() -> tuple[Web3, FhevmClient]:
    w3 = Web3(Web3.HTTPProvider(RPC_URL, request_kwargs={"timeout": 600}))
    if not w3.is_connected():
        sys.exit(f"No node at {RPC_URL}: start one with `make devnet` (or "
                 "`make devnet ARGS=\"--backend clear\"`) in another terminal.")
    client = FhevmClient(w3)
    print(f"connected to {RPC_URL}: chain {w3.eth.chain_id}, "
          f"FHE backend '{client.backend}'")
    return w3, client


def deploy(w3: Web3, name: str, sender: str, *args):
    """Deploy a compiled contract from contracts/artifacts and return it."""
    art = load_artifact(name)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": sender}))
    return w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])


def send(w3: Web3, fn, sender: str):
    """Send a transaction and wait for it; returns the receipt."""
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
    if receipt.status != 1:
        sys.exit(f"transaction reverted: {fn.fn_name}")
    return receipt


def revert_error(contract, fn, sender: str) -> str | None:
    """Dry-run `fn` from `sender` (eth_call): None if it would succeed, else the name of the
    custom error it reverts with, e.g. "AuctionNotEnded", decoded with the contract's ABI
    (or as the node names it)."""
    from eth_utils import keccak
    from web3.exceptions import ContractLogicError

    try:
        fn.call({"from": sender})
        return None
    except ContractLogicError as exc:
        data = exc.data if isinstance(exc.data, str) else ""
        for item in contract.abi:
            if item.get("type") == "error":
                types = ",".join(i["type"] for i in item["inputs"])
                selector = keccak(text=f"{item['name']}({types})")[:4].hex()
                if data.removeprefix("0x").startswith(selector):
                    return item["name"]
        message = (exc.message or "reverted").removeprefix("execution reverted: ")
        return message.split(":")[0]  # e.g. "KMSInvalidSigner" raised by another contract


def advance_time_to(w3: Web3, timestamp: int) -> None:
    """Move the devnet's clock: mine an empty block at `timestamp` (or just after the head,
    if that is later), with the node's evm_setNextBlockTimestamp and evm_mine."""
    head = w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("evm_setNextBlockTimestamp", [max(timestamp, head + 1)])
    w3.provider.make_request("evm_mine", [])
