"""Start the KMS parties as separate processes (the hook for `fhevm-node start`).

    from node.kms.launch import ensure_dealt, start_parties, stop_parties
    ensure_dealt(data_dir, client_key, server_key)          # at keygen / first start
    procs = start_parties(data_dir, "http://127.0.0.1:8545")  # after the RPC server is up
    ...
    stop_parties(procs)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from . import dealer

REPO_ROOT = Path(__file__).resolve().parents[2]


def kms_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "kms"


def ensure_dealt(data_dir: str | os.PathLike, client_key, server_key, n: int = 4, t: int = 1,
                 base_port: int = dealer.DEFAULT_BASE_PORT,
                 **domains: object) -> dealer.PublicConfig:
    """Deal the KMS key material once (about a minute): returns the public config. Put
    cfg.signers and threshold t + 1 in the genesis FhevmConfig (kms_signers,
    kms_threshold). `domains` (chain_id, gateway_chain_id, decryption_contract) must match
    the genesis FhevmConfig when it overrides the defaults. An insecure engine parameter
    set gets the insecure squash set (node.kms.params). The caller should drop the
    engine's client key from the data directory afterwards, or the node still holds a full
    decryption key."""
    d = kms_dir(data_dir)
    if (d / "public" / "kms.json").exists():
        return dealer.PublicConfig.load(d)
    from .params import squash_name_for

    p = client_key.params
    return dealer.deal(d, client_key.lwe_key, server_key.ksk, p.ks_base_log, p.ks_level, n, t,
                       base_port, squash_params=squash_name_for(p), **domains)


def party_urls(cfg: dealer.PublicConfig, host: str = "127.0.0.1") -> list[str]:
    return [f"http://{host}:{port}" for port in cfg.ports]


def start_parties(data_dir: str | os.PathLike, rpc_url: str, n: int | None = None,
                  t: int | None = None, host: str = "127.0.0.1",
                  wait: float = 60.0) -> list[subprocess.Popen]:
    """One process per party (its own port and key directory); waits until each answers
    /health. n and t, when given, must match the dealt configuration."""
    d = kms_dir(data_dir)
    cfg = dealer.PublicConfig.load(d)
    if (n is not None and n != cfg.n) or (t is not None and t != cfg.t):
        raise ValueError(f"KMS dealt for n={cfg.n}, t={cfg.t}")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    procs = []
    for j in range(1, cfg.n + 1):
        with open(d / f"party-{j}" / "party.log", "ab") as log:  # the child keeps its copy
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "node.kms.party", "--kms-dir", str(d), "--index", str(j),
                 "--rpc-url", rpc_url, "--host", host],
                env=env, stdout=subprocess.DEVNULL, stderr=log))
    try:
        wait_ready(party_urls(cfg, host), wait, procs)
    except Exception:
        stop_parties(procs)
        raise
    return procs


def wait_ready(urls: Sequence[str], timeout: float,
               procs: Sequence[subprocess.Popen] = ()) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a KMS party exited at start (see party-<j>/party.log)")
        url = pending[0]
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                pending.pop(0)
                continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"KMS party at {url} did not start")
        time.sleep(0.2)


def stop_parties(procs: Sequence[subprocess.Popen], timeout: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
