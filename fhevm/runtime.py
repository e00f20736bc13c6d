"""FhevmRuntime: one per chain; the seam the node builds on (docs/node-fhevm-interface.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth_utils import keccak

from fhevm import acl, addresses
from fhevm import handles as handles_mod
from fhevm.acl import AclPrecompile
from fhevm.backends import Backend, Ciphertext, make_backend
from fhevm.backends.symbolic import SymbolicBackend
from fhevm.config import FhevmConfig
from fhevm.deferred import Pending, evaluate
from fhevm.executor import ExecutorPrecompile
from fhevm.precompile import Precompile
from fhevm.state import FhevmState
from fhevm.store import CiphertextStore
from fhevm.verifiers import InputVerifierPrecompile, KmsVerifierPrecompile, signer_storage

#: Set while a message runs whose ciphertexts are thrown away (see `simulating`).
_SIMULATING: ContextVar[bool] = ContextVar("fhevm_simulating", default=False)


class FhevmRuntime:
    """Backend, ciphertext store and precompiles of one fhEVM chain."""

    def __init__(
        self,
        backend: str | Backend = "clear",
        chain_id: int = 31337,
        blob_db: MutableMapping[bytes, bytes] | None = None,
        config: FhevmConfig | None = None,
        keys: Mapping[str, bytes] | None = None,
        defer: bool | None = None,
    ) -> None:
        """`keys`: network key files as bytes, needed by backend="tfhe" (see make_backend).
        `defer`: compute each block's FHE operations as a graph when the block is sealed
        (fhevm.deferred); by default when the backend can run operations concurrently."""
        self._backend: Backend = (
            make_backend(backend, keys) if isinstance(backend, str) else backend
        )
        workers = max(1, int(getattr(self._backend, "concurrency", 1)))
        self._defer = workers > 1 if defer is None else defer
        self._pool = (
            ThreadPoolExecutor(workers, thread_name_prefix="fhevm-fhe")
            if self._defer and workers > 1
            else None
        )
        self._symbolic = SymbolicBackend(self._backend)
        self.chain_id = chain_id
        self.config = config or FhevmConfig()
        self.store = CiphertextStore({} if blob_db is None else blob_db)
        self.executor = ExecutorPrecompile(self)
        self.acl = AclPrecompile(self)
        self.kms_verifier = KmsVerifierPrecompile(self)
        self.input_verifier = InputVerifierPrecompile(self)
        self._vm_class: type[PragueVM] | None = None

    @property
    def backend(self) -> Backend:
        """The FHE backend; the symbolic one inside `simulating()` (this thread only)."""
        return self._symbolic if _SIMULATING.get() else self._backend

    def defers(self) -> bool:
        """Whether the executor records results as `Pending` nodes (never while simulating:
        the symbolic backend has nothing to defer)."""
        return self._defer and not _SIMULATING.get()

    def seal(self, blobs: Mapping[bytes, bytes | Pending]) -> dict[bytes, bytes]:
        """Blobs of a State being persisted, with every deferred result computed (independent
        ones concurrently) and serialised. Raises BackendError if a computation fails."""
        pending = [v for v in blobs.values() if isinstance(v, Pending)]
        if not pending:
            return dict(blobs)  # type: ignore[arg-type]
        evaluate(pending, self._backend.type_of, self._pool)
        return {
            h: self._backend.serialize(v.value) if isinstance(v, Pending) else v
            for h, v in blobs.items()
        }

    @contextmanager
    def simulating(self) -> Iterator[None]:
        """Run messages whose state is discarded (eth_call, eth_estimateGas) on the
        symbolic backend: same handles, types, reverts, gas and HCU, no FHE work.
        Per thread (a ContextVar), so a block mined meanwhile computes for real."""
        token = _SIMULATING.set(True)
        try:
            yield
        finally:
            _SIMULATING.reset(token)

    # --- chain construction ----------------------------------------------------------

    def precompiles(self) -> dict[bytes, Precompile]:
        services: list[Precompile] = [
            self.executor, self.acl, self.kms_verifier, self.input_verifier
        ]  # fmt: skip
        return {p.address: p for p in services}

    def vm_class(self) -> type[PragueVM]:
        """A PragueVM subclass whose computations also serve the fhEVM precompiles."""
        if self._vm_class is None:
            computation = PragueComputation.configure(
                __name__="FhevmComputation",
                _precompiles={**PragueComputation._precompiles, **self.precompiles()},
            )
            state = FhevmState.configure(
                __name__="FhevmPragueState",
                computation_class=computation,
                fhevm_runtime=self,
            )
            self._vm_class = PragueVM.configure(__name__="FhevmPragueVM", _state_class=state)
        return self._vm_class

    def genesis_accounts(self) -> dict[bytes, dict[str, Any]]:
        """Genesis entries for the service addresses: placeholder code and initial storage."""
        cfg = self.config
        storage: dict[bytes, dict[int, int]] = {a: {} for a in self.precompiles()}
        if cfg.owner is not None:
            storage[addresses.ACL][acl.OWNER_SLOT] = int.from_bytes(cfg.owner, "big")
        storage[addresses.KMS_VERIFIER].update(signer_storage(cfg.kms_signers, cfg.kms_threshold))
        storage[addresses.INPUT_VERIFIER].update(
            signer_storage(cfg.input_signers, cfg.input_threshold)
        )
        return {
            address: {
                "balance": 0,
                "nonce": 1,
                "code": addresses.PLACEHOLDER_CODE,
                "storage": slots,
            }
            for address, slots in storage.items()
        }

    # --- block lifecycle ---------------------------------------------------------------

    def commit(self, write: Callable[[bytes, bytes], None] | None = None) -> int:
        """After a block is mined: hand each new blob to `write(handle, blob)` (default:
        straight into blob_db). Returns how many blobs were written."""
        return self.store.commit(write)

    def discard(self) -> None:
        """Drop blobs of transactions applied since the last commit (an abandoned block)."""
        self.store.discard()

    # --- ciphertexts outside the EVM (inputs, KMS, tests) ------------------------------

    def upload_inputs(
        self, cts: Sequence[Ciphertext], handles: Sequence[bytes] | None = None
    ) -> list[bytes]:
        """Store an encrypted input bundle, as the coprocessor does after checking its
        proof of knowledge, and return the input handles. The bundle's attestation (the
        `inputProof`) is signed separately by the input signers (fhevm.attest).

        `handles` lets a client that derives them itself (Zama's relayer SDK does) keep
        its own; each must carry its index, this chain id and its ciphertext's type."""
        if not 0 < len(cts) <= 254:
            raise ValueError("an input bundle holds 1 to 254 ciphertexts")
        blobs = [self.backend.serialize(ct) for ct in cts]
        if handles is None:
            # a fresh salt: with the clear backend equal values have equal blobs, and their
            # handles must not reveal that two inputs are equal
            bundle_hash = keccak(os.urandom(32) + b"".join(keccak(b) for b in blobs))
            handles = [
                handles_mod.input_handle(bundle_hash, i, self.chain_id, self.backend.type_of(ct))
                for i, ct in enumerate(cts)
            ]
        if len(handles) != len(cts):
            raise ValueError("one handle per ciphertext")
        for i, (h, ct) in enumerate(zip(handles, cts, strict=True)):
            info = handles_mod.unpack(h)
            if (info.index, info.chain_id, info.fhe_type) != (
                i,
                self.chain_id,
                self.backend.type_of(ct),
            ):
                raise ValueError(f"handle {i} does not match its ciphertext (index, chain, type)")
        for h, blob in zip(handles, blobs, strict=True):
            self.store.put_durable(h, blob)
        return list(handles)

    def upload_input_blobs(self, blobs: Sequence[bytes]) -> list[bytes]:
        """`upload_inputs` for serialised ciphertexts as a client sends them; a blob the
        backend cannot read raises fhevm.backends.BackendError."""
        return self.upload_inputs([self.backend.deserialize(b) for b in blobs])

    def load(self, handle: bytes) -> Ciphertext | None:
        """Ciphertext under `handle` from mined or pending blocks (not from a State's
        unpersisted overlay), or None."""
        blob = self.store.get(handle)
        return None if blob is None else self.backend.deserialize(blob)

    def decrypt(self, handle: bytes) -> int:
        """Cleartext under `handle` (tests; the KMS goes through its own key shares)."""
        ct = self.load(handle)
        if ct is None:
            raise KeyError(f"no ciphertext for handle 0x{handle.hex()}")
        return self.backend.decrypt(ct)
