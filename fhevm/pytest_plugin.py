"""pytest plugin of the fhEVM devnet (entry point `pytest11: fhevm`), as convenient as
hardhat's fixtures.

Fixtures (session scope, so one node serves a whole test run):

    fhevm_node       a devnet node (`python -m node start`) in a temporary directory,
                     stopped at the end; .url, .backend, .data_dir, .log_path
    fhevm_w3         web3.Web3 on it
    fhevm_accounts   the 10 funded dev accounts (eth_account LocalAccount; the node also
                     holds them unlocked, so `.transact({"from": a.address})` works)
    fhevm_client     fhevm.client.FhevmClient on fhevm_w3
    fhevm_deploy     deploy(source, *ctor_args, name=None, sender=None) -> web3 contract:
                     compiles a Solidity file path or source text that imports the FHE
                     library (`@fhevm/solidity/lib/FHE.sol`, `@fhevm/solidity/config/
                     ZamaConfig.sol`, or `lib/FHE.sol`) with the pinned solc, deploys it;
                     a bare name ("ConfidentialToken") deploys a committed artifact
    fhevm_decrypt    decrypt(handle_or_handles, contract, account=None) -> typed value(s)
                     by user decryption (default account: fhevm_accounts[0])

Options:
    --fhevm-backend {clear,tfhe}   backend of the node (default clear)
    --fhevm-node-url URL           use a running node instead of starting one
    --fhevm-node-timeout SECONDS   how long the node may take to start (default 120; tfhe
                                   generates keys on first start)
For the tfhe backend, the environment variable FHEVM_NODE_KEY_PARAMS (default here
INSECURE_TEST_PARAMS, fast and insecure) chooses the key parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TEST_MNEMONIC = "test test test test test test test test test test test junk"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("fhevm", "fhEVM devnet fixtures")
    g.addoption("--fhevm-backend", choices=("clear", "tfhe"), default="clear",
                help="FHE backend of the fhevm_node fixture (default: clear)")
    g.addoption("--fhevm-node-url", default=None,
                help="use the fhEVM node at this URL instead of starting one")
    g.addoption("--fhevm-node-timeout", type=float, default=None,
                help="seconds the node may take to start (default: 120, tfhe: 600)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_range(n: int = 4) -> int:
    """A base port with n free ports after it (the tfhe node's KMS parties; tests and
    benchmarks that start parties of their own use it too)."""
    for _ in range(100):
        base = random.randrange(20000, 60000)
        try:
            for p in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range for the KMS parties")


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 5) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


@dataclass
class FhevmNode:
    """A devnet node the fixtures talk to (started here, or given by --fhevm-node-url)."""

    url: str
    backend: str
    data_dir: Path | None = None
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def start_node(data_dir: Path, backend: str = "clear", timeout: float = 120,
               extra_args: tuple[str, ...] = ()) -> FhevmNode:
    """Start `python -m node start` on a free port; wait until it answers JSON-RPC."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = data_dir.parent / f"fhevm-node-{port}.log"
    env = dict(os.environ)
    if backend == "tfhe":
        env.setdefault("FHEVM_NODE_KEY_PARAMS", "INSECURE_TEST_PARAMS")
        env.setdefault("FHEVM_NODE_KMS_BASE_PORT", str(free_port_range()))
    cmd = [sys.executable, "-m", "node", "start", "--port", str(port), "--data-dir",
           str(data_dir), "--backend", backend, "--quiet", *extra_args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    node = FhevmNode(f"http://127.0.0.1:{port}", backend, data_dir, log_path, proc)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"fhevm-node exited with code {proc.returncode} while "
                               f"starting:\n{node.log()[-3000:]}")
        try:
            _rpc(node.url, "eth_chainId", timeout=2)
            if backend != "tfhe" or _kms_ready(node.url):
                return node
        except OSError:
            pass
        if time.monotonic() > deadline:
            node.stop()
            raise RuntimeError(f"fhevm-node was not ready within {timeout:.0f} s:\n"
                               f"{node.log()[-3000:]}")
        time.sleep(0.2)


def _kms_ready(url: str) -> bool:
    """The tfhe node's KMS parties answer (they start after the node)."""
    info = _rpc(url, "fhevm_nodeInfo", timeout=10).get("result") or {}
    parties = (info.get("kms") or {}).get("parties") or []
    return all(_alive(u) for u in parties if isinstance(u, str))


@pytest.fixture(scope="session")
def fhevm_node(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhevmNode]:
    cfg = request.config
    backend = cfg.getoption("--fhevm-backend")
    url = cfg.getoption("--fhevm-node-url")
    if url:
        yield FhevmNode(url, backend)
        return
    timeout = cfg.getoption("--fhevm-node-timeout") or (600 if backend == "tfhe" else 120)
    node = start_node(tmp_path_factory.mktemp("fhevm-devnet") / "data", backend, timeout)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def fhevm_w3(fhevm_node: FhevmNode) -> Any:
    from web3 import Web3

    return Web3(Web3.HTTPProvider(fhevm_node.url, request_kwargs={"timeout": 600}))


