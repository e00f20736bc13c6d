"""Our library speaks the protocol's ABI and offers the upstream library's API.

Compares, with our pinned solc, contracts/lib against the npm package @fhevm/solidity
(0.13.2 and 0.11.1): the selectors of the executor / ACL / input verifier / KMS verifier
interfaces our library calls, the FHE library's function signatures, errors and events,
the FheType numbering and the local-chain addresses. Skips if npm cannot fetch them.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contracts import build
from tests.contracts.solc_cache import compile_sources, repo_sources

INTERFACES = {  # interface -> file that declares it, in both libraries
    "IFHEVMExecutor": "lib/Impl.sol",
    "IACL": "lib/Impl.sol",
    "IInputVerifier": "lib/Impl.sol",
    "IKMSVerifier": "lib/FHE.sol",
}

ANALYSIS_SETTINGS = {
    "evmVersion": "prague",
    "outputSelection": {"*": {"*": ["abi", "evm.methodIdentifiers"], "": ["ast"]}},
}


def _compile(sources: dict[str, str], include_dirs: list[Path]) -> dict:
    return compile_sources(sources, include_dirs, ANALYSIS_SETTINGS)


def _library_api(output: dict, source: str) -> dict:
    """Interfaces' {signature: (selector, outputs)} and the FHE library's internal API."""
    prefix = source[: -len("lib/FHE.sol")]
    api = {"interfaces": {}, "functions": {}, "errors": set(), "events": set(), "enum": []}
    for name, file in INTERFACES.items():
        contracts = output["contracts"].get(prefix + file, {})
        if name in contracts:
            outputs = {
                f"{e['name']}({','.join(i['type'] for i in e['inputs'])})":
                    [o["type"] for o in e["outputs"]]
                for e in contracts[name]["abi"] if e["type"] == "function"
            }
            api["interfaces"][name] = {
                sig: (sel, outputs[sig])
                for sig, sel in contracts[name]["evm"]["methodIdentifiers"].items()
            }

    def type_of(param: dict) -> str:
        text = param["typeDescriptions"]["typeString"]
        return re.sub(r" (memory|calldata|storage ref|storage pointer)$", "", text)

    def walk(node):
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for src in output["sources"].values():
        for node in walk(src["ast"]):
            if node.get("nodeType") == "EnumDefinition" and node["name"] == "FheType":
                api["enum"] = [m["name"] for m in node["members"]]
            if node.get("nodeType") != "ContractDefinition" or node["name"] != "FHE":
                continue
            for member in node["nodes"]:
                kind = member["nodeType"]
                params = ",".join(type_of(p) for p in member.get("parameters", {})
                                  .get("parameters", []))
                signature = f"{member.get('name')}({params})"
                if kind == "FunctionDefinition" and member["visibility"] != "private":
                    returns = [type_of(p) for p in member["returnParameters"]["parameters"]]
                    api["functions"][signature] = (returns, member["stateMutability"])
                elif kind == "ErrorDefinition":
                    api["errors"].add(signature)
                elif kind == "EventDefinition":
                    api["events"].add(signature)
    return api


def _upstream(node_modules: Path) -> dict:
    package = node_modules / "@fhevm" / "solidity"
    source = "@fhevm/solidity/lib/FHE.sol"
    return _library_api(_compile({source: (package / "lib" / "FHE.sol").read_text()},
                                 [node_modules]), source)


def _ours() -> dict:
    source = "lib/FHE.sol"
    sources = {name.removeprefix("contracts/"): text
               for name, text in repo_sources("lib").items()}
    return _library_api(_compile(sources, []), source)


@pytest.fixture(scope="module")
def apis(fhevm_0_13_2, fhevm_0_11_1_oz) -> dict[str, dict]:
    """The three analyses, run side by side (each is one solc process)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        jobs = {"ours": pool.submit(_ours),
                "0.13.2": pool.submit(_upstream, fhevm_0_13_2),
                "0.11.1": pool.submit(_upstream, fhevm_0_11_1_oz)}
        return {name: job.result() for name, job in jobs.items()}


