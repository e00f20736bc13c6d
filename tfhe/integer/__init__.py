"""integer: encrypted unsigned integers of every width, with every operation of the Solidity
library, as radix integers over the engine's 2-bit shortint blocks.

Types: ``bits`` = 1 (ebool, one block holding 0/1), 8, 16, 32, 64, 128, 160 (eaddress), 256
(any even width works; euintN has N / 2 blocks, least significant first).

Keys::

    client = IntegerClientKey(client_key)                  # tfhe.ClientKey
    priv, comp = CompressionKey.generate(client_key)       # once, with the other keys
    server = IntegerServerKey(server_key, comp)            # tfhe.ServerKey (public)

    ct = client.encrypt(value, bits)   -> RadixCiphertext (.bits, .num_blocks, .blocks)
    client.decrypt(ct)                 -> int (0/1 for an ebool)
    server.trivial(value, bits)        -> a noiseless encryption of a public value

Operations (``b`` is a RadixCiphertext of the same width, or a non-negative int on the
right; results wrap modulo 2^bits; comparisons return an ebool)::

    add sub mul div rem divmod neg      bitand bitor bitxor bitnot
    eq ne lt le gt ge min max           shl shr rotl rotr   (amount int or encrypted,
    select(cond_ebool, a, b)                                 taken modulo the width)
    cast(ct, bits)  (truncate / zero-extend; bits=1: != 0)   to_bool(ct)
    sum([cts])   is_in(ct, [ints or cts])   mul_div(a, b, c) = (a * b) // c at 2x width
    random(seed, bits, upper_bound=None)  oblivious: a public seed, a value nobody knows;
                                          upper_bound a power of two within the type

Division: a plaintext zero divisor raises ZeroDivisionError (the executor reverts); an
encrypted zero divisor gives quotient = all ones and remainder = dividend.

Storage (compressed: a euint64 is about 1.6 KB instead of 512 KiB)::

    blob = server.to_bytes(ct);  ct = server.from_bytes(blob)
    lst = server.compress([ct1, ct2]);  blob = lst.to_bytes()
    server.decompress(CompressedRadixList.from_bytes(blob)) -> [RadixCiphertext, ...]

Errors: mismatched widths, an ebool where an integer is needed (or the reverse), a
ciphertext of another parameter set raise ValueError; compressed bytes that are corrupt or
from another compression key raise CompressionError (a ValueError).

Costs: ``server.pbs_count`` counts bootstraps. Each circuit level is one call to the
engine's batch API (all cores busy). For FheUint64: bitwise 32, eq 42, lt 43, select 32,
add 32 (sequential carries, the default on <= 2 cores) or 107 (parallel prefix carries),
encrypted shift 198, random 32, mul ~1800, decompression 32.
"""

from .ciphertext import RadixCiphertext, blocks_for_bits
from .client import IntegerClientKey
from .compression import (
    CompressedRadixList,
    CompressionError,
    CompressionKey,
    CompressionPrivateKey,
)
from .server import IntegerServerKey

__all__ = [
    "CompressedRadixList",
    "CompressionError",
    "CompressionKey",
    "CompressionPrivateKey",
    "IntegerClientKey",
    "IntegerServerKey",
    "RadixCiphertext",
    "blocks_for_bits",
]
