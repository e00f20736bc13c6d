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
