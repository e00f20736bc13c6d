"""Client side of the integer layer: encrypt and decrypt radix integers."""

from __future__ import annotations

import numpy as np

from ..core import lwe
from ..core.csprng import Csprng
from ..keys import ClientKey
from ..shortint import ShortintClientKey
from .ciphertext import RadixCiphertext, blocks_for_bits


class IntegerClientKey:
    """Encrypts integers of any supported width under the client key's big LWE key."""

    def __init__(self, key: ClientKey | ShortintClientKey, rng: Csprng | None = None) -> None:
        self.shortint = key if isinstance(key, ShortintClientKey) else ShortintClientKey(key, rng)
        self.key = self.shortint.key
        self.params = self.key.params
        if self.params.message_modulus != 4 or self.params.carry_modulus != 4:
            raise ValueError("the integer layer needs 2-bit message / 2-bit carry blocks")

    def __repr__(self) -> str:
        return f"IntegerClientKey({self.params.name}, <secret>)"

    def encrypt(self, value: int | bool, bits: int) -> RadixCiphertext:
        """Encrypt value modulo 2^bits (bits == 1: a boolean)."""
        n = blocks_for_bits(bits)
        value = int(value)
        if value < 0:
            raise ValueError("integers are unsigned")
        if bits == 1:
            if value not in (0, 1):
                raise ValueError("an ebool holds 0 or 1")
            return RadixCiphertext(self.shortint.encrypt_batch([value], degree=1), 1)
        value %= 1 << bits
        digits = [(value >> (2 * j)) & 3 for j in range(n)]
        return RadixCiphertext(self.shortint.encrypt_batch(digits), bits)

    def decrypt(self, ct: RadixCiphertext) -> int:
        """The integer (an int; 0 or 1 for an ebool)."""
        p = self.params
        data = np.stack([b.data for b in ct.blocks])
        if data.shape[1] != p.big_lwe_dimension + 1:
            raise ValueError("ciphertext is not from this key's parameter set")
        digits = self.shortint.decode(lwe.phase(self.key.big_lwe_key, data))
        value = 0
        for j, d in enumerate(digits.tolist()):
            value |= (int(d) % p.message_modulus) << (2 * j)
        return value
