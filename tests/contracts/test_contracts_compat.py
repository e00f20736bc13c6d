"""Contracts written for @fhevm/solidity and OpenZeppelin's ERC-7984 compile unchanged.

Each fixture of compat/ is compiled with our pinned solc (prague, optimizer on):
  - against the npm packages themselves (@fhevm/solidity 0.13.2 and 0.11.1, OpenZeppelin
    confidential contracts 0.5.3), as a user of our devnet would build it;
  - against our own library, substituted for @fhevm/solidity (same import paths).
Both builds must call the protocol contracts at the devnet addresses. Deploying them is
tested by test_contracts_devnet.py (it needs the fhevm runtime).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import build

COMPAT_DIR = Path(__file__).resolve().parent / "compat"
DEVNET_ADDRESSES = (
    "50157cffd6bbfa2dece204a89ec419c23ef5755d",  # ACL
    "e3a9105a3a932253a70f126eb1e3b589c643dd24",  # executor
    "901f8942346f7ab3a01f6d7613119bca447bb030",  # KMS verifier
)


def our_library_as_upstream() -> dict[str, str]:
    """Our lib/ and config/ under the import paths of the npm package."""
    sources = {}
    for folder in ("lib", "config"):
        for path in sorted((build.CONTRACTS_DIR / folder).glob("*.sol")):
            sources[f"@fhevm/solidity/{folder}/{path.name}"] = path.read_text()
    return sources


def compile_compat(name: str, include_dirs: list[Path], extra_sources=None) -> dict:
    """Artifact-like dict (abi, bytecode) of compat/<name>.sol's contract <name>."""
    sources = {f"{name}.sol": (COMPAT_DIR / f"{name}.sol").read_text(), **(extra_sources or {})}
    output = build.run_solc(
        {
            "language": "Solidity",
            "sources": {k: {"content": v} for k, v in sources.items()},
            "settings": build.SETTINGS,
        },
        include_dirs,
    )
    (artifact,) = [a for a in build.artifacts_from_output(output, "").values()
                   if a["contractName"] == name]
    return artifact


def _check(artifact: dict) -> None:
    code = artifact["bytecode"].lower()
    assert len(code) > 1000
    for address in DEVNET_ADDRESSES:
        assert address in code, f"{artifact['contractName']} does not use {address}"


@pytest.mark.parametrize("library", ["0.13.2", "0.11.1", "ours"])
def test_counter_compiles(library, fhevm_0_13_2, fhevm_0_11_1_oz):
    if library == "ours":
        artifact = compile_compat("CompatCounter", [], our_library_as_upstream())
    else:
        node_modules = fhevm_0_13_2 if library == "0.13.2" else fhevm_0_11_1_oz
        artifact = compile_compat("CompatCounter", [node_modules])
    _check(artifact)
    functions = {e["name"] for e in artifact["abi"] if e["type"] == "function"}
    assert {"add", "addPlain", "reveal", "finishReveal", "confidentialProtocolId"} <= functions


@pytest.mark.parametrize("library", ["0.11.1", "0.13.2", "ours"])
def test_erc7984_token_compiles(library, fhevm_0_13_2, fhevm_0_11_1_oz):
    if library == "ours":
        artifact = compile_compat("CompatToken", [fhevm_0_11_1_oz], our_library_as_upstream())
    elif library == "0.13.2":  # @fhevm/solidity found first in the 0.13.2 set
        artifact = compile_compat("CompatToken", [fhevm_0_13_2, fhevm_0_11_1_oz])
    else:
        artifact = compile_compat("CompatToken", [fhevm_0_11_1_oz])
    _check(artifact)
    functions = {e["name"] for e in artifact["abi"] if e["type"] == "function"}
    assert {"confidentialTransfer", "confidentialBalanceOf", "confidentialTotalSupply"} <= functions
