"""Keys for the KMS tests: DEFAULT engine keys and a squash key, cached under .cache/.

The squash bootstrapping key (812 MiB, ~40 s to generate) is cached with its secret in
.cache/kms-test-keys/ (git-ignored); the DEFAULT engine keys share tests/tfhe's cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tfhe import DEFAULT, ClientKey, ServerKey
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng
from tfhe.keys import load_or_generate

ROOT = Path(__file__).resolve().parents[2]
ENGINE_CACHE = ROOT / ".cache" / "test-keys"
CACHE = ROOT / ".cache" / "kms-test-keys"


def engine_keys() -> tuple[ClientKey, ServerKey]:
    return load_or_generate(DEFAULT, ENGINE_CACHE)


def squash_keys(ck: ClientKey) -> tuple[sq.SquashSecretKey, sq.SquashKey]:
    CACHE.mkdir(parents=True, exist_ok=True)
    tag = hashlib.blake2b(ck.lwe_key.tobytes(), digest_size=8).hexdigest()
    sec_path = CACHE / f"squash-{tag}.secret.npy"
    key_path = CACHE / f"squash-{tag}.bsk"
    try:
        return sq.SquashSecretKey(np.load(sec_path)), sq.SquashKey.load(key_path)
    except (OSError, ValueError):
        for stale in CACHE.glob("squash-*"):  # keys for engine keys that were regenerated
            stale.unlink()
        rng = Csprng.from_os()
        sec = sq.SquashSecretKey.generate(rng.fork(b"secret"))
        key = sq.generate_squash_key(ck.lwe_key, sec, rng.fork(b"bsk"))
        np.save(sec_path, sec.glwe_key)
        key.save(key_path)
        return sec, key


@pytest.fixture(scope="session")
def default_keys() -> tuple[ClientKey, ServerKey]:
    return engine_keys()


@pytest.fixture(scope="session")
def squash_pair(default_keys) -> tuple[sq.SquashSecretKey, sq.SquashKey]:
    return squash_keys(default_keys[0])
