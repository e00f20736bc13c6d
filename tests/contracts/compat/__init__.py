"""Build the fixture contracts of this folder: Solidity written for the npm packages
@fhevm/solidity and @openzeppelin/confidential-contracts, compiled unchanged against
them or against our library (substituted under the same import paths)."""

from __future__ import annotations

from pathlib import Path

from contracts import build
from tests.contracts.solc_cache import compile_sources

COMPAT_DIR = Path(__file__).resolve().parent


def our_library_as_upstream() -> dict[str, str]:
    """Our lib/ and config/ under the import paths of the npm package."""
    sources = {}
    for folder in ("lib", "config"):
        for path in sorted((build.CONTRACTS_DIR / folder).glob("*.sol")):
            sources[f"@fhevm/solidity/{folder}/{path.name}"] = path.read_text()
    return sources


def compile_compat(name: str, include_dirs: list[Path], extra_sources=None) -> dict:
    """Artifact-like dict (abi, bytecode, ...) of contract <name> in <name>.sol."""
    sources = {f"{name}.sol": (COMPAT_DIR / f"{name}.sol").read_text(), **(extra_sources or {})}
    output = compile_sources(sources, include_dirs)
    (artifact,) = [a for a in build.artifacts_from_output(output, "").values()
                   if a["contractName"] == name]
    return artifact


class CompatBuilds:
    """Compiles each (contract, library) once per test session.

    library: "0.13.2" or "0.11.1" (the npm package) or "ours" (contracts/lib); the
    OpenZeppelin token always takes OpenZeppelin 0.5.3 from the 0.11.1 set, its peer.
    """

    def __init__(self, npm_dirs) -> None:
        self._npm_dirs = npm_dirs  # callable: set name -> node_modules (installs, or skips)
        self._cache: dict[tuple[str, str], dict] = {}

    def get(self, name: str, library: str) -> dict:
        key = (name, library)
        if key not in self._cache:
            oz = [self._npm_dirs("fhevm-0.11.1-oz")] if name == "CompatToken" else []
            if library == "ours":
                self._cache[key] = compile_compat(name, oz, our_library_as_upstream())
            elif library == "0.13.2":  # found first, so @fhevm/solidity is 0.13.2
                self._cache[key] = compile_compat(name, [self._npm_dirs("fhevm-0.13.2"), *oz])
            elif library == "0.11.1":
                self._cache[key] = compile_compat(name, [self._npm_dirs("fhevm-0.11.1-oz")])
            else:
                raise ValueError(f"unknown library {library!r}")
        return self._cache[key]
