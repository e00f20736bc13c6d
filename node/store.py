"""SQLite store for the devnet: one file, one transaction per mined block.

Why SQLite: it is in the standard library (nothing to build on a fresh machine), its
write-ahead log makes each block's batch atomic, and `synchronous=NORMAL` in WAL mode
survives a killed process (only a power cut may drop the last blocks, never corrupt).
Readers in other threads use their own connections and see only committed blocks.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL,
    body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY, number INTEGER NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
"""


class Store:
    """The devnet's database file; writes happen in `batch()`, from one thread at a time."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self.conn().executescript(SCHEMA)

    def conn(self) -> sqlite3.Connection:
        """A connection owned by the calling thread (sqlite connections are not shared)."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = c
        return c

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction: everything inside lands, or nothing does."""
        with self._write_lock:
            c = self.conn()
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    def get(self, table: str, key: bytes) -> bytes | None:
        row = self.conn().execute(f"SELECT v FROM {table} WHERE k=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def meta(self, key: str) -> bytes | None:
        row = self.conn().execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def keys(self) -> dict[str, bytes]:
        return {n: bytes(v) for n, v in self.conn().execute("SELECT name, v FROM keys")}

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None


class BlobMap(MutableMapping[bytes, bytes]):
    """Read view of committed ciphertext blobs, handed to fhevm as its `blob_db`.

    Writes go through `FhevmRuntime.commit(write)` inside the block batch instead; a
    direct write here is still atomic on its own.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getitem__(self, key: bytes) -> bytes:
        v = self._store.get("blobs", bytes(key))
        if v is None:
            raise KeyError(key)
        return v

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._store.batch() as c:
            c.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (bytes(key), bytes(value)))

    def __delitem__(self, key: bytes) -> None:
        with self._store.batch() as c:
            c.execute("DELETE FROM blobs WHERE k=?", (bytes(key),))

    def __iter__(self) -> Iterator[bytes]:
        return iter([bytes(r[0]) for r in self._store.conn().execute("SELECT k FROM blobs")])

    def __len__(self) -> int:
        return self._store.conn().execute("SELECT COUNT(*) FROM blobs").fetchone()[0]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | bytearray):
            return False
        return self._store.get("blobs", bytes(key)) is not None
