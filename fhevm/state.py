"""The py-evm State of the fhEVM: PragueState plus a journaled ciphertext overlay.

Subclassed and configured (`fhevm_runtime`), not patched: every hook calls super().
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.vm.forks.prague.state import PragueState

from fhevm.deferred import Pending
from fhevm.hcu import transaction_totals
from fhevm.store import JournaledBlobs

if TYPE_CHECKING:
    from fhevm.runtime import FhevmRuntime


class FhevmState(PragueState):
    fhevm_runtime: FhevmRuntime | None = None
    _fhevm_blobs: JournaledBlobs | None = None
    #: (HCU, HCU depth) of the last transaction applied to this State, read from the
    #: executor's transient storage as the transaction ends (0, 0 without FHE work)
    fhevm_last_hcu: tuple[int, int] = (0, 0)

    @property
    def fhevm_blobs(self) -> JournaledBlobs:
        if self._fhevm_blobs is None:
            self._fhevm_blobs = JournaledBlobs()
        return self._fhevm_blobs

    def get_ciphertext_blob(self, handle: bytes) -> bytes | Pending | None:
        """Blob for `handle` as this State sees it: own overlay first (where a result of
        this block may still be a deferred `Pending`), then the runtime."""
        blob = self.fhevm_blobs.get(handle)
        if blob is None and self.fhevm_runtime is not None:
            blob = self.fhevm_runtime.store.get(handle)
        return blob

    def clear_transient_storage(self) -> None:
        # py-evm clears transient storage when a transaction ends: the HCU metered in it
        # is read first, so the node can report it per transaction
        self.fhevm_last_hcu = transaction_totals(self)
        super().clear_transient_storage()

    def snapshot(self) -> Any:
        snapshot = super().snapshot()
        self.fhevm_blobs.record(snapshot[1])
        return snapshot

    def commit(self, snapshot: Any) -> None:
        super().commit(snapshot)
        self.fhevm_blobs.commit(snapshot[1])

    def revert(self, snapshot: Any) -> None:
        super().revert(snapshot)
        self.fhevm_blobs.discard(snapshot[1])

    def lock_changes(self) -> None:
        super().lock_changes()
        self.fhevm_blobs.flatten()

    def persist(self) -> Any:
        # deferred results are computed first: if one fails, nothing has been persisted
        blobs = self.fhevm_blobs.drain()
        if blobs and self.fhevm_runtime is not None:
            blobs = self.fhevm_runtime.seal(blobs)
        witness = super().persist()
        if blobs and self.fhevm_runtime is not None:
            self.fhevm_runtime.store.adopt(blobs)
        return witness
