"""Client side of shortint: encrypt and decrypt blocks with the secret key."""

from __future__ import annotations

import numpy as np

from ..core import lwe
from ..core.csprng import Csprng
from ..keys import ClientKey
from .ciphertext import NOMINAL_NOISE, Ciphertext


class ShortintClientKey:
    def __init__(self, key: ClientKey, rng: Csprng | None = None) -> None:
        self.key = key
        self.params = key.params
        self._rng = rng or Csprng.from_os()

    def __repr__(self) -> str:
        return f"ShortintClientKey({self.params.name}, <secret>)"

    def encrypt(self, message: int) -> Ciphertext:
        """A fresh block holding message mod message_modulus (empty carry)."""
        return self.encrypt_batch([message])[0]

    def encrypt_batch(self, messages: list[int], degree: int | None = None) -> list[Ciphertext]:
        p = self.params
        msgs = np.array([m % p.message_modulus for m in messages], dtype=np.uint64)
        data = lwe.encrypt(self.key.big_lwe_key, msgs << np.uint64(p.delta_log2),
                           p.glwe_noise_log2, self._rng)
        deg = p.message_modulus - 1 if degree is None else degree
        return [Ciphertext(row, deg, NOMINAL_NOISE) for row in data]

    def encrypt_raw(self, value: int) -> Ciphertext:
        """A block holding value in the whole message-and-carry space (for tests)."""
        p = self.params
        if not 0 <= value < p.total_modulus:
            raise ValueError("value outside the block's plaintext space")
        data = lwe.encrypt(self.key.big_lwe_key,
                           np.array([value], dtype=np.uint64) << np.uint64(p.delta_log2),
                           p.glwe_noise_log2, self._rng)[0]
        return Ciphertext(data, value, NOMINAL_NOISE)

    def decrypt_message_and_carry(self, ct: Ciphertext) -> int:
        return int(self.decode(lwe.phase(self.key.big_lwe_key, ct.data))[0])

    def decrypt(self, ct: Ciphertext) -> int:
        return self.decrypt_message_and_carry(ct) % self.params.message_modulus

    def decode(self, phases: np.ndarray) -> np.ndarray:
        """Round phases to the nearest multiple of delta; values in [0, p)."""
        p = self.params
        rounded = (phases + (np.uint64(1) << np.uint64(p.delta_log2 - 1))) >> np.uint64(
            p.delta_log2)
        return rounded % np.uint64(p.total_modulus)
