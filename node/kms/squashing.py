"""From a radix ciphertext to squashed LWEs (two blocks each where the noise allows) and
from their plaintexts back to the integer; the tfhe backend's ciphertext blob, and the wire
format of squashed ciphertexts (node -> parties, `fhevm_getSquashedCiphertext`). The way
back, plaintexts to the integer, is fhevm.client.opening.assemble."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from fhevm.types import FheType
from tfhe.core import squash as sq
from tfhe.integer import RadixCiphertext, blocks_for_bits
from tfhe.shortint import Ciphertext

MAX_NOISE_LEVEL = 5  # DEFAULT's: lo + 4 * hi must stay within it
TYPE_BITS = {int(t): t.bits for t in FheType}  # handle byte 30 -> width

# (groups of block indices, squashed LWEs as integers a_0 .. a_{d-1}, b)
Squashed = tuple[list[tuple[int, ...]], list[list[int]]]

_HEADER = struct.Struct(">4sBBHI")  # fhevm.backends.tfhe blob: magic, version, type, blocks, size
_BLOCK = struct.Struct(">BB")
T = TypeVar("T")


def parse_blob(blob: bytes) -> RadixCiphertext:
    """A radix ciphertext from the tfhe backend's serialisation (fhevm.backends.tfhe)."""
    if len(blob) < _HEADER.size:
        raise ValueError("not a tfhe ciphertext blob")
    magic, version, code, count, size = _HEADER.unpack_from(blob)
    if magic != b"FHVT" or version != 1 or code not in TYPE_BITS:
        raise ValueError("not a tfhe ciphertext blob")
    if len(blob) != _HEADER.size + count * (_BLOCK.size + 8 * size):
        raise ValueError("ciphertext blob has the wrong length")
    off, blocks = _HEADER.size, []
    for _ in range(count):
        degree, noise = _BLOCK.unpack_from(blob, off)
        off += _BLOCK.size
        data = np.frombuffer(blob, dtype="<u8", count=size, offset=off).astype(np.uint64)
        off += 8 * size
        blocks.append(Ciphertext(data, degree, noise))
    return RadixCiphertext(blocks, TYPE_BITS[code])


# -- wire format: each squashed LWE as (d + 1) big-endian 16-byte words -----------------------

def encode_lwe(hi: np.ndarray, lo: np.ndarray) -> str:
    """0x-hex of a squashed LWE: a_0 .. a_{d-1}, b as 16-byte big-endian words."""
    words = np.stack([hi, lo], axis=-1).astype(">u8")
    return "0x" + words.tobytes().hex()


def decode_lwe(text: object, dimension: int) -> list[int]:
    """The integers of an encode_lwe string; ValueError unless it has dimension + 1 words."""
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError("a squashed LWE must be a 0x-hex string")
    raw = bytes.fromhex(text[2:])
    if len(raw) != 16 * (dimension + 1):
        raise ValueError(f"squashed LWE of {len(raw) // 16} words, expected {dimension + 1}")
    words = np.frombuffer(raw, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return sq.to_ints(words[:, 0], words[:, 1])


def decode_squashed(obj: object, bits: int, dimension: int) -> Squashed:
    """A squashed ciphertext from the node's JSON ({groups, lwes}), checked for shape:
    the groups cover the blocks of a `bits`-wide integer in order (one or two adjacent
    blocks each), one LWE of the key's dimension per group."""
    if not isinstance(obj, dict) or not isinstance(obj.get("groups"), list) \
            or not isinstance(obj.get("lwes"), list):
        raise ValueError("a squashed ciphertext is an object {groups, lwes}")
    groups = []
    for g in obj["groups"]:
        if not isinstance(g, list) or not 1 <= len(g) <= 2 \
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in g):
            raise ValueError("malformed block group")
        groups.append(tuple(g))
    flat = [b for g in groups for b in g]
    if flat != list(range(blocks_for_bits(bits))):
        raise ValueError(f"block groups do not cover the {bits}-bit integer's blocks")
    if len(obj["lwes"]) != len(groups):
        raise ValueError("one squashed LWE per block group expected")
    return groups, [decode_lwe(x, dimension) for x in obj["lwes"]]


def batches(items: Sequence[T], blocks: Callable[[T], int], limit: int) -> list[list[T]]:
    """Consecutive runs of `items` with at most `limit` blocks each (an item larger than
    `limit` gets a run of its own): how the parties fetch and the node squashes."""
    out: list[list[T]] = []
    size = 0
    for item in items:
        n = blocks(item)
        if out and size + n <= limit:
            out[-1].append(item)
            size += n
        else:
            out.append([item])
            size = n
    return out


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


def squash_radix_arrays(cts: Sequence[RadixCiphertext], ksk: np.ndarray, ks_base_log: int,
                        ks_level: int, key: sq.SquashKey
                        ) -> list[tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]]:
    """For each radix ciphertext: (groups, hi, lo) with hi, lo of shape (groups, d + 1);
    all blocks of all ciphertexts go through one batched squash (the key is read once)."""
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
        out.append((groups, hi[i:i + len(groups)].copy(), lo[i:i + len(groups)].copy()))
        i += len(groups)
    return out


def squash_radix(cts: Sequence[RadixCiphertext], ksk: np.ndarray, ks_base_log: int,
                 ks_level: int, key: sq.SquashKey) -> list[Squashed]:
    """For each radix ciphertext: (groups, squashed LWEs as integer lists), one batch."""
    return [(groups, [sq.to_ints(h, lo_) for h, lo_ in zip(hi, lo, strict=True)])
            for groups, hi, lo in squash_radix_arrays(cts, ksk, ks_base_log, ks_level, key)]
