"""ABI helpers: strict decoding of calldata and the Error(string) revert payload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

ERROR_SELECTOR = bytes.fromhex("08c379a0")


class Revert(Exception):
    """Raised anywhere below a precompile to revert the call with a reason string."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def error_payload(reason: str) -> bytes:
    """Solidity's Error(string) encoding, what `require(cond, reason)` reverts with."""
    return ERROR_SELECTOR + encode(["string"], [reason])


def decode_reason(payload: bytes) -> str | None:
    """The reason string of an Error(string) payload, else None."""
    if payload[:4] != ERROR_SELECTOR:
        return None
    try:
        return decode(["string"], payload[4:])[0]
    except Exception:
        return None


def decode_args(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """Decode call arguments strictly (padding checked); malformed data reverts."""
    try:
        return decode(list(types), data, strict=True)
    except Exception as exc:
        raise Revert(f"malformed calldata: {type(exc).__name__}") from None


def encode_result(types: Sequence[str], values: Sequence[Any]) -> bytes:
    return encode(list(types), list(values))
