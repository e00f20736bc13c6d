"""The `fhevm-node` command line: help a newcomer can read, keygen, reset."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_help_explains_commands() -> None:
    out = cli("--help")
    assert out.returncode == 0
    for word in ("start", "keygen", "reset", "31337", "anvil"):
        assert word in out.stdout
    start = cli("start", "--help").stdout
    for opt in ("--host", "--port", "--data-dir", "--backend", "--block-time", "--accounts",
                "--unlock"):
        assert opt in start


def test_no_command_prints_help_and_fails() -> None:
    out = cli()
    assert out.returncode == 2 and "usage" in out.stdout.lower()


def test_bad_option_is_refused() -> None:
    out = cli("start", "--backend", "quantum")
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_keygen_and_reset(tmp_path: Path) -> None:
    data = tmp_path / "devnet"
    out = cli("keygen", "--data-dir", str(data), "--backend", "clear")
    assert out.returncode == 0, out.stderr
    assert "FHE keys" in out.stdout
    assert (data / "chain.sqlite3").exists()
    out = cli("reset", "--data-dir", str(data), "--yes")
    assert out.returncode == 0 and not data.exists()
    assert "nothing to reset" in cli("reset", "--data-dir", str(data), "--yes").stdout


def test_tfhe_keygen_stores_keys_once(tmp_path: Path) -> None:
    """Real tfhe key generation (on an INSECURE_ test parameter set, to stay fast): the
    network keys land in the data directory's database, once; no full client key."""
    data = tmp_path / "devnet"
    env = {"FHEVM_NODE_KEY_PARAMS": "INSECURE_TEST_PARAMS"}

    def stored() -> dict[str, bytes]:
        with sqlite3.connect(data / "chain.sqlite3") as db:
            return dict(db.execute("SELECT name, v FROM keys"))

    out = cli("keygen", "--data-dir", str(data), "--backend", "tfhe", env=env)
    assert out.returncode == 0, out.stderr
    first = stored()
    assert len(first["tfhe/server_key"]) > 1_000_000
    assert "tfhe/client_key" not in first
    again = cli("keygen", "--data-dir", str(data), "--backend", "tfhe", env=env)
    assert again.returncode == 0, again.stderr
    assert stored() == first  # loaded, not generated again


def test_unavailable_backend_is_refused_before_keygen(tmp_path: Path) -> None:
    import importlib

    try:
        backends = importlib.import_module("fhevm.backends").available_backends(
            with_keys=True)
    except Exception:
        backends = ["clear"]
    if "tfhe" in backends:
        return  # nothing to refuse once fhevm runs tfhe
    out = cli("start", "--backend", "tfhe", "--data-dir", str(tmp_path / "d"))
    assert out.returncode != 0
    assert "--backend clear" in out.stderr and "not available" in out.stderr
    assert not (tmp_path / "d" / "chain.sqlite3").exists()
