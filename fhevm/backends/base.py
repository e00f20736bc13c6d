"""The one interface between the executor and an FHE engine.

The executor never looks inside a ciphertext: it asks a backend to compute on opaque
objects, to (de)serialise them for the ciphertext store, and (tests, KMS) to decrypt.
Every backend implements the same semantics (ARCHITECTURE.md), so a contract cannot tell
which one runs underneath except by speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from fhevm.types import FheType

Ciphertext = Any
"""Backend-specific opaque ciphertext object."""

BINARY_OPS = (
    "add", "sub", "mul", "div", "rem",
    "and", "or", "xor",
    "shl", "shr", "rotl", "rotr",
    "eq", "ne", "ge", "gt", "le", "lt",
    "min", "max",
)  # fmt: skip
COMPARISONS = frozenset({"eq", "ne", "ge", "gt", "le", "lt"})
UNARY_OPS = ("neg", "not")


class BackendError(Exception):
    """A backend refused its input (e.g. a blob that does not deserialise)."""


@runtime_checkable
class Backend(Protocol):
    """Operations on encrypted integers, all with wrap-around unsigned semantics."""

    name: str
    #: How many operations may usefully run at once. Above 1 the runtime defers results
    #: and computes a block's operations as a graph (fhevm.deferred); 1 computes each when
    #: the contract asks for it (cheap backends: deferral would only add overhead).
    concurrency: int

    def type_of(self, ct: Ciphertext) -> FheType: ...

    def trivial_encrypt(self, value: int, fhe_type: FheType) -> Ciphertext:
        """A ciphertext of `value mod 2**bits` that needs no key (public value)."""

    def encrypt(self, value: int, fhe_type: FheType) -> Ciphertext:
        """A real encryption (client side: inputs, tests)."""

    def decrypt(self, ct: Ciphertext) -> int:
        """Cleartext of a ciphertext (tests and the KMS only)."""

    def serialize(self, ct: Ciphertext) -> bytes: ...

    def deserialize(self, blob: bytes) -> Ciphertext:
        """Inverse of `serialize`; raises BackendError on a malformed blob."""

    def binary(self, op: str, lhs: Ciphertext, rhs: Ciphertext | int) -> Ciphertext:
        """`op` of BINARY_OPS; `rhs` is a ciphertext of lhs's type or a plaintext int
        already reduced to that type. Comparisons give Bool."""

    def unary(self, op: str, ct: Ciphertext) -> Ciphertext: ...

    def select(self, cond: Ciphertext, if_true: Ciphertext, if_false: Ciphertext) -> Ciphertext: ...

    def cast(self, ct: Ciphertext, to_type: FheType) -> Ciphertext:
        """Truncate or zero-extend to `to_type`."""

    def rand(self, fhe_type: FheType, seed: bytes, upper_bound: int | None = None) -> Ciphertext:
        """Uniform value in [0, upper_bound or 2**bits) derived from a secret seed."""

    def sum(self, cts: Sequence[Ciphertext], fhe_type: FheType) -> Ciphertext: ...

    def is_in(self, ct: Ciphertext, cts: Sequence[Ciphertext]) -> Ciphertext:
        """Bool: whether `ct` equals any member of `cts`."""
