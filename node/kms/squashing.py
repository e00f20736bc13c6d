"""From a radix ciphertext to squashed LWEs (two blocks each where the noise allows) and
from their plaintexts back to the integer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tfhe.core import squash as sq
from tfhe.integer import RadixCiphertext

MAX_NOISE_LEVEL = 5  # DEFAULT's: lo + 4 * hi must stay within it


def group_blocks(levels: Sequence[tuple[int, int]]) -> list[tuple[int, ...]]:
    """Pairs (2i, 2i+1) packed as lo + 4 hi when both are clean (degree <= 3) and
    level(lo) + 4 level(hi) <= 5; otherwise single blocks. `levels`: (degree, noise)."""
    groups: list[tuple[int, ...]] = []
    i = 0
    while i < len(levels):
        if i + 1 < len(levels):
            (dl, nl), (dh, nh) = levels[i], levels[i + 1]
            if dl <= 3 and dh <= 3 and nl + 4 * nh <= MAX_NOISE_LEVEL:
                groups.append((i, i + 1))
                i += 2
                continue
        groups.append((i,))
        i += 1
    return groups


def squash_radix(cts: Sequence[RadixCiphertext], ksk: np.ndarray, ks_base_log: int,
                 ks_level: int, key: sq.SquashKey
                 ) -> list[tuple[list[tuple[int, ...]], list[list[int]]]]:
    """For each radix ciphertext: (groups, squashed LWEs as integer lists); all blocks of
    all ciphertexts go through one batched bootstrap (the key is read once)."""
    plans, rows = [], []
    for ct in cts:
        groups = group_blocks([(b.degree, b.noise_level) for b in ct.blocks])
        plans.append(groups)
        for g in groups:
            data = ct.blocks[g[0]].data.copy()
            if len(g) == 2:
                data = data + np.uint64(4) * ct.blocks[g[1]].data
            rows.append(data)
    if not rows:
        return []
    hi, lo = sq.squash(np.stack(rows), ksk, ks_base_log, ks_level, key)
    out, i = [], 0
    for groups in plans:
        out.append((groups, [sq.to_ints(hi[i + j], lo[i + j]) for j in range(len(groups))]))
        i += len(groups)
    return out


def assemble(groups: Sequence[tuple[int, ...]], plaintexts: Sequence[int], bits: int) -> int:
    """The integer from the plaintexts of its squashed groups (messages mod 4 per block)."""
    value = 0
    for g, m in zip(groups, plaintexts, strict=True):
        value |= (m & 3) << (2 * g[0])
        if len(g) == 2:
            value |= ((m >> 2) & 3) << (2 * g[1])
    return value & 1 if bits == 1 else value % (1 << bits)
