"""The examples run against a devnet node and say what they should (clear backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, url: str) -> str:
    env = dict(os.environ, FHEVM_RPC_URL=url)
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_confidential_token_example(fhevm_node):
    out = _run("confidential_token.py", fhevm_node.url)
    assert "Alice has 700, Bob has 300" in out
    assert "moved nothing, and he still has 300" in out
    assert "refused" in out and "must not happen" not in out


def test_erc20_wrapper_example(fhevm_node):
    out = _run("erc20_wrapper.py", fhevm_node.url)
    assert "before: public GOLD balances: Alice 1000, Bob 0, wrapper 0" in out
    assert "after wrapping: cGOLD balances, each decrypted by its owner: Alice 400, Bob 0" in out
    assert ("after the transfer: cGOLD balances, each decrypted by its owner: Alice 250, "
            "Bob 150") in out
    assert "The KMS decrypted the burnt amount for everyone: 100 cGOLD" in out
    assert "Claiming 400 with that proof is rejected on chain (KMSInvalidSigner)" in out
    assert "released 100 GOLD to Bob" in out
    assert "after: public GOLD balances: Alice 600, Bob 100, wrapper 300" in out
    assert "after: cGOLD balances, each decrypted by its owner: Alice 250, Bob 50" in out


def test_sealed_bid_auction_example(fhevm_node):
    out = _run("sealed_bid_auction.py", fhevm_node.url)
    assert "Alice reads back 500" in out
    assert "the seller asking the KMS for it is refused: DecryptionRefused" in out
    assert "before the end: rejected (AuctionNotEnded)" in out
    assert "A late bid from Alice is rejected (AuctionEnded)" in out
    assert "The winner is Bob with a bid of 800" in out
    assert "must not happen" not in out


def test_confidential_voting_example(fhevm_node):
    out = _run("confidential_voting.py", fhevm_node.url)
    assert "the chain shows that 5 have voted" in out
    assert "Bob tries to vote a second time: refused (AlreadyVoted)" in out
    assert "running yes count is refused: DecryptionRefused" in out
    assert "before the deadline: rejected (VotingOpen)" in out
    assert "(0 yes, 5 no) with that proof is rejected (KMSInvalidSigner)" in out
    assert "Result: 3 yes, 2 no: the proposal passes" in out
    assert "must not happen" not in out
