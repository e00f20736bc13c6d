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


def load_runtime(backend: str, chain_id: int, blob_db: MutableMapping[bytes, bytes],
                 **options: Any) -> Any:
    """FhevmRuntime configured for this chain, or PlainRuntime with a logged warning.
    `options`: keys= and config= for FhevmRuntime (node.kms_wiring.runtime_options)."""
    try:
        from fhevm.runtime import FhevmRuntime  # type: ignore[import-not-found]
    except Exception as exc:  # ImportError, or a half-built package failing at import
        reason = f"fhevm.runtime is not importable ({type(exc).__name__}: {exc})"
        log.warning("FHE DISABLED: %s; running plain Prague EVM without FHE precompiles",
                    reason)
        return PlainRuntime(reason)
    try:
        rt = FhevmRuntime(backend=backend, chain_id=chain_id, blob_db=blob_db, **options)
    except (NotImplementedError, ValueError) as exc:
        raise BackendUnavailable(f"backend {backend!r} is not available: {exc}") from exc
    rt.fhe_enabled = True
    return rt


class BackendUnavailable(RuntimeError):
    """The requested FHE backend cannot be built in this checkout."""


def available_backends() -> list[str]:
    """Backends fhevm can build in this checkout ("clear" alone while tfhe is missing);
    "tfhe" counts once tfhe.integer loads, since the node generates and passes its keys."""
    try:
        from fhevm.backends import available_backends as fhevm_backends
    except Exception:
        return ["clear"]
    return list(fhevm_backends(with_keys=True))


def default_backend() -> str:
    """tfhe when fhevm can run it, else clear (the CLI says which it picked)."""
    return "tfhe" if "tfhe" in available_backends() else "clear"


def key_parameters() -> Any:
    """tfhe parameter set for network keys: DEFAULT (128-bit), or the set named in
    FHEVM_NODE_KEY_PARAMS (tests use an INSECURE_ set to stay fast)."""
    import os

    from tfhe.params import DEFAULT, PARAMETER_SETS_BY_NAME

    name = os.environ.get("FHEVM_NODE_KEY_PARAMS")
    return PARAMETER_SETS_BY_NAME[name] if name else DEFAULT


def generate_keys(backend: str, progress: Callable[[float, str], None]) -> dict[str, bytes]:
    """Network keys as named blobs to store in the data directory; {} if none are needed
    (clear backend) or tfhe cannot make them (then `progress` says why)."""
    if backend == "clear":
        progress(1.0, "clear backend: no FHE keys needed")
        return {}
    try:
        from tfhe.keys import generate_keys as tfhe_generate_keys
        params = key_parameters()
    except Exception as exc:
        progress(1.0, f"tfhe key generation unavailable ({type(exc).__name__}: {exc}); "
                      "NO KEYS GENERATED")
        return {}
    import tempfile
    from pathlib import Path

    progress(0.0, f"generating client and server keys ({params.name})")
    client, server = tfhe_generate_keys(params, progress=True)
    with tempfile.TemporaryDirectory() as tmp:  # tfhe's checksummed key file format
        client.save(Path(tmp, "client"))
        server.save(Path(tmp, "server"))
        keys = {"tfhe/client_key": Path(tmp, "client").read_bytes(),
                "tfhe/server_key": Path(tmp, "server").read_bytes()}
    progress(1.0, f"keys ready ({params.name})")
    return keys
