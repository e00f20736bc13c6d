"""Compile the Solidity sources under contracts/ into JSON artifacts.

    python -m contracts.build            # (re)write contracts/artifacts/*.json
    python contracts/build.py --out DIR  # write somewhere else (the staleness test does)

The compiler is the npm `solc` pinned in package.json (run `npm install` first); we talk
to it through its standard-JSON interface (contracts/solc_standard_json.js). Settings are
fixed here: EVM version prague, optimizer on. Every contract, library and interface in
lib/, config/, test/, token/ and apps/ gets an artifact `<Name>.json` with its ABI,
creation bytecode and runtime bytecode (interfaces have empty bytecode; their ABI is what
matters).

This module only uses the standard library so that any part of the project may import it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONTRACTS_DIR.parent
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"
SOLC_SCRIPT = CONTRACTS_DIR / "solc_standard_json.js"

# Folders of contracts/ whose .sol files are compiled; source unit names are their paths
# relative to contracts/ (e.g. "lib/FHE.sol"), so artifacts do not depend on the checkout.
SOURCE_FOLDERS = ("lib", "config", "test", "token", "apps")

SETTINGS: dict = {
    "evmVersion": "prague",
    "optimizer": {"enabled": True, "runs": 200},
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
    },
}


class CompileError(RuntimeError):
    """solc reported errors (the message lists them)."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise CompileError("node is not installed; it is needed to run the npm solc")
    if not (REPO_ROOT / "node_modules" / "solc").is_dir():
        raise CompileError("npm solc is missing: run `npm install` in the repository root")
    return node


def solc_version() -> str:
    """The version string of the pinned npm solc, e.g. '0.8.30+commit.73712a01.Emscripten.clang'."""
    out = subprocess.run(
        [_node(), str(SOLC_SCRIPT), "--version"],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT,
    )
    return out.stdout.strip()


def run_solc(standard_input: dict, include_dirs: list[Path] | tuple[Path, ...] = ()) -> dict:
    """Run solc on a standard-JSON input; raise CompileError if it reports any error."""
    proc = subprocess.run(
        [_node(), str(SOLC_SCRIPT), *map(str, include_dirs)],
        input=json.dumps(standard_input), capture_output=True, text=True, cwd=REPO_ROOT,
    )
    if proc.returncode != 0:
        raise CompileError(f"solc wrapper failed ({proc.returncode}): {proc.stderr.strip()}")
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output


def source_files() -> list[str]:
    """Source unit names (relative to contracts/) of everything we compile, sorted."""
    names = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((CONTRACTS_DIR / folder).rglob("*.sol")):
            names.append(path.relative_to(CONTRACTS_DIR).as_posix())
    return names


def standard_input(names: list[str] | None = None) -> dict:
    names = source_files() if names is None else names
    return {
        "language": "Solidity",
        "sources": {n: {"content": (CONTRACTS_DIR / n).read_text()} for n in names},
        "settings": SETTINGS,
    }


def artifacts_from_output(output: dict, version: str) -> dict[str, dict]:
    """One artifact per contract name; two contracts with one name are an error."""
    artifacts: dict[str, dict] = {}
    for source_name, contracts in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(contracts.items()):
            if name in artifacts:
                raise CompileError(
                    f"contract name {name} is defined in both "
                    f"{artifacts[name]['sourceName']} and {source_name}"
                )
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "compiler": {"version": version, "settings": {
                    k: v for k, v in SETTINGS.items() if k != "outputSelection"
                }},
                "abi": data["abi"],
                "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def compile_all() -> dict[str, dict]:
    """Compile every source of contracts/ and return {contract name: artifact}."""
    return artifacts_from_output(run_solc(standard_input()), solc_version())


def write_artifacts(artifacts: dict[str, dict], out_dir: Path) -> None:
    """Replace the *.json files of out_dir with the given artifacts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.json"):
        if old.stem not in artifacts:
            old.unlink()
    for name, artifact in artifacts.items():
        (out_dir / f"{name}.json").write_text(json.dumps(artifact, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR,
                        help="artifact directory (default: contracts/artifacts)")
    args = parser.parse_args(argv)
    try:
        artifacts = compile_all()
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    write_artifacts(artifacts, args.out)
    print(f"wrote {len(artifacts)} artifacts to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
