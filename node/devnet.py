"""The running devnet: store, fhevm runtime, chain, dev accounts, the writer thread.

All EVM execution happens on one writer thread so that the fhevm runtime (which keeps
pending ciphertexts between a block's execution and its commit) is never used by two
executions at once. Reads of committed blocks and state do not wait for it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_canonical_address
from lru import LRU

from node import CHAIN_ID
from node.accounts import DEFAULT_BALANCE, dev_accounts
from node.chain import DevChain, NotFast
from node.errors import SERVER_ERROR, RpcError
from node.fhe import load_runtime
from node.records import BlockRec
from node.store import BlobMap, Store

log = logging.getLogger("fhevm-node")

DB_FILE = "chain.sqlite3"


class Devnet:
    def __init__(self, data_dir: str, backend: str = "clear", accounts: int = 10,
                 unlock: tuple[str, ...] = (), block_time: float | None = None,
                 chain_id: int = CHAIN_ID) -> None:
        self.data_dir = data_dir
        self.backend = backend
        self.store = Store(os.path.join(data_dir, DB_FILE))
        from node.kms_wiring import runtime_options  # signer keys, KMS signers, tfhe keys

        self.runtime = load_runtime(backend, chain_id, BlobMap(self.store),
                                    **runtime_options(data_dir, backend, self.store))
        self.accounts: list[LocalAccount] = dev_accounts(accounts, unlock)
        self.keys = {to_canonical_address(a.address): a for a in self.accounts}
        alloc = {to_canonical_address(a.address): DEFAULT_BALANCE for a in self.accounts}
        from node.relayer import RELAYER_ADDRESS  # pays for decryption callbacks

        alloc.setdefault(to_canonical_address(RELAYER_ADDRESS), DEFAULT_BALANCE)
        self.chain = DevChain(self.store, self.runtime, chain_id, alloc)
        self.chain_id = chain_id
        self.block_time = block_time
        self.automine = block_time is None
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="chain-writer")
        # held by whoever executes on the chain: the writer thread, or the event loop
        # for work known to be short (see RpcServer.dispatch)
        self.lock = threading.Lock()
        self._decoded: LRU = LRU(256)
        self.listeners: list[Callable[[BlockRec], None]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run fn on the writer thread, holding the chain lock."""
        return self.writer.submit(self._locked, fn, *args)

    def _locked(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.lock:
            return fn(*args)

    def try_inline(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """Run fn here and now if no one else is executing; (ran, result)."""
        if not self.lock.acquire(blocking=False):
            return False, None
        try:
            return True, fn(*args)
        finally:
            self.lock.release()

    # -- writer-thread operations ------------------------------------------------
    def decode(self, raw: bytes) -> Any:
        """Decode a raw transaction; remembered briefly so its sender is recovered once."""
        tx = self._decoded.get(raw)
        if tx is not None:
            return tx
        try:
            tx = self.chain.decode_tx(raw)
        except Exception as exc:
            raise RpcError(SERVER_ERROR, f"could not decode transaction: {exc}") from exc
        self._decoded[raw] = tx
        return tx

    def send_raw(self, raw: bytes, tx: Any = None, only_fast: bool = False) -> bytes:
        """Queue or (automine) mine a raw transaction. only_fast: see DevChain.mine."""
        if tx is None:
            tx = self.decode(raw)
        # automine: the block itself checks nonce and balance, and says why it refuses
        self.chain.prevalidate(tx, check_nonce=not self.automine)
        if not self.automine:
            return self.chain.add_to_pool(raw, tx)
        if self.chain.pool:  # automine was switched back on with queued transactions
            if only_fast:
                raise NotFast()
            h = self.chain.add_to_pool(raw, tx)
            self.mine_pool()
            return h
        rec, _ = self.chain.mine([(raw, tx)], strict=True, only_fast=only_fast)
        self._notify(rec)
        return rec.txs[0].hash

    def mine_pool(self, timestamp: int | None = None) -> BlockRec:
        items = self.chain.take_pool()
        rec, rejected = self.chain.mine([(p.raw, p.tx) for p in items], strict=False,
                                        timestamp=timestamp)
        if rejected:
            from eth_utils import keccak
            self.chain.drop_from_pool({keccak(raw) for raw, _ in rejected})
            for raw, exc in rejected:
                log.warning("dropped transaction 0x%s: %s", keccak(raw).hex(), exc)
        self._notify(rec)
        return rec

    def _notify(self, rec: BlockRec) -> None:
        for fn in list(self.listeners):
            try:
                fn(rec)
            except Exception:  # a broken subscriber must not break mining
                log.exception("block listener failed")

    def close(self) -> None:
        self.writer.shutdown(wait=True)
        self.store.close()
