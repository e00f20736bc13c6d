"""shortint: blocks of message_modulus x carry_modulus values (2-bit message, 2-bit carry).

A block is one LWE ciphertext under the big key with metadata that the server tracks
publicly: the degree (the largest value the plaintext may hold, so carries never reach the
padding bit) and the noise level (how many nominal noises have been added, cleaned by a
bootstrap before it passes the parameter set's maximum).
"""

from .ciphertext import Ciphertext
from .client import ShortintClientKey
from .lut import LookupTable, ManyLookupTable
from .server import ShortintServerKey

__all__ = [
    "Ciphertext",
    "LookupTable",
    "ManyLookupTable",
    "ShortintClientKey",
    "ShortintServerKey",
]
