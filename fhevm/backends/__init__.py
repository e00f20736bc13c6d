"""FHE backends behind one interface (`Backend`); pick one by name."""

from __future__ import annotations

from collections.abc import Mapping

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


def make_backend(name: str, keys: Mapping[str, bytes] | None = None) -> Backend:
    """The backend called `name`. "clear" needs nothing; "tfhe" needs the network keys as
    tfhe key-file bytes: keys["tfhe/server_key"] (and "tfhe/client_key" to decrypt)."""
    if name == "clear":
        return ClearBackend()
    if name == "tfhe":
        if not _tfhe_importable():
            raise NotImplementedError("the tfhe backend needs tfhe.integer, which cannot load")
        if not keys:
            raise ValueError("the tfhe backend needs keys (tfhe/server_key, tfhe/client_key)")
        from fhevm.backends.tfhe import TfheBackend

        return TfheBackend.from_key_blobs(keys)
    raise ValueError(f"unknown backend {name!r}")


def _tfhe_importable() -> bool:
    try:
        import fhevm.backends.tfhe  # noqa: F401
    except Exception:
        return False
    return True


def available_backends(with_keys: bool = False) -> list[str]:
    """Backends `make_backend` can build in this checkout: by name alone, or (with_keys)
    also those that need network keys passed in, i.e. "tfhe" once tfhe.integer loads."""
    names = ["clear"]
    if with_keys and _tfhe_importable():
        names.append("tfhe")
    return names
