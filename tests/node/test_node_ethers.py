"""ethers v6 (npm) talks to the node: deploy, call, logs, revert reasons."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"


def _ethers_installed() -> bool:
    if (JS / "node_modules" / "ethers").exists():
        return True
    if shutil.which("npm") is None:
        return False
    try:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock",
                        "--silent"], cwd=JS, check=True, timeout=300,
                       capture_output=True)
    except (subprocess.SubprocessError, OSError):
        return False
    return (JS / "node_modules" / "ethers").exists()


def test_ethers_v6_script(node_url: str) -> None:
    if shutil.which("node") is None or not _ethers_installed():
        pytest.skip("node/npm or the ethers package is not available on this machine")
    out = subprocess.run(["node", "ethers_smoke.mjs", node_url], cwd=JS, text=True,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] is True
