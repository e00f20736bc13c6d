"""TFHE backend: the executor's operations on radix ciphertexts of `tfhe.integer`.

Real encryption: the server key computes; the client key (tests, the dealer's KMS) is only
needed to encrypt and decrypt. Random values come from the integer layer's OPRF, so not
even the node learns them.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fhevm.backends.base import BINARY_OPS, COMPARISONS, BackendError
from fhevm.types import FheType, parse_type
from tfhe import concurrent_calls_safe
from tfhe.integer import IntegerClientKey, IntegerServerKey, RadixCiphertext, blocks_for_bits
from tfhe.keys import ClientKey, ServerKey
from tfhe.shortint import Ciphertext

_MAGIC = b"FHVT"
_HEADER = struct.Struct(">4sBBHI")  # magic, format version, type code, blocks, lwe size
_BLOCK = struct.Struct(">BB")  # degree, noise level
_TYPES_BY_BITS = {t.bits: t for t in FheType}
_METHOD = {
    "add": "add", "sub": "sub", "mul": "mul", "div": "div", "rem": "rem",
    "and": "bitand", "or": "bitor", "xor": "bitxor",
    "shl": "shl", "shr": "shr", "rotl": "rotl", "rotr": "rotr",
    "eq": "eq", "ne": "ne", "ge": "ge", "gt": "gt", "le": "le", "lt": "lt",
    "min": "min", "max": "max",
}  # fmt: skip


class TfheBackend:
    """Backend over `tfhe.integer`; `client_key` is only needed to encrypt and decrypt."""

    name = "tfhe"

    def __init__(self, server_key: ServerKey, client_key: ClientKey | None = None) -> None:
        self.server = IntegerServerKey(server_key)
        self.client = None if client_key is None else IntegerClientKey(client_key)
        self._lwe_size = self.server.params.big_lwe_dimension + 1
        # bootstraps release the GIL: independent operations on separate threads use
        # separate cores, where Numba's threading layer allows concurrent callers
        self.concurrency = (os.cpu_count() or 1) if concurrent_calls_safe() else 1

    @classmethod
    def from_key_blobs(cls, keys: Mapping[str, bytes]) -> TfheBackend:
        """From tfhe key files as bytes: "tfhe/server_key" and, optionally,
        "tfhe/client_key" (the names and format the node's key generation stores)."""
        if "tfhe/server_key" not in keys:
            raise ValueError("the tfhe backend needs keys['tfhe/server_key']")
        with tempfile.TemporaryDirectory() as tmp:  # mode 0700: the client key stays private
            server_path = Path(tmp, "server")
            server_path.write_bytes(keys["tfhe/server_key"])
            server = ServerKey.load(server_path)
            client = None
            if "tfhe/client_key" in keys:
                client_path = Path(tmp, "client")
                client_path.write_bytes(keys["tfhe/client_key"])
                client = ClientKey.load(client_path)
        return cls(server, client)

    def type_of(self, ct: RadixCiphertext) -> FheType:
        return _TYPES_BY_BITS[ct.bits]

    def trivial_encrypt(self, value: int, fhe_type: FheType) -> RadixCiphertext:
        return self.server.trivial(fhe_type.wrap(value), fhe_type.bits)

    def _client(self) -> IntegerClientKey:
        if self.client is None:
            raise BackendError("this tfhe backend holds no client key")
        return self.client

    def encrypt(self, value: int, fhe_type: FheType) -> RadixCiphertext:
        return self._client().encrypt(fhe_type.wrap(value), fhe_type.bits)

    def decrypt(self, ct: RadixCiphertext) -> int:
        return self._client().decrypt(ct)

    def serialize(self, ct: RadixCiphertext) -> bytes:
        t = self.type_of(ct)
        parts = [_HEADER.pack(_MAGIC, 1, int(t), ct.num_blocks, self._lwe_size)]
        for b in ct.blocks:
            parts.append(_BLOCK.pack(b.degree, b.noise_level))
            parts.append(np.ascontiguousarray(b.data, dtype="<u8").tobytes())
        return b"".join(parts)

    def deserialize(self, blob: bytes) -> RadixCiphertext:
        try:
            magic, version, code, n, size = _HEADER.unpack_from(blob)
        except struct.error:
            raise BackendError("tfhe ciphertext blob is too short") from None
        t = parse_type(code)
        if magic != _MAGIC or version != 1 or t is None or size != self._lwe_size:
            raise BackendError("not a tfhe ciphertext of this parameter set")
        if n != blocks_for_bits(t.bits):
            raise BackendError("wrong number of blocks for the type")
        step = _BLOCK.size + 8 * size
        if len(blob) != _HEADER.size + n * step:
            raise BackendError("tfhe ciphertext blob has the wrong length")
        blocks = []
        for i in range(n):
            off = _HEADER.size + i * step
            degree, noise = _BLOCK.unpack_from(blob, off)
            data = np.frombuffer(blob, dtype="<u8", count=size, offset=off + _BLOCK.size)
            blocks.append(Ciphertext(data.astype(np.uint64), degree, noise))
        return RadixCiphertext(blocks, t.bits)

    def binary(self, op: str, lhs: RadixCiphertext, rhs: RadixCiphertext | int) -> RadixCiphertext:
        if op not in BINARY_OPS:
            raise BackendError(f"unknown operation {op}")
        if isinstance(rhs, int) and op in ("shl", "shr", "rotl", "rotr"):
            rhs %= lhs.bits
        out = getattr(self.server, _METHOD[op])(lhs, rhs)
        if (out.bits == 1) != (op in COMPARISONS or lhs.bits == 1):
            raise BackendError(f"{op} returned a {out.bits}-bit result")
        return out

    def unary(self, op: str, ct: RadixCiphertext) -> RadixCiphertext:
        if op == "neg":
            return self.server.neg(ct)
        if op == "not":
            return self.server.bitnot(ct)
        raise BackendError(f"unknown operation {op}")

    def select(
        self, cond: RadixCiphertext, if_true: RadixCiphertext, if_false: RadixCiphertext
    ) -> RadixCiphertext:
        return self.server.select(cond, if_true, if_false)

    def cast(self, ct: RadixCiphertext, to_type: FheType) -> RadixCiphertext:
        return self.server.cast(ct, to_type.bits)

    def rand(
        self, fhe_type: FheType, seed: bytes, upper_bound: int | None = None
    ) -> RadixCiphertext:
        return self.server.random(seed, fhe_type.bits, upper_bound)

    def sum(self, cts: Sequence[RadixCiphertext], fhe_type: FheType) -> RadixCiphertext:
        if not cts:
            return self.trivial_encrypt(0, fhe_type)
        return self.server.sum(list(cts))

    def is_in(self, ct: RadixCiphertext, cts: Sequence[RadixCiphertext]) -> RadixCiphertext:
        if not cts:
            return self.server.trivial(0, 1)
        return self.server.is_in(ct, list(cts))
