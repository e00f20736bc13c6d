"""integer: encrypted unsigned integers of every width (radix over 2-bit shortint blocks).

Placeholder docstring; see the full API description below once complete.
"""

from .ciphertext import RadixCiphertext, blocks_for_bits
from .client import IntegerClientKey
from .server import IntegerServerKey

__all__ = ["IntegerClientKey", "IntegerServerKey", "RadixCiphertext", "blocks_for_bits"]
