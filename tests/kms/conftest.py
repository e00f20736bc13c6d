"""Keys for the KMS tests: DEFAULT engine keys and a squash key, cached under .cache/.

The DEFAULT engine keys come from tfhe.load_or_generate (tests/tfhe's cache). The squash
bootstrapping key (812 MiB, ~40 s to generate) is cached with its secret in
.cache/kms-test-keys/ (git-ignored), tagged by the engine key it was made for: both files
are written atomically and generated under a file lock, so test runs started at the same
time never read half a key nor pair one run's secret with another's key.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from tfhe import DEFAULT, ClientKey, ServerKey, load_or_generate
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng

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
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be generating the pair
        try:
            return sq.SquashSecretKey(np.load(sec_path)), sq.SquashKey.load(key_path)
        except (OSError, ValueError):
            for stale in CACHE.glob("squash-*"):  # for engine keys that were regenerated
                stale.unlink(missing_ok=True)
            rng = Csprng.from_os()
            sec = sq.SquashSecretKey.generate(rng.fork(b"secret"))
            key = sq.generate_squash_key(ck.lwe_key, sec, rng.fork(b"bsk"))
            key.save(key_path)  # atomic (SquashKey.save)
            tmp = sec_path.with_name(sec_path.name + ".tmp")
            with open(tmp, "wb") as f:
                np.save(f, sec.glwe_key)
            os.replace(tmp, sec_path)  # last: the pair is complete once the secret is there
            return sec, key


@pytest.fixture(scope="session")
def default_keys() -> tuple[ClientKey, ServerKey]:
    return engine_keys()


@pytest.fixture(scope="session")
def squash_pair(default_keys) -> tuple[sq.SquashSecretKey, sq.SquashKey]:
    return squash_keys(default_keys[0])
