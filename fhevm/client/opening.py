"""Opening threshold decryptions: from the parties' F_p shares of a squashed LWE to its
4-bit plaintext, and from the plaintexts of a ciphertext's block groups to the integer.

One implementation for everyone who reconstructs: the SDK (fhevm.client.kms, user
decryption), the KMS client and the parties themselves (node.kms.client, node.kms.party,
public decryption). The opened value is the integer Y = b - <a, s> + E + 2^128 R of
node.kms.threshold; an honest Y lies in a known range and its phase is m * 2^124 plus
noise far below 2^123, so a value of any other shape is refused rather than rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

from . import field as F
from . import rs

NOISE_BITS = 108  # each PRSS set adds uniform noise in [-2^108, 2^108]
WRAP_BITS = 56  # each PRSS set adds 2^128 * uniform [0, 2^56)
SQUASH_NOISE_LOG2 = 70  # generous bound on squashed noise (2^68.1 at 2^-128), docs/kms.md
DELTA_LOG2 = 124
PLAINTEXT_MODULUS = 16
KEY_DIMENSION = 4096  # of the SQUASH key; the smaller test set only tightens the range
_Q = 1 << 128


class ReconstructionError(ValueError):
    """The shares do not determine a plaintext (too many liars or missing parties)."""


def open_value(y: int, n: int, t: int) -> int:
    """The plaintext of an opened value Y, or ReconstructionError when Y is not of the
    shape an honest opening has (integer range, noise far below delta)."""
    sets = comb(n, t)
    v = F.lift(y)
    low = -(KEY_DIMENSION + 1) * _Q
    high = (sets << (WRAP_BITS + 128)) + _Q
    if not low <= v <= high:
        raise ReconstructionError("opened value out of range: inconsistent shares")
    phase = v % _Q
    m = ((phase + (1 << (DELTA_LOG2 - 1))) >> DELTA_LOG2) % PLAINTEXT_MODULUS
    residue = (phase - (m << DELTA_LOG2) + _Q // 2) % _Q - _Q // 2
    if abs(residue) > (sets << NOISE_BITS) + (1 << SQUASH_NOISE_LOG2):
        raise ReconstructionError("opened value has noise beyond the budget")
    return m


def combine(shares: dict[int, int], n: int, t: int) -> tuple[int, list[int]]:
    """(plaintext in [0, 16), indices of parties whose share was wrong) from up to n
    partial decryptions; corrects up to t faults (wrong or missing), refuses beyond."""
    if any(not 1 <= j <= n for j in shares):
        raise ReconstructionError("share from an unknown party")
    try:
        y, wrong = rs.decode_secret(shares, t)
    except rs.DecodingError as exc:
        raise ReconstructionError(str(exc)) from None
    return open_value(y, n, t), wrong


def assemble(groups: Sequence[Sequence[int]], plaintexts: Sequence[int], bits: int) -> int:
    """The integer from the plaintexts of its squashed groups (messages mod 4 per block;
    a group of two blocks lo, hi carries lo + 4 hi)."""
    value = 0
    for g, m in zip(groups, plaintexts, strict=True):
        value |= (m & 3) << (2 * g[0])
        if len(g) == 2:
            value |= ((m >> 2) & 3) << (2 * g[1])
    return value & 1 if bits == 1 else value % (1 << bits)