@pytest.fixture(scope="module")
def ours(apis) -> dict:
    return apis["ours"]


@pytest.fixture(scope="module")
def upstream(apis) -> dict[str, dict]:
    return {"0.13.2": apis["0.13.2"], "0.11.1": apis["0.11.1"]}


def test_interfaces_have_the_upstream_selectors(ours, upstream):
    for name in INTERFACES:
        union = {}
        for version, api in upstream.items():
            theirs = api["interfaces"][name]
            missing = set(theirs) - set(ours["interfaces"][name])
            assert not missing, f"{name} lacks {sorted(missing)} of {version}"
            union.update(theirs)
        # Nothing of our own: every function we call exists upstream, same selector and outputs.
        assert ours["interfaces"][name] == {sig: union[sig] for sig in ours["interfaces"][name]}
        assert set(ours["interfaces"][name]) == set(union), name


def test_library_offers_every_upstream_function(ours, upstream):
    for version, api in upstream.items():
        missing = sorted(set(api["functions"]) - set(ours["functions"]))
        assert not missing, f"FHE lacks {len(missing)} functions of {version}: {missing[:20]}"
        wrong = sorted(sig for sig, (returns, _) in api["functions"].items()
                       if ours["functions"][sig][0] != returns)
        assert not wrong, f"return types differ from {version}: {wrong[:20]}"
        mutability = sorted(sig for sig, (_, m) in api["functions"].items()
                            if ours["functions"][sig][1] != m)
        assert not mutability, f"view/pure differ from {version}: {mutability[:20]}"


# What our FHE library adds to upstream's: the decryption oracle of the devnet relayer
# (docs/kms.md) and nothing else besides encrypted division.
ORACLE_FUNCTIONS = {
    "requestDecryption(bytes32[],bytes4)",
    "checkSignatures(uint256,bytes,bytes)",
    "decryptionRequestHandles(uint256)",
    "isDecryptionRequestFulfilled(uint256)",
}
ORACLE_EVENTS = {"DecryptionRequested(uint256,bytes32[],bytes4)"}


def test_library_extensions_are_encrypted_division_and_the_oracle(ours, upstream):
    known = set().union(*(api["functions"] for api in upstream.values()))
    extra = set(ours["functions"]) - known
    assert ORACLE_FUNCTIONS <= extra, ORACLE_FUNCTIONS - extra
    division = sorted(extra - ORACLE_FUNCTIONS)
    assert all(re.fullmatch(r"(div|rem)\((euint\d+),\2\)", sig) for sig in division), division
    assert len(division) == 10  # div and rem of euint8 ... euint128 by an encrypted divisor


def test_errors_and_events(ours, upstream):
    for api in upstream.values():
        assert api["errors"] <= ours["errors"]
        assert api["events"] == ours["events"] - ORACLE_EVENTS


def test_fhe_type_numbering(ours, upstream):
    for api in upstream.values():
        assert api["enum"][: len(ours["enum"])] == ours["enum"]
    assert len(ours["enum"]) == 9


def test_local_config_addresses_match_upstream(fhevm_0_13_2, fhevm_0_11_1_oz):
    ours = (build.CONTRACTS_DIR / "config" / "ZamaConfig.sol").read_text()
    for node_modules in (fhevm_0_13_2, fhevm_0_11_1_oz):
        text = (node_modules / "@fhevm/solidity/config/ZamaConfig.sol").read_text()
        local = text[text.index("function _getLocalConfig"):]
        for role in ("ACLAddress", "CoprocessorAddress", "KMSVerifierAddress"):
            address = re.search(rf"{role}: (0x[0-9a-fA-F]{{40}})", local).group(1)
            assert f"{role}: {address}" in ours
