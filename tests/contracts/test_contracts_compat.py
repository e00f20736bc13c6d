"""Contracts written for @fhevm/solidity and OpenZeppelin's ERC-7984 compile unchanged.

Each fixture of compat/ is compiled with our pinned solc (prague, optimizer on):
  - against the npm packages themselves (@fhevm/solidity 0.13.2 and 0.11.1, OpenZeppelin
    confidential contracts 0.5.3), as a user of our devnet would build it;
  - against our own library, substituted for @fhevm/solidity (same import paths).
Both builds must call the protocol contracts at the devnet addresses. Running them is
tested by test_contracts_devnet.py (it needs the fhevm runtime).
"""

from __future__ import annotations

import pytest

DEVNET_ADDRESSES = (
    "50157cffd6bbfa2dece204a89ec419c23ef5755d",  # ACL
    "e3a9105a3a932253a70f126eb1e3b589c643dd24",  # executor
    "901f8942346f7ab3a01f6d7613119bca447bb030",  # KMS verifier
)


def _check(artifact: dict) -> set[str]:
    code = artifact["bytecode"].lower()
    assert len(code) > 1000
    for address in DEVNET_ADDRESSES:
        assert address in code, f"{artifact['contractName']} does not use {address}"
    return {e["name"] for e in artifact["abi"] if e["type"] == "function"}


@pytest.mark.parametrize("library", ["0.13.2", "0.11.1", "ours"])
def test_counter_compiles(compat_builds, library):
    functions = _check(compat_builds.get("CompatCounter", library))
    assert {"add", "addPlain", "reveal", "finishReveal", "confidentialProtocolId"} <= functions


@pytest.mark.parametrize("library", ["0.11.1", "0.13.2", "ours"])
def test_erc7984_token_compiles(compat_builds, library):
    functions = _check(compat_builds.get("CompatToken", library))
    assert {"confidentialTransfer", "confidentialBalanceOf", "confidentialTotalSupply"} <= functions
