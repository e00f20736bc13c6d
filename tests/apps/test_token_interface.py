"""Our ERC-7984 contracts expose OpenZeppelin's confidential-contracts 0.5.3 interface:
every function, event and ERC7984* error of OZ's ERC7984 and ERC7984ERC20Wrapper (compiled
from the npm package, cached under .cache/) is in our ABIs, with the same signatures.
Skips when npm or its registry is unreachable."""

from __future__ import annotations

import pytest

from contracts import load_artifact

OZ = "@openzeppelin/confidential-contracts"
# OZ's wrapper also takes ERC-1363 transferAndCall deposits and reports supply bounds;
# ours wraps through approve + wrap only.
WRAPPER_NOT_OFFERED = {"onTransferReceived(address,address,uint256,bytes)",
                       "inferredTotalSupply()", "maxTotalSupply()"}


def signatures(abi: list[dict]) -> set[str]:
    def typ(p: dict) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in p["components"]) + ")" + p["type"][5:]
        return p["type"]

    out = set()
    for e in abi:
        if e["type"] in ("function", "event", "error"):
            if e["type"] == "error" and not e["name"].startswith("ERC7984"):
                continue  # the FHE library's own errors differ between libraries
            args = ",".join(typ(p) for p in e["inputs"])
            out.add(f"{e['type']} {e['name']}({args})")
    return out


@pytest.fixture(scope="module")
def oz_abis() -> dict[str, list]:
    from tests.contracts.conftest import npm_install
    from tests.contracts.solc_cache import compile_sources

    modules = npm_install("fhevm-0.11.1-oz")
    units = {f"{OZ}/token/ERC7984/ERC7984.sol": "ERC7984",
             f"{OZ}/token/ERC7984/extensions/ERC7984ERC20Wrapper.sol": "ERC7984ERC20Wrapper",
             f"{OZ}/interfaces/IERC7984Receiver.sol": "IERC7984Receiver"}
    sources = {u: (modules / u).read_text() for u in units}
    output = compile_sources(sources, [modules])
    return {name: output["contracts"][u][name]["abi"] for u, name in units.items()}


def test_token_has_ozs_erc7984_interface(oz_abis):
    ours = signatures(load_artifact("ConfidentialTokenBase")["abi"])
    missing = signatures(oz_abis["ERC7984"]) - ours
    assert not missing, missing


def test_wrapper_has_ozs_wrapper_interface(oz_abis):
    ours = signatures(load_artifact("ERC20Wrapper")["abi"])
    missing = {s for s in signatures(oz_abis["ERC7984ERC20Wrapper"]) - ours
               if s.split(" ", 1)[1] not in WRAPPER_NOT_OFFERED}
    assert not missing, missing


def test_receiver_interface_matches(oz_abis):
    assert signatures(load_artifact("IERC7984Receiver")["abi"]) == signatures(
        oz_abis["IERC7984Receiver"])
