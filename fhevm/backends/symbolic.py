"""Symbolic backend: types without values, for messages whose ciphertexts are thrown away.

`eth_call` and `eth_estimateGas` run a transaction on a copy of the state and discard it,
ciphertexts included. Nothing a contract can observe depends on what a ciphertext holds:
results get fresh random handles, gas and HCU depend only on operation, type and operand
kind, and the EVM cannot branch on an encrypted value. So these messages need the types of
the results, not the results: this backend tracks types only and does no FHE work. On the
tfhe backend that turns a gas estimate (a dozen executions of the transaction in geth's
binary search) from minutes of bootstrapping into milliseconds.

Loading a real ciphertext still goes through the real backend's `deserialize`, so a corrupt
or mistyped stored blob reverts exactly as it does in a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fhevm.backends.base import BINARY_OPS, COMPARISONS, Backend, BackendError
from fhevm.types import FheType, parse_type

_MAGIC = b"FHEVM-SYMBOLIC\x00"


@dataclass(frozen=True)
class TypedPlaceholder:
    """A ciphertext of which only the type is known."""

    fhe_type: FheType


class SymbolicBackend:
    """Same types and errors as `inner`, no values; cannot encrypt or decrypt."""

    name = "symbolic"
    concurrency = 1

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def type_of(self, ct: TypedPlaceholder) -> FheType:
        return ct.fhe_type

    def trivial_encrypt(self, value: int, fhe_type: FheType) -> TypedPlaceholder:
        return TypedPlaceholder(fhe_type)

    def encrypt(self, value: int, fhe_type: FheType) -> TypedPlaceholder:
        raise BackendError("a simulated message cannot encrypt")

    def decrypt(self, ct: TypedPlaceholder) -> int:
        raise BackendError("a simulated ciphertext holds no value")

    def serialize(self, ct: TypedPlaceholder) -> bytes:
        return _MAGIC + bytes([int(ct.fhe_type)])

    def deserialize(self, blob: bytes) -> TypedPlaceholder:
        if len(blob) == len(_MAGIC) + 1 and blob.startswith(_MAGIC):
            t = parse_type(blob[-1])
            if t is None:
                raise BackendError("malformed symbolic ciphertext")
            return TypedPlaceholder(t)
        return TypedPlaceholder(self.inner.type_of(self.inner.deserialize(blob)))

    def binary(self, op: str, lhs: TypedPlaceholder,
               rhs: TypedPlaceholder | int) -> TypedPlaceholder:
        if op not in BINARY_OPS:
            raise BackendError(f"unknown operation {op}")
        return TypedPlaceholder(FheType.Bool if op in COMPARISONS else lhs.fhe_type)

    def unary(self, op: str, ct: TypedPlaceholder) -> TypedPlaceholder:
        if op not in ("neg", "not"):
            raise BackendError(f"unknown operation {op}")
        return ct

    def select(self, cond: TypedPlaceholder, if_true: TypedPlaceholder,
               if_false: TypedPlaceholder) -> TypedPlaceholder:
        return if_true

    def cast(self, ct: TypedPlaceholder, to_type: FheType) -> TypedPlaceholder:
        return TypedPlaceholder(to_type)

    def rand(self, fhe_type: FheType, seed: bytes,
             upper_bound: int | None = None) -> TypedPlaceholder:
        return TypedPlaceholder(fhe_type)

    def sum(self, cts: Sequence[TypedPlaceholder], fhe_type: FheType) -> TypedPlaceholder:
        return TypedPlaceholder(fhe_type)

    def is_in(self, ct: TypedPlaceholder, cts: Sequence[TypedPlaceholder]) -> TypedPlaceholder:
        return TypedPlaceholder(FheType.Bool)
