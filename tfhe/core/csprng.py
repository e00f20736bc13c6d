"""A cryptographically secure generator for every secret, mask and noise sample.

A ChaCha20 keystream (from `cryptography`) keyed by a 32-byte seed. `Csprng.from_os()` draws
the seed from the operating system; `Csprng(seed)` regenerates the same stream, which is how
seeded (compressed) keys rebuild their masks. `fork(label)` derives independent child
streams so that, e.g., the mask of a key can be regenerated without the noise.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

_SEED_BYTES = 32


class Csprng:
    """ChaCha20 keystream generator with typed samplers."""

    __slots__ = ("_enc", "_seed")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != _SEED_BYTES:
            raise ValueError(f"seed must be {_SEED_BYTES} bytes")
        self._seed = bytes(seed)
        nonce = b"\x00" * 16
        self._enc = Cipher(algorithms.ChaCha20(self._seed, nonce), mode=None).encryptor()

    @classmethod
    def from_os(cls) -> Csprng:
        return cls(os.urandom(_SEED_BYTES))

    @property
    def seed(self) -> bytes:
        """The seed; it is a secret whenever the stream generates secrets or noise."""
        return self._seed

    def __repr__(self) -> str:  # never print the seed
        return "Csprng(<secret>)"

    def fork(self, label: bytes) -> Csprng:
        """An independent child stream, derived from this seed and a label."""
        return Csprng(hashlib.blake2b(label, key=self._seed, digest_size=_SEED_BYTES).digest())

    def random_bytes(self, n: int) -> bytes:
        return self._enc.update(b"\x00" * n)

    def uniform_u64(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform elements of Z_{2^64} (masks)."""
        count = int(np.prod(shape))
        return np.frombuffer(self.random_bytes(8 * count), dtype=np.uint64).reshape(shape).copy()

    def binary(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform bits as uint64 (binary secret keys)."""
        count = int(np.prod(shape))
        raw = np.frombuffer(self.random_bytes(count), dtype=np.uint8)
        return (raw & 1).astype(np.uint64).reshape(shape)

    def tuniform(self, shape: int | tuple[int, ...], bound_log2: int) -> np.ndarray:
        """TUniform(2^b) noise as uint64 (two's complement).

        Values in [-2^b, 2^b]: each interior value has probability 2^-(b+1), the two ends
        2^-(b+2). Drawn as r uniform in [0, 2^(b+2)) and mapped to (r >> 1) + (r & 1) - 2^b.
        """
        if not 0 <= bound_log2 <= 61:
            raise ValueError("TUniform bound out of range")
        r = self.uniform_u64(shape) & np.uint64((1 << (bound_log2 + 2)) - 1)
        t = (r >> np.uint64(1)) + (r & np.uint64(1))
        return t - np.uint64(1 << bound_log2)


def tuniform_variance(bound_log2: int) -> float:
    """Variance of TUniform(2^b) in absolute units: (2^(2b+1) + 1) / 6."""
    return (2.0 ** (2 * bound_log2 + 1) + 1.0) / 6.0
