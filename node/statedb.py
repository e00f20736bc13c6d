"""py-evm's key-value database, backed by the SQLite store with a write buffer.

py-evm writes trie nodes and headers as it executes. Those writes stay in `pending`
until the block they belong to is committed (`flush` inside the block's batch), or are
dropped (`rollback`) when the block fails. Committed values are cached in memory.
Keys are content hashes, so a reader of committed state never sees a half block.
"""

from __future__ import annotations

import sqlite3

from eth.db.backends.base import BaseDB
from lru import LRU

from node.store import Store


class BufferedStateDB(BaseDB):
    def __init__(self, store: Store, cache_size: int = 200_000) -> None:
        self._store = store
        self.pending: dict[bytes, bytes] = {}
        self._cache = LRU(cache_size)

    def __getitem__(self, key: bytes) -> bytes:
        v = self.pending.get(key)
        if v is not None:
            return v
        v = self._cache.get(key)
        if v is not None:
            return v
        v = self._store.get("kv", key)
        if v is None:
            raise KeyError(key)
        self._cache[key] = v
        return v

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.pending[key] = value

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __delitem__(self, key: bytes) -> None:
        # Trie nodes are content-addressed and never pruned on a devnet; a delete of a
        # pending value just forgets it.
        self.pending.pop(key, None)

    def flush(self, conn: sqlite3.Connection) -> None:
        """Write pending values inside the caller's open transaction."""
        if self.pending:
            conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", self.pending.items())

    def committed(self) -> None:
        """After the transaction committed: pending values become cached ones."""
        for k, v in self.pending.items():
            self._cache[k] = v
        self.pending = {}

    def rollback(self) -> None:
        self.pending = {}
