"""Handle layout (ARCHITECTURE.md): 21-byte hash prefix, index, chain id, type, version."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from eth_utils import keccak

from fhevm.types import FheType, parse_type

HANDLE_VERSION = 0
COMPUTED_INDEX = 0xFF
PREFIX_LEN = 21


class HandleError(ValueError):
    """A 32-byte value that is not a well-formed handle for this chain."""


@dataclass(frozen=True)
class HandleInfo:
    prefix: bytes
    index: int
    chain_id: int
    fhe_type: FheType
    version: int


def pack(prefix: bytes, index: int, chain_id: int, fhe_type: FheType) -> bytes:
    """Assemble a handle from its fields."""
    if len(prefix) != PREFIX_LEN or not 0 <= index <= 0xFF:
        raise HandleError("bad handle fields")
    return (
        prefix
        + bytes([index])
        + chain_id.to_bytes(8, "big")
        + bytes([int(fhe_type), HANDLE_VERSION])
    )


def fresh_computed(fhe_type: FheType, chain_id: int) -> bytes:
    """A new handle for a computed result: random prefix, so nobody can predict it."""
    return pack(secrets.token_bytes(PREFIX_LEN), COMPUTED_INDEX, chain_id, fhe_type)


def input_handle(bundle_hash: bytes, index: int, chain_id: int, fhe_type: FheType) -> bytes:
    """Handle of the `index`-th ciphertext of an uploaded input bundle."""
    if not 0 <= index < COMPUTED_INDEX:
        raise HandleError("input index out of range")
    prefix = keccak(b"fhevm-py/input" + bundle_hash + bytes([index]))[:PREFIX_LEN]
    return pack(prefix, index, chain_id, fhe_type)


def unpack(handle: bytes) -> HandleInfo:
    """Split a handle into its fields, rejecting unknown types and versions."""
    if len(handle) != 32:
        raise HandleError("handle must be 32 bytes")
    fhe_type = parse_type(handle[30])
    if fhe_type is None:
        raise HandleError(f"unknown type code {handle[30]} in handle 0x{handle.hex()}")
    if handle[31] != HANDLE_VERSION:
        raise HandleError(f"unsupported handle version {handle[31]}")
    return HandleInfo(
        prefix=handle[:PREFIX_LEN],
        index=handle[21],
        chain_id=int.from_bytes(handle[22:30], "big"),
        fhe_type=fhe_type,
        version=handle[31],
    )


def type_of(handle: bytes) -> FheType:
    return unpack(handle).fhe_type
