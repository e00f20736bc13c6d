"""Shared helpers of the tests of contracts/: the repository on sys.path, npm packages.

Upstream npm packages (@fhevm/solidity, OpenZeppelin) are installed once into
.cache/contracts-npm/ (git-ignored) and reused; tests that need them skip, saying why,
when npm or the registry is unreachable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

NPM_CACHE = REPO_ROOT / ".cache" / "contracts-npm"

# name -> npm install arguments; each set goes into its own node_modules.
NPM_SETS = {
    "fhevm-0.13.2": ["@fhevm/solidity@0.13.2"],
    "fhevm-0.11.1-oz": [
        "@fhevm/solidity@0.11.1",
        "@openzeppelin/confidential-contracts@0.5.3",
        "@openzeppelin/contracts@^5.6.1",
        "@openzeppelin/contracts-upgradeable@^5.6.1",
    ],
}


def npm_install(name: str) -> Path:
    """node_modules of an NPM_SETS entry, installed on first use; skips if impossible.

    Installs into a private folder, then renames it into place, so that test sessions
    running at the same time never see a half-installed set."""
    packages = NPM_SETS[name]
    target = NPM_CACHE / name
    if _installed(target, packages):
        return target / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch upstream Solidity packages")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=NPM_CACHE))
    try:
        (work / "package.json").write_text('{"private": true}\n')
        try:
            proc = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", *packages],
                cwd=work, capture_output=True, text=True, timeout=120,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install {' '.join(packages)} timed out (registry unreachable?)")
        if proc.returncode != 0:
            pytest.skip(f"npm install {' '.join(packages)} failed (registry unreachable?): "
                        f"{proc.stderr.strip()[-500:]}")
        (work / "installed.json").write_text(json.dumps(packages))
        if target.exists() and not _installed(target, packages):
            shutil.rmtree(target, ignore_errors=True)  # an older set
        try:
            work.rename(target)
        except OSError:
            if not _installed(target, packages):  # another session won the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "node_modules"


def _installed(target: Path, packages: list[str]) -> bool:
    stamp = target / "installed.json"
    return stamp.is_file() and json.loads(stamp.read_text()) == packages


@pytest.fixture(scope="session")
def fhevm_0_13_2() -> Path:
    """node_modules with @fhevm/solidity 0.13.2 (and encrypted-types)."""
    return npm_install("fhevm-0.13.2")


@pytest.fixture(scope="session")
def fhevm_0_11_1_oz() -> Path:
    """node_modules with @fhevm/solidity 0.11.1 and OpenZeppelin confidential contracts 0.5.3."""
    return npm_install("fhevm-0.11.1-oz")


@pytest.fixture(scope="session")
def compat_builds():
    """tests.contracts.compat.CompatBuilds: fixture contracts compiled once per session."""
    from tests.contracts.compat import CompatBuilds

    return CompatBuilds(npm_install)
