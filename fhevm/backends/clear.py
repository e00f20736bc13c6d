"""Plaintext backend: the same semantics as TFHE on cleartext values, for fast iteration.

Values never leave the node (the store is off-chain), and handles are random, so a
contract learns nothing it would not learn under real encryption. `rand` mixes its public
seed with a secret of the backend, so its results stay unpredictable to contracts and to
anyone reading the seeds from the executor's events.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from fhevm.backends.base import BINARY_OPS, COMPARISONS, BackendError
from fhevm.types import FheType, parse_type

_BLOB_LEN = 1 + 32


@dataclass(frozen=True)
class ClearCiphertext:
    fhe_type: FheType
    value: int


def _binary_int(op: str, a: int, b: int, t: FheType) -> int:
    bits, mask = t.bits, t.modulus - 1
    if op == "add":
        return (a + b) & mask
    if op == "sub":
        return (a - b) & mask
    if op == "mul":
        return (a * b) & mask
    if op == "div":
        return a // b if b else mask
    if op == "rem":
        return a % b if b else a
    if op == "and":
        return a & b
    if op == "or":
        return a | b
    if op == "xor":
        return a ^ b
    if op in ("shl", "shr", "rotl", "rotr"):
        k = b % bits
        if op == "shl":
            return (a << k) & mask
        if op == "shr":
            return a >> k
        if op == "rotl":
            return ((a << k) | (a >> (bits - k))) & mask
        return ((a >> k) | (a << (bits - k))) & mask
    if op == "min":
        return min(a, b)
    if op == "max":
        return max(a, b)
    compare = {
        "eq": a == b,
        "ne": a != b,
        "ge": a >= b,
        "gt": a > b,
        "le": a <= b,
        "lt": a < b,
    }
    return int(compare[op])


class ClearBackend:
    """Backend whose ciphertexts are (type, value) pairs."""

    name = "clear"
    concurrency = 1  # microseconds per operation: nothing to gain from a graph

    def __init__(self) -> None:
        # fheRand seeds are public (the executor's FheRand events carry them, as Zama's do):
        # under TFHE the OPRF result still depends on the secret key, so here a secret of
        # this backend plays the key's part and a seed alone does not give the value away.
        self._rand_secret = secrets.token_bytes(32)

    def type_of(self, ct: ClearCiphertext) -> FheType:
        return ct.fhe_type

    def trivial_encrypt(self, value: int, fhe_type: FheType) -> ClearCiphertext:
        return ClearCiphertext(fhe_type, fhe_type.wrap(value))

    def encrypt(self, value: int, fhe_type: FheType) -> ClearCiphertext:
        return self.trivial_encrypt(value, fhe_type)

    def decrypt(self, ct: ClearCiphertext) -> int:
        return ct.value

    def serialize(self, ct: ClearCiphertext) -> bytes:
        return bytes([int(ct.fhe_type)]) + ct.value.to_bytes(32, "big")

    def deserialize(self, blob: bytes) -> ClearCiphertext:
        if len(blob) != _BLOB_LEN:
            raise BackendError("clear ciphertext blob has the wrong length")
        fhe_type = parse_type(blob[0])
        value = int.from_bytes(blob[1:], "big")
        if fhe_type is None or value >= fhe_type.modulus:
            raise BackendError("clear ciphertext blob is malformed")
        return ClearCiphertext(fhe_type, value)

    def binary(self, op: str, lhs: ClearCiphertext, rhs: ClearCiphertext | int) -> ClearCiphertext:
        if op not in BINARY_OPS:
            raise BackendError(f"unknown operation {op}")
        t = lhs.fhe_type
        b = rhs if isinstance(rhs, int) else rhs.value
        value = _binary_int(op, lhs.value, t.wrap(b), t)
        return ClearCiphertext(FheType.Bool if op in COMPARISONS else t, value)

    def unary(self, op: str, ct: ClearCiphertext) -> ClearCiphertext:
        t = ct.fhe_type
        if op == "neg":
            return ClearCiphertext(t, t.wrap(-ct.value))
        if op == "not":
            return ClearCiphertext(t, t.wrap(~ct.value))
        raise BackendError(f"unknown operation {op}")

    def select(
        self, cond: ClearCiphertext, if_true: ClearCiphertext, if_false: ClearCiphertext
    ) -> ClearCiphertext:
        return if_true if cond.value else if_false

    def cast(self, ct: ClearCiphertext, to_type: FheType) -> ClearCiphertext:
        return ClearCiphertext(to_type, to_type.wrap(ct.value))

    def rand(
        self, fhe_type: FheType, seed: bytes, upper_bound: int | None = None
    ) -> ClearCiphertext:
        bound = fhe_type.modulus if upper_bound is None else upper_bound
        # 64 extra bits make the modular bias negligible for bounds that are not 2**k.
        stream = hashlib.shake_256(b"fhevm-py/clear-rand" + self._rand_secret + seed).digest(40)
        return ClearCiphertext(fhe_type, int.from_bytes(stream, "big") % bound)

    def sum(self, cts: Sequence[ClearCiphertext], fhe_type: FheType) -> ClearCiphertext:
        return ClearCiphertext(fhe_type, fhe_type.wrap(sum(c.value for c in cts)))

    def is_in(self, ct: ClearCiphertext, cts: Sequence[ClearCiphertext]) -> ClearCiphertext:
        return ClearCiphertext(FheType.Bool, int(any(c.value == ct.value for c in cts)))
