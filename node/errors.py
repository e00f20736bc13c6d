"""JSON-RPC errors with the codes Ethereum clients expect."""

from __future__ import annotations

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # geth: nonce too low, insufficient funds, ...
EXECUTION_REVERTED = 3


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict:
        err: dict = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, message)


def reverted(output: bytes) -> RpcError:
    """Code 3 with the raw revert bytes in `data`, the way geth / anvil answer."""
    reason = decode_revert_reason(output)
    msg = "execution reverted" + (f": {reason}" if reason else "")
    return RpcError(EXECUTION_REVERTED, msg, "0x" + output.hex())


def decode_revert_reason(output: bytes) -> str | None:
    if output[:4] == bytes.fromhex("08c379a0") and len(output) >= 68:
        try:
            length = int.from_bytes(output[36:68], "big")
            return output[68:68 + length].decode("utf-8", "replace")
        except Exception:
            return None
    return None
