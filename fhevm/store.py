"""Ciphertext store that follows the EVM's journal.

Blobs created while a State executes live in that State's `JournaledBlobs`, which records,
commits and discards with the same checkpoints as py-evm's account and transient storage:
a reverted frame drops its blobs with its storage writes. When the State is persisted
(MiningChain does so after each transaction it adds to the block being built), the
surviving blobs move to the runtime-wide `CiphertextStore` as pending; the node writes them
in the block's database batch (`commit`) or drops them (`discard`). States that are never
persisted (eth_call, eth_estimateGas) take their blobs with them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fhevm.deferred import Pending


class JournaledBlobs:
    """handle -> blob for one State, with nested checkpoints. A value may also be a
    deferred result (fhevm.deferred.Pending) until the State is persisted."""

    def __init__(self) -> None:
        self._blobs: dict[bytes, bytes | Pending] = {}
        # One entry per open checkpoint: (checkpoint id, handles added since it opened).
        self._journal: list[tuple[object, list[bytes]]] = []

    def get(self, handle: bytes) -> bytes | Pending | None:
        return self._blobs.get(handle)

    def put(self, handle: bytes, blob: bytes | Pending) -> None:
        if handle in self._blobs:
            return
        self._blobs[handle] = blob
        if self._journal:
            self._journal[-1][1].append(handle)

    def record(self, checkpoint: object) -> None:
        self._journal.append((checkpoint, []))

    def _index(self, checkpoint: object) -> int | None:
        for i in range(len(self._journal) - 1, -1, -1):
            if self._journal[i][0] == checkpoint:
                return i
        return None

    def commit(self, checkpoint: object) -> None:
        """Keep what was added since `checkpoint`, folding it into the enclosing one."""
        i = self._index(checkpoint)
        if i is None:
            return
        added = [h for _, hs in self._journal[i:] for h in hs]
        del self._journal[i:]
        if self._journal:
            self._journal[-1][1].extend(added)

    def discard(self, checkpoint: object) -> None:
        """Drop everything added since `checkpoint` (the frame reverted)."""
        i = self._index(checkpoint)
        if i is None:
            return
        for _, hs in self._journal[i:]:
            for h in hs:
                self._blobs.pop(h, None)
        del self._journal[i:]

    def flatten(self) -> None:
        """Make every change final (py-evm's `lock_changes`, between transactions)."""
        self._journal.clear()

    def drain(self) -> dict[bytes, bytes | Pending]:
        """Take all blobs out (on persist) and start empty."""
        blobs, self._blobs = self._blobs, {}
        self._journal.clear()
        return blobs

    def __len__(self) -> int:
        return len(self._blobs)


class CiphertextStore:
    """Runtime-wide ciphertexts: durable (`blob_db`), pending a block, or just committed."""

    def __init__(self, blob_db: MutableMapping[bytes, bytes]) -> None:
        self._db = blob_db
        self._pending: dict[bytes, bytes] = {}
        # Written through the node's `write` but maybe not yet visible in blob_db.
        self._committed: dict[bytes, bytes] = {}
        self._lock = threading.RLock()

    def get(self, handle: bytes) -> bytes | None:
        with self._lock:
            blob = self._pending.get(handle)
            if blob is None:
                blob = self._committed.get(handle)
                if blob is not None and handle in self._db:
                    del self._committed[handle]  # durable now: stop caching
            if blob is None:
                blob = self._db.get(handle)
            return blob

    def adopt(self, blobs: dict[bytes, bytes]) -> None:
        """Blobs of a persisted State: they belong to the block being built."""
        with self._lock:
            self._pending.update(blobs)

    def put_durable(self, handle: bytes, blob: bytes) -> None:
        """Off-chain data (uploaded inputs) that exists independently of any block."""
        with self._lock:
            self._db[handle] = blob

    def pending_count(self) -> int:
        return len(self._pending)

    def commit(self, write: Callable[[bytes, bytes], None] | None = None) -> int:
        """Hand every pending blob to `write` (default: straight into blob_db)."""
        with self._lock:
            for handle in [h for h in self._committed if h in self._db]:
                del self._committed[handle]  # earlier batches have landed
            items: Iterable[tuple[bytes, bytes]] = list(self._pending.items())
            n = 0
            for handle, blob in items:
                if write is None:
                    self._db[handle] = blob
                else:
                    write(handle, blob)
                    self._committed[handle] = blob
                n += 1
            self._pending.clear()
            return n

    def discard(self) -> None:
        with self._lock:
            self._pending.clear()
