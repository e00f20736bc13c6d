"""Encrypted inputs (the coprocessor's input verifier): check, expand, store, attest.

tfhe backend: the client sends a compact ciphertext list (tfhe.integer.compact_list) made
under the node's compact public key; the node checks and expands it (one bootstrap per
2-bit block), stores the ciphertexts under fresh input handles and signs the EIP-712
CiphertextVerification (fhevm.attest.input_proof) that binds them to (user, contract,
chain id). clear backend: the client may send the plaintext values with their type codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils import is_address, to_canonical_address

from fhevm import attest

MAX_INPUT_BITS = 2048
TYPE_BITS = {0: 1, 1: 4, 2: 8, 3: 16, 4: 32, 5: 64, 6: 128, 7: 160, 8: 256}


class InputError(ValueError):
    """A request the node refuses (shown to the client as JSON-RPC -32602)."""


def address(raw: Any, name: str) -> bytes:
    if not isinstance(raw, str) or not is_address(raw):
        raise InputError(f"{name} must be a 0x-prefixed 20-byte address")
    return to_canonical_address(raw)


def hex_bytes(raw: Any, name: str) -> bytes:
    if not isinstance(raw, str) or not raw.startswith(("0x", "0X")):
        raise InputError(f"{name} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(raw[2:])
    except ValueError:
        raise InputError(f"{name} is not valid hex") from None


def clear_values(raw: Any) -> list[tuple[int, int]]:
    """[(type code, value)] from [{"type": code, "value": "0x.." or int}], checked."""
    if not isinstance(raw, list) or not raw:
        raise InputError("values must be a non-empty list of {type, value}")
    out, bits = [], 0
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputError(f"values[{i}] must be an object {{type, value}}")
        code, value = item.get("type"), item.get("value")
        if isinstance(code, str):
            try:
                code = int(code, 0)
            except ValueError:
                raise InputError(f"values[{i}].type {code!r} is not a type code") from None
        if not isinstance(code, int) or isinstance(code, bool) or code not in TYPE_BITS:
            raise InputError(f"values[{i}].type: unknown type code {code!r} (0..8)")
        if isinstance(value, str):
            try:
                value = int(value, 16) if value.startswith(("0x", "0X")) else int(value)
            except ValueError:
                raise InputError(f"values[{i}].value {value!r:.40} is not a number") from None
        elif isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not 0 <= value < 1 << TYPE_BITS[code]:
            raise InputError(f"values[{i}].value out of range for type code {code} "
                             f"({TYPE_BITS[code]} bits)")
        bits += 2 if code == 0 else TYPE_BITS[code]
        out.append((code, value))
    if bits > MAX_INPUT_BITS:
        raise InputError(f"input list of {bits} bits exceeds {MAX_INPUT_BITS} bits")
    return out


def encrypt_clear(runtime: Any, values: Sequence[tuple[int, int]]) -> list:
    from fhevm.types import FheType

    return [runtime.backend.encrypt(v, FheType(code)) for code, v in values]


class CompactKeys:
    """The node's compact public key and casting key (tfhe backend), loaded once."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        from node.kms_wiring import CASTING_KEY, COMPACT_PUBLIC_KEY, _tfhe_load
        from tfhe.integer.compact_list import CastingKey, CompactPublicKey

        self.public_key_bytes = keys[COMPACT_PUBLIC_KEY]
        self.public_key = CompactPublicKey.from_bytes(self.public_key_bytes)
        self.casting = _tfhe_load(CastingKey, keys[CASTING_KEY])

    def expand(self, blob: bytes, server_key: Any) -> list:
        """Expanded radix ciphertexts, or InputError with the CompactListError's text."""
        from tfhe.integer.compact_list import CompactListError, expand_bytes

        try:
            _, cts = expand_bytes(blob, self.public_key, self.casting, server_key)
        except CompactListError as exc:
            raise InputError(f"invalid ciphertext list: {exc}") from None
        return cts


def attest_inputs(runtime: Any, handles: Sequence[bytes], user: bytes, contract: bytes,
                  signer_keys: Sequence[Any], extra: bytes = b"\x00") -> bytes:
    return attest.input_proof(runtime.config, handles, user, contract, runtime.chain_id,
                              signer_keys, extra)