@pytest.fixture(scope="session")
def fhevm_accounts(fhevm_w3: Any) -> list:
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i in range(10)]


@pytest.fixture(scope="session")
def fhevm_client(fhevm_w3: Any) -> Any:
    from fhevm.client import FhevmClient

    return FhevmClient(fhevm_w3)


# --- compile and deploy ------------------------------------------------------------------------


def compile_solidity(source: str | os.PathLike, include: tuple[str | os.PathLike, ...] = ()
                     ) -> dict[str, dict]:
    """{contract name: {"abi", "bytecode"}} of the contracts defined in `source` (a .sol
    path or Solidity text), compiled with the project's pinned solc and settings. Imports
    of `@fhevm/solidity/...` resolve to our library (contracts/), as do `lib/...`,
    `config/...`; relative imports resolve next to the file."""
    from contracts.build import CONTRACTS_DIR, SETTINGS, run_solc

    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and source.endswith(".sol")):
        path = Path(source).resolve()
        text, unit, here = path.read_text(), path.name, path.parent
    else:
        text, unit, here = str(source), "Main.sol", None
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp, "@fhevm")
        pkg.mkdir()
        os.symlink(CONTRACTS_DIR, pkg / "solidity")
        dirs = [Path(tmp), CONTRACTS_DIR, *(Path(d) for d in include)]
        if here is not None:
            dirs.insert(0, here)
        out = run_solc({"language": "Solidity", "sources": {unit: {"content": text}},
                        "settings": SETTINGS}, dirs)
    return {name: {"abi": data["abi"], "bytecode": "0x" + data["evm"]["bytecode"]["object"]}
            for name, data in out.get("contracts", {}).get(unit, {}).items()}


def _source_key(source: str | os.PathLike) -> str:
    """Hash of everything a compilation depends on: the source, the .sol files next to it,
    our library sources and the compiler settings."""
    from contracts.build import CONTRACTS_DIR, SETTINGS

    h = hashlib.sha256(json.dumps(SETTINGS, sort_keys=True).encode())
    files = [p for d in ("lib", "config") for p in sorted((CONTRACTS_DIR / d).glob("*.sol"))]
    files += [p for p in (CONTRACTS_DIR.parent / "package-lock.json",) if p.is_file()]  # solc
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and source.endswith(".sol")):
        path = Path(source).resolve()
        h.update(str(path).encode())
        files += sorted(path.parent.glob("*.sol"))
    else:
        h.update(str(source).encode())
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def fhevm_deploy(request: pytest.FixtureRequest, fhevm_w3: Any,
                 fhevm_accounts: list) -> Callable[..., Any]:
    cache: dict[str, dict[str, dict]] = {}
    disk = getattr(request.config, "cache", None)  # pytest's cache (-p no:cacheprovider: none)

    def deploy(source: str | os.PathLike, *args: Any, name: str | None = None,
               sender: Any = None, value: int = 0) -> Any:
        if isinstance(source, str) and source.isidentifier():  # a committed artifact
            from contracts import load_artifact

            art = load_artifact(source)
            cache[source] = {source: {"abi": art["abi"], "bytecode": art["bytecode"]}}
            key = source
        else:
            key = _source_key(source)
        if key not in cache:
            hit = disk.get(f"fhevm/solc/{key}", None) if disk is not None else None
            cache[key] = hit if isinstance(hit, dict) else compile_solidity(source)
            if disk is not None and hit is None:
                disk.set(f"fhevm/solc/{key}", cache[key])
        found = {n: c for n, c in cache[key].items() if len(c["bytecode"]) > 2}
        if name is None:
            if len(found) != 1:
                raise ValueError("say which contract to deploy: name=" + (
                    " | ".join(found) or "(the source defines no deployable contract)"))
            [name] = found
        if name not in found:
            raise ValueError(f"no deployable contract {name!r} (found: {', '.join(found)})")
        art = found[name]
        who = getattr(sender, "address", sender) or fhevm_accounts[0].address
        factory = fhevm_w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        tx = factory.constructor(*args).transact({"from": who, "value": value})
        receipt = fhevm_w3.eth.wait_for_transaction_receipt(tx)
        if receipt["status"] != 1:
            raise RuntimeError(f"deploying {name} reverted")
        return fhevm_w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])

    return deploy


@pytest.fixture(scope="session")
def fhevm_decrypt(fhevm_client: Any, fhevm_accounts: list) -> Callable[..., Any]:
    """decrypt(handle, contract, account=None) -> value; a list of handles -> list."""

    def decrypt(handles: Any, contract: Any, account: Any = None) -> Any:
        account = account or fhevm_accounts[0]
        one = isinstance(handles, bytes | bytearray | str | int)
        hs = [handles] if one else list(handles)
        values = fhevm_client.user_decrypt([(h, contract) for h in hs], account)
        return values[0] if one else values

    return decrypt
