"""Errors of the SDK: each says what went wrong and what to do about it."""

from __future__ import annotations


class FhevmClientError(RuntimeError):
    """Base class of every error the SDK raises."""


class NodeNotRunning(FhevmClientError):
    """Nothing answers at the provider's URL."""


class NotAnFhevmNode(FhevmClientError):
    """The node answers JSON-RPC but has no fhEVM methods (anvil, hardhat, an old node)."""


class WrongChain(FhevmClientError):
    """A handle, input or request belongs to another chain than the node's."""


class InputRejected(FhevmClientError):
    """The node refused an encrypted input (too large, malformed, wrong type...)."""


class DecryptionRefused(FhevmClientError):
    """The KMS (or the node) refused a decryption: usually the ACL does not allow it."""


class DecryptionError(FhevmClientError):
    """The answers came back but do not give a trustworthy cleartext (bad signatures,
    tampered shares, too few agreeing parties)."""


class RpcError(FhevmClientError):
    """Any other JSON-RPC error from the node (code and message kept)."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"{method}: {message}" + (f" (code {code})" if code is not None else ""))
        self.method, self.code, self.message = method, code, message
