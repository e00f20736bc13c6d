"""Strict parsing of JSON-RPC parameters: bad input is an -32602 error, never a crash."""

from __future__ import annotations

from typing import Any

from eth_utils import is_hex_address, to_canonical_address

from node.errors import invalid_params

MAX_QUANTITY = 2**256 - 1


def quantity(x: Any, name: str = "quantity") -> int:
    if isinstance(x, bool):
        raise invalid_params(f"{name}: expected a hex quantity")
    if isinstance(x, int):
        if x < 0 or x > MAX_QUANTITY:
            raise invalid_params(f"{name}: out of range")
        return x
    if not isinstance(x, str) or not x.startswith(("0x", "0X")) or len(x) > 66:
        raise invalid_params(f"{name}: expected a hex quantity like 0x1a, got {x!r:.80}")
    try:
        return int(x, 16) if len(x) > 2 else 0
    except ValueError:
        raise invalid_params(f"{name}: invalid hex quantity {x!r:.80}") from None


def data(x: Any, name: str = "data", size: int | None = None) -> bytes:
    if not isinstance(x, str) or not x.startswith(("0x", "0X")):
        raise invalid_params(f"{name}: expected 0x-prefixed hex data")
    body = x[2:]
    if len(body) % 2:
        body = "0" + body
    try:
        out = bytes.fromhex(body)
    except ValueError:
        raise invalid_params(f"{name}: invalid hex data") from None
    if size is not None and len(out) != size:
        raise invalid_params(f"{name}: expected {size} bytes, got {len(out)}")
    return out


def address(x: Any, name: str = "address") -> bytes:
    if not isinstance(x, str) or not is_hex_address(x):
        raise invalid_params(f"{name}: expected a 20-byte hex address, got {x!r:.80}")
    return to_canonical_address(x)


def hash32(x: Any, name: str = "hash") -> bytes:
    return data(x, name, 32)


def arg(params: list, i: int, name: str, default: Any = ...) -> Any:
    if i < len(params) and params[i] is not None:
        return params[i]
    if default is ...:
        raise invalid_params(f"missing value for required argument {i} ({name})")
    return default


def check_arity(params: list, most: int) -> None:
    if len(params) > most:
        raise invalid_params(f"too many arguments, want at most {most}")
