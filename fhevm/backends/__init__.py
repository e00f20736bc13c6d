"""FHE backends behind one interface (`Backend`); pick one by name."""

from __future__ import annotations

from fhevm.backends.base import Backend, BackendError, Ciphertext
from fhevm.backends.clear import ClearBackend

__all__ = [
    "Backend",
    "BackendError",
    "Ciphertext",
    "ClearBackend",
    "available_backends",
    "make_backend",
]


def make_backend(name: str) -> Backend:
    """The backend called `name` ("clear"; "tfhe" once the integer layer exists)."""
    if name == "clear":
        return ClearBackend()
    if name == "tfhe":
        raise NotImplementedError(
            "the tfhe backend needs tfhe.integer, which does not exist yet; use backend='clear'"
        )
    raise ValueError(f"unknown backend {name!r}")


def available_backends() -> list[str]:
    """Names `make_backend` accepts in this checkout."""
    return ["clear"]
