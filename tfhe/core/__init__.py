"""Core TFHE cryptography: torus arithmetic, LWE/GLWE/GGSW, FFT, keyswitch, bootstrap."""

import hashlib
import os
import shutil
import time
from pathlib import Path


def _prefer_wide_vectors() -> None:
    """Let LLVM use 512-bit vectors on AVX-512 hosts.

    LLVM prefers 256-bit vectors on Intel server cores unless told otherwise; the FFT and
    key-product loops of the bootstrap are written to vectorise across a chunk, and twice
    the width halves their instruction count. Numba reads
    the setting when it first compiles, so this runs on import of the engine. A user's own
    NUMBA_CPU_FEATURES (or FHEVM_NO_WIDE_VECTORS=1) wins.
    """
    if os.environ.get("NUMBA_CPU_FEATURES") or os.environ.get("FHEVM_NO_WIDE_VECTORS"):
        return
    import llvmlite.binding as llvm
    from numba.core import config

    features = llvm.get_host_cpu_features()
    if config.CPU_FEATURES is None and features.get("avx512f"):
        config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"


def _cache_per_source_version() -> None:
    """Keep Numba's on-disk cache per version of the engine's sources.

    Numba checks a cached kernel against its own file only, so a kernel that calls a jitted
    function of another module (bootstrap -> pbs_one -> fft_one) would keep its old machine
    code after that module changed (a `git pull` in an editable install). The cache goes to
    a directory named after a digest of every tfhe source file instead, so any change starts
    a fresh one; all processes of one version (node, KMS parties, tests) share it. A user's
    NUMBA_CACHE_DIR is the parent; versions unused for a week are removed.
    """
    from numba.core import config

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    base = Path(os.environ.get("NUMBA_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fhevm-py" / "numba")
    here = base / digest.hexdigest()
    try:
        here.mkdir(parents=True, exist_ok=True)
        os.utime(here)
        for old in base.iterdir():
            if old != here and old.is_dir() and time.time() - old.stat().st_mtime > 7 * 86400:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return  # an unwritable home: Numba's default (next to the sources) still works
    config.CACHE_DIR = str(here)


_prefer_wide_vectors()
_cache_per_source_version()
