"""The one seam between the node and `fhevm` / `tfhe` (see docs/node-fhevm-interface.md).

When `fhevm.runtime.FhevmRuntime` imports, the chain runs its VM class and genesis; when
it does not (fhevm not built yet), the node runs plain Prague with no FHE and says so.
Key generation likewise calls `tfhe` when it can, and otherwise generates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any

from eth.vm.forks import PragueVM

log = logging.getLogger("fhevm-node")

Write = Callable[[bytes, bytes], None]


class PlainRuntime:
    """Stand-in when fhevm is missing: Prague, no precompiles, no ciphertexts."""

    fhe_enabled = False

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def vm_class(self) -> type:
        return PragueVM

    def genesis_accounts(self) -> dict[bytes, dict[str, Any]]:
        return {}

    def commit(self, write: Write) -> None:
        pass

    def discard(self) -> None:
        pass


def load_runtime(backend: str, chain_id: int, blob_db: MutableMapping[bytes, bytes]) -> Any:
    """FhevmRuntime configured for this chain, or PlainRuntime with a logged warning."""
    try:
        from fhevm.runtime import FhevmRuntime  # type: ignore[import-not-found]
    except Exception as exc:  # ImportError, or a half-built package failing at import
        reason = f"fhevm.runtime is not importable ({type(exc).__name__}: {exc})"
        log.warning("FHE DISABLED: %s; running plain Prague EVM without FHE precompiles",
                    reason)
        return PlainRuntime(reason)
    rt = FhevmRuntime(backend=backend, chain_id=chain_id, blob_db=blob_db)
    rt.fhe_enabled = True
    return rt


def generate_keys(backend: str, progress: Callable[[float, str], None]) -> dict[str, bytes]:
    """Network keys as named blobs to store in the data directory; {} if tfhe cannot.

    The `clear` backend needs no keys. For `tfhe`, calls `tfhe.keys.generate_network_keys`
    (expected to return {name: bytes} and to accept a `progress(fraction, label)` callback).
    """
    if backend == "clear":
        progress(1.0, "clear backend: no FHE keys needed")
        return {}
    try:
        from tfhe.keys import generate_network_keys  # type: ignore[import-not-found]
    except Exception as exc:
        progress(1.0, f"tfhe key generation unavailable ({type(exc).__name__}: {exc}); "
                      "NO KEYS GENERATED")
        return {}
    return dict(generate_network_keys(progress=progress))
