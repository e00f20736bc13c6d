"""Switch-n-squash in the node (the coprocessor), once per handle, for all KMS parties.

Squashing is the expensive step of a decryption and uses only public keys, so the node does
it once and serves the result (`fhevm_getSquashedCiphertext`) instead of each of the n
parties redoing it with its own copy of the 812 MiB squash key. It adds no trust: the node
already decides which ciphertext a handle stands for (docs/kms.md, trust model).

- all blocks of all handles asked at once go through one batched `squash` call (up to
  MAX_BATCH_LWES blocks per call, to bound memory), one call at a time;
- results are cached per handle (LRU, bounded by the number of squashed LWEs kept);
- requests for a handle already being squashed wait for that same task (the n parties of
  one decryption ask together: one squash, not n).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import squashing
from .dealer import PublicConfig
from .params import load_squash_key, squash_parameters

MAX_BATCH_LWES = 256  # blocks per squash call (a call's buffers grow with it)
MAX_CACHED_LWES = 2048  # ~64 KiB each on SQUASH (4097 x 16 bytes): ~130 MiB at most
MAX_PENDING_BLOCKS = 2048  # radix blocks waiting or running (~70 s of work on 2 cores)

GetBlob = Callable[[bytes], "bytes | None"]


class SquashError(RuntimeError):
    """A ciphertext could not be squashed (bad blob, or keys that do not match)."""


class SquashBusy(SquashError):
    """The backlog is full: anyone may ask for any handle, so the work queued is bounded
    and a request beyond it is refused at once (to be retried) rather than queued."""


@dataclass(frozen=True)
class SquashedCiphertext:
    """The squashed LWEs of one handle: (groups, hi, lo), hi and lo of shape (G, d + 1)."""

    groups: list[tuple[int, ...]]
    hi: np.ndarray
    lo: np.ndarray

    def to_json(self) -> dict:
        """{groups, lwes}: node.kms.squashing.decode_squashed reads it."""
        return {"groups": [list(g) for g in self.groups],
                "lwes": [squashing.encode_lwe(h, lo) for h, lo in
                         zip(self.hi, self.lo, strict=True)]}

    def as_ints(self) -> squashing.Squashed:
        from tfhe.core.squash import to_ints

        return self.groups, [to_ints(h, lo) for h, lo in zip(self.hi, self.lo, strict=True)]


class Squasher:
    """Squashes committed ciphertexts (read with `get_blob`) with the dealt public keys."""

    def __init__(self, kms_dir: str | Path, cfg: PublicConfig, get_blob: GetBlob,
                 max_cached_lwes: int = MAX_CACHED_LWES,
                 max_batch_lwes: int = MAX_BATCH_LWES, keys: tuple | None = None,
                 max_pending_blocks: int = MAX_PENDING_BLOCKS) -> None:
        """keys: (ksk, SquashKey) already in memory (tests), else loaded from kms_dir on
        first use (memory-mapped: the key's pages are shared, not copied)."""
        self.public = Path(kms_dir) / "public"
        self.cfg, self.get_blob = cfg, get_blob
        self.max_cached, self.max_batch = max_cached_lwes, max_batch_lwes
        self.max_pending = max_pending_blocks
        self._pending_blocks: dict[bytes, int] = {}  # handle -> its radix blocks
        self._keys = keys
        self._keys_lock = threading.Lock()
        self._cache: OrderedDict[bytes, SquashedCiphertext] = OrderedDict()
        self._cached_lwes = 0
        self._pending: dict[bytes, asyncio.Future] = {}
        self._run_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per loop
        self.squash_calls = 0  # batched squash calls made (tests, benchmarks)

    # -- keys and the blocking work (a worker thread) --------------------------------------
    def keys(self) -> tuple:
        with self._keys_lock:
            if self._keys is None:
                params = squash_parameters(self.cfg.squash_params)
                self._keys = (np.load(self.public / "ksk.npy"),
                              load_squash_key(self.public / "squash.bsk", params))
            return self._keys

    def _squash(self, cts: list) -> list[SquashedCiphertext]:
        ksk, key = self.keys()
        out = squashing.squash_radix_arrays(cts, ksk, self.cfg.ks_base_log, self.cfg.ks_level,
                                            key)
        self.squash_calls += 1
        return [SquashedCiphertext(g, hi, lo) for g, hi, lo in out]

    # -- cache ------------------------------------------------------------------------------
    def cached(self, handle: bytes) -> SquashedCiphertext | None:
        hit = self._cache.get(handle)
        if hit is not None:
            self._cache.move_to_end(handle)
        return hit

    def _remember(self, handle: bytes, sc: SquashedCiphertext) -> None:
        if handle in self._cache:
            return
        self._cache[handle] = sc
        self._cached_lwes += len(sc.groups)
        while self._cached_lwes > self.max_cached and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_lwes -= len(old.groups)

    # -- the service ------------------------------------------------------------------------
    async def squashed(self, handles: Sequence[bytes]) -> list[SquashedCiphertext | None]:
        """The squashed ciphertext of each handle, None where the node has no committed
        ciphertext. Raises SquashError for a blob that is not a tfhe ciphertext of the
        handle's type."""
        loop = asyncio.get_running_loop()
        todo: list[tuple[bytes, object]] = []
        for h in dict.fromkeys(handles):
            if h in self._cache or h in self._pending:
                continue
            blob = self.get_blob(h)
            if blob is None:
                continue
            try:
                ct = squashing.parse_blob(bytes(blob))
            except ValueError as exc:
                raise SquashError(f"ciphertext of 0x{h.hex()}: {exc}") from None
            if ct.bits != squashing.TYPE_BITS.get(h[30]):
                raise SquashError(f"ciphertext of 0x{h.hex()} is not of the handle's type")
            todo.append((h, ct))
        if todo:
            queued = sum(self._pending_blocks.values())
            if queued + sum(len(ct.blocks) for _, ct in todo) > self.max_pending:
                raise SquashBusy(f"the squasher has {queued} blocks queued (at most "
                                 f"{self.max_pending}); retry later")
            for h, ct in todo:
                self._pending_blocks[h] = len(ct.blocks)
            futures = {h: loop.create_future() for h, _ in todo}
            self._pending.update(futures)
            task = asyncio.create_task(self._run(todo, futures))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # no warning
        out: list[SquashedCiphertext | None] = []
        for h in handles:
            hit = self.cached(h)
            if hit is None and h in self._pending:
                hit = await asyncio.shield(self._pending[h])  # a cancelled waiter: not the task
            out.append(hit)
        return out

    async def _run(self, todo: list, futures: dict[bytes, asyncio.Future]) -> None:
        loop = asyncio.get_running_loop()
        lock = self._run_locks.setdefault(loop, asyncio.Lock())
        try:
            for batch in squashing.batches(todo, lambda item: len(item[1].blocks),
                                            self.max_batch):
                async with lock:  # one squash at a time: it uses every core
                    results = await asyncio.to_thread(self._squash, [ct for _, ct in batch])
                for (h, _), sc in zip(batch, results, strict=True):
                    self._remember(h, sc)
                    self._pending.pop(h, None)
                    self._pending_blocks.pop(h, None)
                    futures[h].set_result(sc)
        except Exception as exc:  # every waiter learns why, the next request retries
            err = exc if isinstance(exc, SquashError) else SquashError(
                f"squash failed: {type(exc).__name__}: {exc}")
            for h, f in futures.items():
                self._pending.pop(h, None)
                self._pending_blocks.pop(h, None)
                if not f.done():
                    f.set_exception(err)
                    f.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
