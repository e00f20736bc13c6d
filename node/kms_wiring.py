"""Network keys, signer keys and the KMS of a devnet: generation, genesis config, parties.

What `fhevm-node keygen` / the first `fhevm-node start` put in the data directory:

tfhe backend
  keys table (chain.sqlite3)  tfhe/server_key, tfhe/compact_public_key (what clients
                              encrypt inputs under), tfhe/casting_key (public, expands
                              input lists), signers/input/1 (the coprocessor's secp256k1 key
                              that signs `inputProof`s)
  kms/                        the dealt KMS (node.kms.dealer): public squash key, one
                              directory per party (key share, PRSS keys, signing key);
                              parties listen on ports 8650..8653 (FHEVM_NODE_KMS_BASE_PORT
                              at keygen moves them: base .. base + 3)
  The TFHE client key is generated in memory, used for the compact keys and the KMS
  dealing, and never written, unless `--insecure-keep-client-key` (then tfhe/client_key).

clear backend ("mock" KMS, like Zama's hardhat mock)
  keys table                  signers/input/1 and signers/kms/1..4: the node decrypts
                              itself and signs with these devnet KMS keys, so the on-chain
                              signature checks (inputs, FHE.checkSignatures) run as with
                              the real KMS (n = 4, t = 1, threshold 2).

Genesis gets an FhevmConfig with the KMS signers (threshold t + 1) and the input signer.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys import keys as eth_keys
from eth_utils import to_canonical_address

MOCK_N, MOCK_T = 4, 1
INPUT_SIGNER = "signers/input/1"
MOCK_KMS_PREFIX = "signers/kms/"
CLIENT_KEY = "tfhe/client_key"
SERVER_KEY = "tfhe/server_key"
COMPACT_PUBLIC_KEY = "tfhe/compact_public_key"
CASTING_KEY = "tfhe/casting_key"
KEEP_FLAG = "insecure/keep_client_key"  # meta: the user asked to keep the client key

Say = Callable[[str], None]


def _store(data_dir: str | os.PathLike):
    from node.devnet import DB_FILE
    from node.store import Store

    return Store(os.path.join(data_dir, DB_FILE))


def _put(store: Any, items: dict[str, bytes]) -> None:
    with store.batch() as c:
        c.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?)", list(items.items()))


def _drop_client_key(store: Any) -> None:
    """Delete the client key row so that no page of the database file keeps it."""
    c = store.conn()
    c.execute("PRAGMA secure_delete=ON")  # overwrite the freed page with zeros
    with store.batch() as b:
        b.execute("DELETE FROM keys WHERE name=?", (CLIENT_KEY,))
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old page images leave the WAL
        c.execute("VACUUM")
    except sqlite3.OperationalError:  # another connection is busy: the page is zeroed anyway
        pass


def _tfhe_file(obj: Any) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "key")
        obj.save(path)
        return path.read_bytes()


def _tfhe_load(cls: Any, blob: bytes) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "key")
        path.write_bytes(blob)
        return cls.load(path)


def ensure_node_keys(data_dir: str, backend: str, force: bool = False,
                     keep_client_key: bool = False, say: Say = print) -> None:
    """Generate what this backend needs and is missing (everything with `force`)."""
    os.makedirs(data_dir, exist_ok=True)
    store = _store(data_dir)
    try:
        have = store.keys()
        if force:
            with store.batch() as c:
                c.execute("DELETE FROM keys")
                c.execute("DELETE FROM meta WHERE k=?", (KEEP_FLAG,))
            shutil.rmtree(Path(data_dir) / "kms", ignore_errors=True)
            have = {}
        new: dict[str, bytes] = {}
        if INPUT_SIGNER not in have:
            new[INPUT_SIGNER] = secrets.token_bytes(32)
        if backend == "clear":
            for j in range(1, MOCK_N + 1):
                if f"{MOCK_KMS_PREFIX}{j}" not in have:
                    new[f"{MOCK_KMS_PREFIX}{j}"] = secrets.token_bytes(32)
            if new:
                _put(store, new)
                say("keys: clear backend: no FHE keys; generated devnet input-signer and "
                    "mock KMS signing keys")
            return
        if keep_client_key:  # remembered: a later plain `start` keeps it too
            with store.batch() as c:
                c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (KEEP_FLAG, b"1"))
        keep_client_key = keep_client_key or store.meta(KEEP_FLAG) == b"1"
        new.update(_tfhe_keys(data_dir, have, keep_client_key, say))
        if new:
            _put(store, new)
        if not keep_client_key and CLIENT_KEY in store.keys():
            _drop_client_key(store)
            say("keys: removed the TFHE client key from the data directory (the KMS "
                "parties hold its shares)")
    finally:
        store.close()


def _tfhe_keys(data_dir: str, have: dict[str, bytes], keep: bool, say: Say) -> dict[str, bytes]:
    from node.fhe import key_parameters
    from node.kms.launch import ensure_dealt, kms_dir
    from tfhe.integer.compact_list import generate_compact_keys
    from tfhe.keys import ClientKey, ServerKey
    from tfhe.keys import generate_keys as tfhe_generate_keys

    dealt = (kms_dir(data_dir) / "public" / "kms.json").exists()
    complete = (SERVER_KEY in have and COMPACT_PUBLIC_KEY in have and CASTING_KEY in have
                and dealt)
    if complete:
        return {}
    new: dict[str, bytes] = {}
    if CLIENT_KEY in have and SERVER_KEY in have:  # an older data dir: keys kept, upgrade it
        client = _tfhe_load(ClientKey, have[CLIENT_KEY])
        server = _tfhe_load(ServerKey, have[SERVER_KEY])
    elif SERVER_KEY in have:
        raise SystemExit("fhevm-node: this data directory has a server key but neither the "
                         "client key nor the compact input keys / KMS derived from it; run "
                         "`fhevm-node keygen --force` (or `fhevm-node reset`)")
    else:
        params = key_parameters()
        say(f"keys: generating TFHE client and server keys ({params.name}) ...")
        client, server = tfhe_generate_keys(params, progress=True)
        new[SERVER_KEY] = _tfhe_file(server)
        if keep:
            new[CLIENT_KEY] = _tfhe_file(client)
        if dealt:  # dealt for a client key that was never stored: stale
            shutil.rmtree(kms_dir(data_dir))
            dealt = False
    if COMPACT_PUBLIC_KEY not in have or CASTING_KEY not in have:
        say("keys: generating the compact input public key and casting key ...")
        _, pk, casting = generate_compact_keys(client)
        new[COMPACT_PUBLIC_KEY] = pk.to_bytes()
        new[CASTING_KEY] = _tfhe_file(casting)
    if not dealt:
        say("keys: dealing the KMS key shares (n=4, t=1; about a minute) ...")
        from node.kms.dealer import DEFAULT_BASE_PORT

        base = int(os.environ.get("FHEVM_NODE_KMS_BASE_PORT") or DEFAULT_BASE_PORT)
        ensure_dealt(data_dir, client, server, n=MOCK_N, t=MOCK_T, base_port=base)
    del client
    say("keys: TFHE keys ready")
    return new


# -- what the running node needs ------------------------------------------------------------

@dataclass
class NodeKeys:
    """Signer keys and the KMS description of one data directory."""

    backend: str
    input_keys: list[Any]  # eth_keys PrivateKey
    kms_keys: list[Any]  # clear: the mock KMS keys; tfhe: none (the parties sign)
    kms_config: Any  # node.kms.dealer.PublicConfig (tfhe: dealt; clear: the mock's)
    tfhe_keys: dict[str, bytes]  # what FhevmRuntime(keys=...) needs

    def fhevm_config(self) -> Any:
        from fhevm.config import FhevmConfig

        return FhevmConfig(
            kms_signers=tuple(to_canonical_address(a) for a in self.kms_config.signers),
            kms_threshold=self.kms_config.t + 1,
            input_signers=tuple(k.public_key.to_canonical_address() for k in self.input_keys),
            input_threshold=1,
        )


def load_node_keys(data_dir: str, backend: str, store: Any) -> NodeKeys | None:
    """None when the data directory has no signer keys (keygen never ran for it)."""
    from node.kms.dealer import PublicConfig
    from node.kms.launch import kms_dir

    have = store.keys()
    if INPUT_SIGNER not in have:
        return None
    inputs = [eth_keys.PrivateKey(have[INPUT_SIGNER])]
    if backend == "clear":
        mock = [have.get(f"{MOCK_KMS_PREFIX}{j}") for j in range(1, MOCK_N + 1)]
        if any(k is None for k in mock):
            return None
        kms_keys = [eth_keys.PrivateKey(k) for k in mock if k is not None]
        cfg = PublicConfig(MOCK_N, MOCK_T, tuple(Account.from_key(k.to_bytes()).address
                                                 for k in kms_keys), (), 0, 0)
        return NodeKeys(backend, inputs, kms_keys, cfg, {})
    path = kms_dir(data_dir) / "public" / "kms.json"
    if not path.exists():
        return None
    tfhe = {k: v for k, v in have.items() if k.startswith("tfhe/")}
    return NodeKeys(backend, inputs, [], PublicConfig.load(kms_dir(data_dir)), tfhe)


def runtime_options(data_dir: str, backend: str, store: Any) -> dict[str, Any]:
    """keys= and config= for FhevmRuntime (empty when keygen never ran here)."""
    nk = load_node_keys(data_dir, backend, store)
    if nk is None:
        return {}
    return {"keys": nk.tfhe_keys or None, "config": nk.fhevm_config()}


async def start_kms(devnet: Any, rpc_url: str) -> list:
    """tfhe backend: start the KMS party processes (the RPC server must already answer:
    parties read the ACL and ciphertexts through it) and print their URLs."""
    import asyncio

    if devnet.backend != "tfhe" or not getattr(devnet.runtime, "fhe_enabled", False):
        return []
    from node.kms.dealer import PublicConfig
    from node.kms.launch import kms_dir, party_urls, start_parties

    if not (kms_dir(devnet.data_dir) / "public" / "kms.json").exists():
        print("KMS: not dealt in this data directory (run `fhevm-node keygen`); no "
              "decryption service", flush=True)
        return []
    cfg = PublicConfig.load(kms_dir(devnet.data_dir))
    try:
        procs = await asyncio.to_thread(start_parties, devnet.data_dir, rpc_url)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"KMS: the parties did not start ({exc}); no decryption service. Logs: "
              f"{kms_dir(devnet.data_dir)}/party-<j>/party.log", flush=True)
        return []
    print(f"KMS: {cfg.n} parties (threshold {cfg.t + 1} signatures) at "
          + ", ".join(party_urls(cfg)), flush=True)
    return procs


def stop_kms(procs: list) -> None:
    from node.kms.launch import stop_parties

    if procs:
        stop_parties(procs)
        print("KMS: parties stopped", flush=True)
