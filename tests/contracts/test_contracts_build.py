"""contracts/: generated sources and committed artifacts are current; the loader works."""

from __future__ import annotations

import json
import re

import pytest
from eth_utils import keccak

from contracts import artifact_names, build, codegen, load_artifact, load_bytecode
from contracts.artifacts import ARTIFACTS_DIR

ARCHITECTURE_TYPE_CODES = {  # ARCHITECTURE.md, "Handles"
    "Bool": 0, "Uint4": 1, "Uint8": 2, "Uint16": 3, "Uint32": 4,
    "Uint64": 5, "Uint128": 6, "Uint160": 7, "Uint256": 8,
}


def test_generated_sources_are_current():
    stale = [
        rel for rel, content in codegen.render_all().items()
        if not (build.CONTRACTS_DIR / rel).is_file()
        or (build.CONTRACTS_DIR / rel).read_text() != content
    ]
    assert not stale, f"run `python -m contracts.codegen` (stale: {', '.join(stale)})"


@pytest.fixture(scope="module")
def fresh_artifacts() -> dict[str, dict]:
    """Everything compiled again from the sources on disk."""
    return build.compile_all()


def test_artifacts_are_current(fresh_artifacts):
    committed = set(artifact_names())
    assert committed == set(fresh_artifacts), (
        "run `python -m contracts.build`: artifacts differ in names "
        f"(missing {sorted(set(fresh_artifacts) - committed)}, "
        f"extra {sorted(committed - set(fresh_artifacts))})"
    )
    stale = []
    for name, fresh in fresh_artifacts.items():
        old = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        if any(old[key] != fresh[key] for key in ("abi", "bytecode", "deployedBytecode",
                                                  "sourceName", "compiler")):
            stale.append(name)
    assert not stale, f"run `python -m contracts.build` (stale: {', '.join(stale)})"


def test_solc_is_the_pinned_version():
    pinned = json.loads((build.REPO_ROOT / "package.json").read_text())["devDependencies"]["solc"]
    assert build.solc_version().startswith(pinned + "+")
    assert build.SETTINGS["evmVersion"] == "prague"


def test_compile_error_is_reported():
    bad = {"language": "Solidity", "settings": build.SETTINGS,
           "sources": {"Bad.sol": {"content": "pragma solidity ^0.8.24; contract Bad { x }"}}}
    with pytest.raises(build.CompileError, match="Bad.sol"):
        build.run_solc(bad)


def test_loader():
    artifact = load_artifact("FHETestEuint64")
    assert artifact["contractName"] == "FHETestEuint64"
    assert artifact["sourceName"] == "test/FHETestEuint64.sol"
    assert load_bytecode("FHETestEuint64").hex() == artifact["bytecode"][2:]
    assert len(load_bytecode("FHETestEuint64", deployed=True)) < 24576  # EIP-170
    with pytest.raises(FileNotFoundError, match="no artifact"):
        load_artifact("NoSuchContract")


def test_every_deployable_contract_fits_eip170():
    for name in artifact_names():
        size = len(load_bytecode(name, deployed=True))
        assert size <= 24576, f"{name} runtime code is {size} bytes"


def test_fhe_type_codes_match_architecture():
    source = (build.CONTRACTS_DIR / "lib" / "FheType.sol").read_text()
    body = source[source.index("enum FheType {") + len("enum FheType {"): source.index("}")]
    members = [re.sub(r"//.*", "", line).strip(" ,") for line in body.splitlines()]
    members = [m for m in members if m]
    assert {m: i for i, m in enumerate(members)} == ARCHITECTURE_TYPE_CODES
    assert codegen.FHE_TYPE_CODES == {
        "ebool": 0, "euint8": 2, "euint16": 3, "euint32": 4, "euint64": 5,
        "euint128": 6, "eaddress": 7, "euint256": 8,
    }


def test_config_slot_is_erc7201_of_the_protocol_namespace():
    namespace = int.from_bytes(keccak(text="confidential.storage.config"), "big") - 1
    slot = int.from_bytes(keccak(namespace.to_bytes(32, "big")), "big") & ~0xFF
    source = (build.CONTRACTS_DIR / "lib" / "Impl.sol").read_text()
    assert f"CONFIG_SLOT = 0x{slot:064x};" in source


def test_devnet_addresses_in_config():
    source = (build.CONTRACTS_DIR / "config" / "ZamaConfig.sol").read_text()
    for role, address in {
        "ACLAddress": "0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D",
        "CoprocessorAddress": "0xe3a9105a3a932253A70F126eb1E3b589C643dD24",
        "KMSVerifierAddress": "0x901F8942346f7AB3a01F6D7613119Bca447Bb030",
    }.items():
        assert f"{role}: {address}" in source
    assert "DEVNET_CHAIN_ID = 31337" in source


def test_harness_interfaces():
    """The functions the Python conformance tests rely on (see each contract's comment)."""
    common = {"binary", "binaryScalar", "binaryScalarLeft", "binaryHandles", "select",
              "encrypt", "input", "lastResult", "confidentialProtocolId"}
    extra = {
        "ebool": {"unary", "cast", "rand"},
        "eaddress": {"isIn"},
        "euint256": {"unary", "cast", "rand", "randBounded", "isIn"},
    }
    for t in codegen.TYPES:
        abi = load_artifact(f"FHETest{t.cap}")["abi"]
        functions = {e["name"] for e in abi if e["type"] == "function"}
        expected = common | extra.get(
            t.name, {"unary", "cast", "rand", "randBounded", "sum", "isIn"})
        assert functions == expected, t.name
        assert {e["name"] for e in abi if e["type"] == "event"} >= {"Result"}
