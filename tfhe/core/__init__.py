"""Core TFHE cryptography: torus arithmetic, LWE/GLWE/GGSW, FFT, keyswitch, bootstrap."""

import os


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


_prefer_wide_vectors()
