"""Typed cleartexts and input values, by the type code of a handle (byte 30)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from fhevm.client.errors import InputRejected, WrongChain
from fhevm.types import FheType

MAX_INPUT_BITS = 2048

TYPE_NAMES = {FheType.Bool: "ebool", FheType.Uint4: "euint4", FheType.Uint8: "euint8",
              FheType.Uint16: "euint16", FheType.Uint32: "euint32", FheType.Uint64: "euint64",
              FheType.Uint128: "euint128", FheType.Uint160: "eaddress",
              FheType.Uint256: "euint256"}

Value = bool | int | str


def counted_bits(code: FheType) -> int:
    """Bits a value uses of an input list's 2048 (an ebool counts as 2, as in Zama's SDK)."""
    return 2 if code == FheType.Bool else code.bits


def to_bytes32(handle) -> bytes:
    """A handle given as bytes, HexBytes, a "0x.." string or an int, as 32 bytes."""
    if isinstance(handle, int) and not isinstance(handle, bool):
        return handle.to_bytes(32, "big")
    if isinstance(handle, str):
        h = handle[2:] if handle[:2] in ("0x", "0X") else handle
        try:
            handle = bytes.fromhex(h)
        except ValueError:
            raise ValueError(f"not a hex handle: {handle!r}") from None
    handle = bytes(handle)
    if len(handle) != 32:
        raise ValueError(f"a handle is 32 bytes, got {len(handle)}")
    return handle


def handle_type(handle: bytes) -> FheType:
    try:
        return FheType(handle[30])
    except ValueError:
        raise ValueError(f"0x{handle.hex()} is not a handle: unknown type code "
                         f"{handle[30]}") from None


def check_chain(handle: bytes, chain_id: int) -> None:
    hc = int.from_bytes(handle[22:30], "big")
    if hc != chain_id:
        raise WrongChain(f"handle 0x{handle.hex()} belongs to chain {hc}, but the node is "
                         f"chain {chain_id}: decrypt it on the chain that produced it")


def typed(code: FheType, value: int) -> Value:
    """bool for ebool, a checksummed address for eaddress, else the int."""
    value %= code.modulus
    if code == FheType.Bool:
        return bool(value)
    if code == FheType.Uint160:
        return to_checksum_address(value.to_bytes(20, "big"))
    return value


def typed_for(handle: bytes, value: int) -> Value:
    return typed(handle_type(handle), value)


def check_value(value, code: FheType) -> int:
    """The integer to encrypt for `value` as `code`; InputRejected when it does not fit."""
    name = TYPE_NAMES[code]
    if code == FheType.Uint160 and isinstance(value, str | bytes | bytearray):
        if isinstance(value, str):
            h = value[2:] if value[:2].lower() == "0x" else value
            try:
                if len(h) != 40:
                    raise ValueError
                return int(h, 16)
            except ValueError:
                raise InputRejected(f"an eaddress is a 20-byte hex address, got "
                                    f"{value!r}") from None
        if len(value) != 20:
            raise InputRejected(f"an eaddress is 20 bytes, got {len(value)}")
        return int.from_bytes(value, "big")
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise InputRejected(f"{name} takes an int, got {type(value).__name__}")
    if not 0 <= value < code.modulus:
        raise InputRejected(f"{value} is out of range for {name} (0 .. 2^{code.bits} - 1)")
    return value
