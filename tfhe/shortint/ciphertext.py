"""The shortint ciphertext: an LWE vector plus public degree and noise level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOMINAL_NOISE = 1  # noise level of a fresh or freshly bootstrapped block
ZERO_NOISE = 0  # a trivial encryption carries no noise


@dataclass(slots=True)
class Ciphertext:
    data: np.ndarray  # (kN + 1,) uint64, body last
    degree: int  # upper bound of the plaintext (message and carry)
    noise_level: int

    def copy(self) -> Ciphertext:
        return Ciphertext(self.data.copy(), self.degree, self.noise_level)

    def to_bytes(self) -> bytes:
        return self.data.tobytes()
