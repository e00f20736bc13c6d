"""Load the compiled contracts of contracts/artifacts/ (written by `python -m contracts.build`).

    from contracts.artifacts import load_artifact
    fhe_test = load_artifact("FHETestEuint64")
    fhe_test["abi"], fhe_test["bytecode"], fhe_test["deployedBytecode"]   # "0x..." hex strings

Standard library only, so that any part of the project (fhevm/, node/, tests) can use it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"


def artifact_names() -> list[str]:
    """Names of all committed artifacts (contracts, libraries, interfaces), sorted."""
    return sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))


@cache
def _load(name: str) -> str:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no artifact {name!r} in {ARTIFACTS_DIR} (known: {', '.join(artifact_names())})"
        )
    return path.read_text()


def load_artifact(name: str) -> dict:
    """The artifact of contract `name`: contractName, sourceName, compiler, abi, bytecode,
    deployedBytecode. A fresh dict each call (callers may modify it)."""
    return json.loads(_load(name))


def load_abi(name: str) -> list:
    return load_artifact(name)["abi"]


def load_bytecode(name: str, deployed: bool = False) -> bytes:
    """Creation bytecode (or runtime bytecode with deployed=True) as bytes."""
    artifact = load_artifact(name)
    return bytes.fromhex(artifact["deployedBytecode" if deployed else "bytecode"][2:])
