"""The devnet chain: py-evm state and execution, our own block records, one writer.

Every method that executes EVM code or mines runs on the single writer thread (the
caller guarantees it); methods reading committed blocks and state may run on any thread.
A block is mined in memory, then committed to SQLite in one transaction together with
its state-trie nodes, its transaction index and its ciphertext blobs.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import SignedTransactionAPI
from eth.chains.base import Chain
from eth.constants import EMPTY_SHA3
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.trie import make_trie_root_and_nodes
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError, keccak
from lru import LRU

from node import speedups
from node.errors import SERVER_ERROR, RpcError, reverted
from node.records import BlockRec, LogRec, TxRec, decode_block, encode_body
from node.statedb import BufferedStateDB
from node.store import Store

log = logging.getLogger("fhevm-node")

GAS_LIMIT = 30_000_000
GENESIS_BASE_FEE = 1_000_000_000
COINBASE = bytes.fromhex("c014ba5ec014ba5ec014ba5ec014ba5ec014ba5e")
ESTIMATE_ERROR_RATIO = 0.015  # geth's gasestimator.ErrorRatio


class NotFast(Exception):
    """The transaction needs the EVM: mine it on the writer thread instead."""


@dataclass
class Snapshot:
    head: int
    time_offset: int
    next_timestamp: int | None


@dataclass
class Pending:
    """A transaction accepted into the pool, waiting for a block."""

    raw: bytes
    tx: SignedTransactionAPI
    sender: bytes
    hash: bytes
    seq: int = field(default=0)


class DevChain:
    def __init__(self, store: Store, runtime: Any, chain_id: int,
                 genesis_alloc: dict[bytes, int]) -> None:
        speedups.install()
        self.store = store
        self.runtime = runtime
        self.chain_id = chain_id
        self.vm_class = runtime.vm_class()
        self.statedb = BufferedStateDB(store)
        self.db = AtomicDB(self.statedb)
        chain_class = Chain.configure(__name__="FhevmDevChain",
                                      vm_configuration=((0, self.vm_class),),
                                      chain_id=chain_id)
        self.chain = chain_class(self.db)
        self.tx_builder = self.vm_class.get_transaction_builder()
        self._blocks: LRU = LRU(2048)
        self._readers = threading.local()
        self._call_state: tuple[bytes, Any] | None = None
        self.fast_transfers = True  # see _fast_transfer
        self._lock = threading.Lock()  # guards head / pool bookkeeping across threads
        self.pool: list[Pending] = []
        self._seq = 0
        self.snapshots: dict[int, Snapshot] = {}
        self._next_snapshot = 1
        self.next_timestamp: int | None = None
        offset = store.meta("time_offset")
        self.time_offset = int(offset.decode()) if offset else 0
        row = store.conn().execute(
            "SELECT header, body FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
        if row is None:
            self._make_genesis(genesis_alloc)
        else:
            self.head = decode_block(bytes(row[0]), bytes(row[1])).header
            gen_cid = store.meta("chain_id")
            if gen_cid is not None and int(gen_cid.decode()) != chain_id:
                raise RuntimeError(f"data directory holds chain id {gen_cid.decode()}, "
                                   f"not {chain_id}; use `fhevm-node reset`")

    # ------------------------------------------------------------------ genesis
    def _make_genesis(self, alloc: dict[bytes, int]) -> None:
        state = AccountDB(self.db)
        for addr, spec in self.runtime.genesis_accounts().items():
            addr = bytes(addr)
            state.set_balance(addr, int(spec.get("balance", 0)))
            state.set_nonce(addr, int(spec.get("nonce", 0)))
            if spec.get("code"):
                state.set_code(addr, bytes(spec["code"]))
            for slot, value in (spec.get("storage") or {}).items():
                state.set_storage(addr, int(slot), int(value))
        for addr, balance in alloc.items():
            state.set_balance(addr, state.get_balance(addr) + balance)
        state.persist()
        header = self.vm_class.create_genesis_header(
            difficulty=0, gas_limit=GAS_LIMIT, timestamp=int(time.time()),
            extra_data=b"", nonce=b"\0" * 8, base_fee_per_gas=GENESIS_BASE_FEE,
            state_root=state.state_root, coinbase=COINBASE)
        self._commit(header, (), extra_meta={"chain_id": str(self.chain_id).encode()})
        log.info("genesis block %s", header.hash.hex())

    # ------------------------------------------------------------------ reads
    def block(self, number: int) -> BlockRec | None:
        if number > self.head.block_number:
            return None
        rec = self._blocks.get(number)
        if rec is not None and rec.number <= self.head.block_number:
            return rec
        row = self.store.conn().execute(
            "SELECT header, body FROM blocks WHERE number=?", (number,)).fetchone()
        if row is None or number > self.head.block_number:
            return None
        rec = decode_block(bytes(row[0]), bytes(row[1]))
        self._blocks[number] = rec
        return rec

    def block_by_hash(self, h: bytes) -> BlockRec | None:
        row = self.store.conn().execute(
            "SELECT number FROM blocks WHERE hash=?", (h,)).fetchone()
        return None if row is None else self.block(row[0])

    def tx_location(self, h: bytes) -> tuple[BlockRec, int] | None:
        row = self.store.conn().execute(
            "SELECT number, idx FROM txs WHERE hash=?", (h,)).fetchone()
        if row is None:
            return None
        rec = self.block(row[0])
        return None if rec is None else (rec, row[1])

    def pending_tx(self, h: bytes) -> Pending | None:
        with self._lock:
            return next((p for p in self.pool if p.hash == h), None)

    def account_db(self, header: Any) -> AccountDB:
        """Read-only view of the state after `header`; reused per thread while the root
        stays the same (building one costs more than most reads)."""
        cached = getattr(self._readers, "adb", None)
        if cached is not None and cached[0] == header.state_root:
            return cached[1]
        adb = AccountDB(self.db, header.state_root)
        self._readers.adb = (header.state_root, adb)
        return adb

    def decode_tx(self, raw: bytes) -> SignedTransactionAPI:
        return self.tx_builder.decode(raw)

    def pending_nonce(self, addr: bytes) -> int:
        nonce = self.account_db(self.head).get_nonce(addr)
        with self._lock:
            for p in sorted(self.pool, key=lambda p: p.tx.nonce):
                if p.sender == addr and p.tx.nonce == nonce:
                    nonce += 1
        return nonce

    def next_base_fee(self) -> int:
        h = self.vm_class.create_header_from_parent(self.head, timestamp=self.head.timestamp + 1,
                                                    gas_limit=GAS_LIMIT)
        return h.base_fee_per_gas

    # ------------------------------------------------------------------ execution (writer)
    def _vm_at(self, header: Any) -> Any:
        return self.chain.get_vm(header)

    def call(self, header: Any, sender: bytes, to: bytes, value: int, data: bytes,
             gas: int | None, gas_price: int, overrides: dict | None = None,
             access: dict | None = None, hcu: list | None = None) -> Any:
        """Run a message on top of `header` without committing; returns the computation.

        overrides: {address: {"balance", "nonce", "code", "state", "stateDiff"}} applied
        first (geth's state override set). access: if given, filled with the addresses
        and storage slots the message touched (for eth_createAccessList). hcu: if given,
        receives the (HCU, HCU depth) the executor metered.
        """
        vm = self._vm_at(header)
        nonce = self.account_db(header).get_nonce(sender)
        tx = vm.create_unsigned_transaction(
            nonce=nonce, gas_price=gas_price, gas=gas or GAS_LIMIT, to=to, value=value,
            data=data)
        spoofed = SpoofTransaction(tx, from_=sender)
        try:
            with self.runtime.simulating():
                return self._call_in(header, vm, spoofed, tx, sender, overrides, access, hcu)
        except ValidationError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc
        finally:
            self.runtime.discard()

    def _call_in(self, header: Any, vm: Any, spoofed: Any, tx: Any, sender: bytes,
                 overrides: dict | None, access: dict | None, hcu: list | None) -> Any:
        """`call`'s execution, on the symbolic FHE backend: the state is thrown away, so
        only types, gas and HCU matter (fhevm.backends.symbolic)."""
        if header.hash == self.head.hash and not overrides and access is None:
            state = self._head_call_state()
            snapshot = state.snapshot()
            try:
                comp = state.costless_execute_transaction(spoofed)
            finally:
                state.revert(snapshot)
        else:
            with vm.in_costless_state() as state:
                if overrides:
                    apply_overrides(state, overrides)
                    if sender in overrides and "nonce" in overrides[sender]:
                        spoofed = SpoofTransaction(
                            tx.copy(nonce=overrides[sender]["nonce"]), from_=sender)
                if access is not None:
                    trace_access(state, access)
                comp = state.costless_execute_transaction(spoofed)
        if hcu is not None:  # a plain attribute of the State: no revert undoes it
            hcu.extend(state.fhevm_last_hcu)
        return comp

    def _head_call_state(self) -> Any:
        """One costless state on top of the head, reused (snapshot / revert) by every call
        until the head moves: its caches stay warm, so a call reads no trie twice."""
        cached = self._call_state
        if cached is not None and cached[0] == self.head.hash:
            return cached[1]
        vm = self._vm_at(self.head)
        header = vm.get_header()
        child = vm.generate_block_from_parent_header_and_coinbase(header, header.coinbase)
        free_header = child.header.copy(base_fee_per_gas=0)  # as in_costless_state does
        prev_hashes = itertools.chain((header.hash,), vm.previous_hashes)
        state = vm.build_state(vm.chaindb.db, free_header, vm.chain_context, prev_hashes)
        self._call_state = (self.head.hash, state)
        return state

    def eth_call(self, header: Any, sender: bytes, to: bytes, value: int, data: bytes,
                 gas: int | None, gas_price: int, overrides: dict | None = None) -> bytes:
        comp = self.call(header, sender, to, value, data, gas, gas_price, overrides)
        if comp.is_error:
            if isinstance(comp.error, Revert):
                raise reverted(comp.output)
            raise RpcError(SERVER_ERROR, f"execution failed: {comp.error!r}")
        return comp.output

    def estimate_hcu(self, header: Any, sender: bytes, to: bytes, value: int, data: bytes,
                     gas: int | None, gas_price: int) -> tuple[int, int]:
        """(HCU, HCU depth) the message would use, run once on the symbolic backend (HCU
        depends on operations and types only, never on encrypted values)."""
        out: list = []
        comp = self.call(header, sender, to, value, data, gas, gas_price, hcu=out)
        if comp.is_error:
            if isinstance(comp.error, Revert):
                raise reverted(comp.output)
            raise RpcError(SERVER_ERROR, f"execution failed: {comp.error!r}")
        return out[0], out[1]

    def estimate_gas(self, header: Any, sender: bytes, to: bytes, value: int, data: bytes,
                     gas: int | None, gas_price: int) -> int:
        """Binary search for a gas limit that succeeds, as geth does: it stops once the
        bracket is within ESTIMATE_ERROR_RATIO of its top, so an estimate costs a few
        executions, not a dozen, and may exceed the minimum by up to that ratio."""
        cap = gas or GAS_LIMIT
        comp = self.call(header, sender, to, value, data, cap, gas_price)
        if comp.is_error:
            if isinstance(comp.error, Revert):
                raise reverted(comp.output)
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap}): "
                                         f"{comp.error!r}")
        used = cap - comp.get_gas_remaining()  # includes the intrinsic gas
        if used < cap and self._succeeds(header, sender, to, value, data, used, gas_price):
            return used  # no refund or 63/64 cliff in the way: the exact minimum
        lo = used
        hi = min(cap, used * 64 // 63 + 2300)
        if not self._succeeds(header, sender, to, value, data, hi, gas_price):
            hi = cap
        while lo + 1 < hi and (hi - lo) / hi >= ESTIMATE_ERROR_RATIO:
            mid = (lo + hi) // 2
            if self._succeeds(header, sender, to, value, data, mid, gas_price):
                hi = mid
            else:
                lo = mid
        return hi

    def _succeeds(self, header: Any, sender: bytes, to: bytes, value: int, data: bytes,
                  gas: int, gas_price: int) -> bool:
        try:
            return not self.call(header, sender, to, value, data, gas, gas_price).is_error
        except RpcError:
            return False

    # ------------------------------------------------------------------ mining (writer)
    def add_to_pool(self, raw: bytes, tx: SignedTransactionAPI) -> bytes:
        """Queue a transaction for the next block after cheap checks.

        A transaction with the nonce of a queued one from the same sender replaces it
        only with both fees raised by at least 10 %, as geth's pool requires.
        """
        self.prevalidate(tx)
        h = keccak(raw)
        sender = tx.sender
        with self._lock:
            if any(p.hash == h for p in self.pool):
                raise RpcError(SERVER_ERROR, "already known")
            old = next((p for p in self.pool
                        if p.sender == sender and p.tx.nonce == tx.nonce), None)
            if old is not None:
                if not (_fees(tx)[0] * 10 >= _fees(old.tx)[0] * 11
                        and _fees(tx)[1] * 10 >= _fees(old.tx)[1] * 11):
                    raise RpcError(SERVER_ERROR, "replacement transaction underpriced")
                self.pool.remove(old)
            self._seq += 1
            self.pool.append(Pending(raw, tx, sender, h, self._seq))
        return h

    def prevalidate(self, tx: SignedTransactionAPI, check_nonce: bool = True) -> None:
        """Cheap checks before a transaction is queued (mining checks everything again,
        so automine, which mines at once, skips the field and nonce checks here)."""
        try:
            if check_nonce:
                tx.validate()
            sender = tx.sender
        except Exception as exc:
            raise RpcError(SERVER_ERROR, f"invalid transaction: {exc}") from exc
        if getattr(tx, "chain_id", None) not in (None, self.chain_id):
            raise RpcError(SERVER_ERROR, f"invalid chain id {tx.chain_id}, "
                                         f"expected {self.chain_id}")
        if tx.gas > GAS_LIMIT:
            raise RpcError(SERVER_ERROR, "exceeds block gas limit")
        if not check_nonce:
            return
        nonce = self.account_db(self.head).get_nonce(sender)
        if tx.nonce < nonce:
            raise RpcError(SERVER_ERROR, f"nonce too low: next nonce {nonce}, "
                                         f"tx nonce {tx.nonce}")

    def take_pool(self) -> list[Pending]:
        """All pool transactions whose nonces are contiguous, in an executable order."""
        with self._lock:
            pool = sorted(self.pool, key=lambda p: p.seq)
        adb = self.account_db(self.head)
        by_sender: dict[bytes, list[Pending]] = {}
        for p in pool:
            by_sender.setdefault(p.sender, []).append(p)
        chosen: list[Pending] = []
        for sender, items in by_sender.items():
            nonce = adb.get_nonce(sender)
            for p in sorted(items, key=lambda p: p.tx.nonce):
                if p.tx.nonce == nonce:
                    chosen.append(p)
                    nonce += 1
        return chosen

    def drop_from_pool(self, hashes: set[bytes]) -> None:
        with self._lock:
            self.pool = [p for p in self.pool if p.hash not in hashes]

    def _fast_transfer(self, vm: Any, header: Any, tx: SignedTransactionAPI) -> Any:
        """Apply a plain value transfer between code-less accounts directly to the state,
        or return None to leave the transaction to py-evm's executor.

        Only the case whose outcome is certain is taken: the checks below are stricter
        than py-evm's, so whatever passes them py-evm would also accept, with the same
        effects (21000 gas; sender pays value + 21000 x effective price and bumps its
        nonce; recipient gets value; coinbase gets the priority fee). Anything else,
        errors included, goes the normal way. tests/node/test_node_fastpath.py checks
        that both ways give the same state and receipt roots.
        """
        type_id = getattr(tx, "type_id", None)
        if type_id not in (None, 0, 1, 2) or tx.data or not tx.to or tx.value == 0:
            return None
        if type_id in (1, 2) and tx.access_list:
            return None
        base = header.base_fee_per_gas
        if type_id == 2:
            max_fee, prio = tx.max_fee_per_gas, tx.max_priority_fee_per_gas
            if prio > max_fee:
                return None
            price = min(max_fee, base + prio)
        else:
            max_fee = price = tx.gas_price
        sender, to, coinbase = tx.sender, tx.to, header.coinbase
        if (max_fee < base or price <= base or tx.gas < 21000
                or header.gas_used + tx.gas > header.gas_limit
                or len({sender, to, coinbase}) < 3):
            return None
        state = vm.state
        if (state.get_code_hash(to) != EMPTY_SHA3 or state.get_code_hash(sender) != EMPTY_SHA3
                or state.get_nonce(sender) != tx.nonce
                or state.get_balance(sender) < tx.gas * max_fee + tx.value):
            return None
        state.lock_changes()
        state.delta_balance(sender, -(21000 * price + tx.value))
        state.increment_nonce(sender)
        state.delta_balance(to, tx.value)
        state.delta_balance(coinbase, 21000 * (price - base))
        return tx.make_receipt(b"\x01", header.gas_used + 21000, ())

    def _timestamp(self) -> int:
        """Timestamp of the next block (a pending evm_setNextBlockTimestamp is cleared
        by _commit, once that block exists)."""
        if self.next_timestamp is not None:
            return max(self.next_timestamp, self.head.timestamp + 1)
        return max(int(time.time()) + self.time_offset, self.head.timestamp + 1)

    def mine(self, items: Sequence[tuple[bytes, SignedTransactionAPI]],
             strict: bool = True, timestamp: int | None = None, only_fast: bool = False
             ) -> tuple[BlockRec, list[tuple[bytes, Exception]]]:
        """Mine one block with these transactions.

        strict: any invalid transaction fails the whole call (automine: one tx per block,
        the client hears why). Otherwise invalid ones are skipped and returned.
        only_fast: raise NotFast, changing nothing, unless every transaction is a plain
        transfer (the event loop mines those itself: they cannot start FHE work).
        """
        parent = self.head
        ts = timestamp if timestamp is not None else self._timestamp()
        header = self.vm_class.create_header_from_parent(
            parent, timestamp=ts, gas_limit=GAS_LIMIT, coinbase=COINBASE)
        vm = self._vm_at(header)
        receipts, included, rejected, recs = [], [], [], []
        cur = header
        try:
            for raw, tx in items:
                receipt = self._fast_transfer(vm, cur, tx) if self.fast_transfers else None
                comp = None
                hcu = (0, 0)
                if receipt is None and only_fast:
                    raise NotFast()
                if receipt is None:
                    try:
                        receipt, comp = vm.apply_transaction(cur, tx)
                        hcu = vm.state.fhevm_last_hcu
                    except ValidationError as exc:
                        if strict:
                            raise RpcError(SERVER_ERROR, str(exc)) from exc
                        rejected.append((raw, exc))
                        continue
                prev_cum = cur.gas_used
                cur = vm.add_receipt_to_header(cur, receipt)
                cur = vm.increment_blob_gas_used(cur, tx)
                receipts.append(receipt)
                included.append(tx)
                contract = (generate_contract_address(tx.sender, tx.nonce)
                            if not tx.to else b"")
                recs.append(TxRec(
                    raw=raw, hash=keccak(raw), sender=tx.sender, contract=contract,
                    status=0 if comp is not None and comp.is_error else 1,
                    cumulative_gas=receipt.gas_used,
                    gas_used=receipt.gas_used - prev_cum,
                    logs=tuple(LogRec(lg.address, tuple(t.to_bytes(32, "big")
                                                        for t in lg.topics), lg.data)
                               for lg in receipt.logs),
                    logs_bloom=receipt.bloom, hcu=hcu[0], hcu_depth=hcu[1]))
            # Post-merge there is no block reward, so finalizing is computing the state
            # root. No pack / validate either: we built this block ourselves on a checked
            # parent, and validation would hash it all again. The transaction and receipt
            # tries are only hashed: clients read our block records, never those nodes.
            vm.state.persist()
            tx_root, _ = make_trie_root_and_nodes(included)
            receipt_root, _ = make_trie_root_and_nodes(receipts)
            header = cur.copy(state_root=vm.state.state_root, transaction_root=tx_root,
                              receipt_root=receipt_root)
            rec = self._commit(header, tuple(recs))
        except BaseException:
            self.statedb.rollback()
            self.runtime.discard()
            raise
        return rec, rejected

    def _commit(self, header: Any, txs: tuple[TxRec, ...],
                extra_meta: dict[str, bytes] | None = None) -> BlockRec:
        header_rlp = rlp.encode(header)
        self.db[header.hash] = header_rlp  # py-evm finds ancestors (BLOCKHASH) by hash
        body = encode_body(txs)
        with self.store.batch() as c:
            self.statedb.flush(c)
            c.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)",
                      (header.block_number, header.hash, header_rlp, body))
            c.executemany("INSERT OR REPLACE INTO txs VALUES (?, ?, ?)",
                          [(t.hash, header.block_number, i) for i, t in enumerate(txs)])
            self.runtime.commit(lambda k, v: c.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?)", (bytes(k), bytes(v))))
            for k, v in (extra_meta or {}).items():
                c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, v))
        self.statedb.committed()
        self.next_timestamp = None
        rec = BlockRec(header=header, txs=txs, size=len(header_rlp) + len(body))
        self._blocks[header.block_number] = rec
        self.head = header
        if txs:
            self.drop_from_pool({t.hash for t in txs})
        return rec

    # ------------------------------------------------------------------ dev controls
    def snapshot(self) -> int:
        sid = self._next_snapshot
        self._next_snapshot += 1
        self.snapshots[sid] = Snapshot(self.head.block_number, self.time_offset,
                                       self.next_timestamp)
        return sid

    def revert(self, sid: int) -> bool:
        snap = self.snapshots.get(sid)
        if snap is None:
            return False
        for k in [k for k in self.snapshots if k >= sid]:
            del self.snapshots[k]
        with self.store.batch() as c:
            c.execute("DELETE FROM blocks WHERE number > ?", (snap.head,))
            c.execute("DELETE FROM txs WHERE number > ?", (snap.head,))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('time_offset', ?)",
                      (str(snap.time_offset).encode(),))
        self._blocks.clear()
        rec = self.block(snap.head)
        if rec is None:
            row = self.store.conn().execute(
                "SELECT header, body FROM blocks WHERE number=?", (snap.head,)).fetchone()
            rec = decode_block(bytes(row[0]), bytes(row[1]))
        self.head = rec.header
        self.time_offset = snap.time_offset
        self.next_timestamp = snap.next_timestamp
        with self._lock:
            self.pool = []
        return True

    def increase_time(self, seconds: int) -> int:
        self.time_offset += seconds
        with self.store.batch() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES ('time_offset', ?)",
                      (str(self.time_offset).encode(),))
        return self.time_offset

    def set_next_timestamp(self, ts: int) -> None:
        if ts <= self.head.timestamp:
            raise RpcError(SERVER_ERROR, f"timestamp {ts} is not after the latest block's "
                                         f"timestamp {self.head.timestamp}")
        self.next_timestamp = ts
        self.time_offset = ts - int(time.time())

    def set_account(self, addr: bytes, balance: int | None = None, code: bytes | None = None,
                    nonce: int | None = None, slot: tuple[int, int] | None = None) -> None:
        """setBalance / setCode / setNonce / setStorageAt: rewrite head state in place.

        Like anvil, the change is visible at `latest` without a new block: we write a new
        state root into a replacement head header (same number, new hash).
        """
        state = AccountDB(self.db, self.head.state_root)  # a private, writable copy
        if balance is not None:
            state.set_balance(addr, balance)
        if code is not None:
            state.set_code(addr, code)
        if nonce is not None:
            state.set_nonce(addr, nonce)
        if slot is not None:
            state.set_storage(addr, slot[0], slot[1])
        try:
            state.persist()
            # Mine an empty block carrying the new state: keeps every header's state
            # root honest (a rewritten head would change its hash under clients' feet).
            self._mine_state_only(state.state_root)
        except BaseException:
            self.statedb.rollback()
            raise

    def _mine_state_only(self, state_root: bytes) -> None:
        header = self.vm_class.create_header_from_parent(
            self.head, timestamp=self._timestamp(), gas_limit=GAS_LIMIT, coinbase=COINBASE)
        header = header.copy(state_root=state_root)
        self._commit(header, ())


def apply_overrides(state: Any, overrides: dict) -> None:
    for addr, o in overrides.items():
        if "balance" in o:
            state.set_balance(addr, o["balance"])
        if "nonce" in o:
            state.set_nonce(addr, o["nonce"])
        if "code" in o:
            state.set_code(addr, o["code"])
        if "state" in o:
            state.delete_storage(addr)
        for slot, val in {**o.get("state", {}), **o.get("stateDiff", {})}.items():
            state.set_storage(addr, slot, val)


def trace_access(state: Any, access: dict) -> None:
    """Record first accesses (EIP-2929 warm marks) on this throwaway state."""
    adb = state._account_db
    mark_addr, mark_slot = adb.mark_address_warm, adb.mark_storage_warm
    access.setdefault("addresses", [])
    access.setdefault("slots", {})

    def on_addr(a: bytes) -> None:
        if a not in access["addresses"]:
            access["addresses"].append(a)
        mark_addr(a)

    def on_slot(a: bytes, slot: int) -> None:
        access["slots"].setdefault(a, [])
        if slot not in access["slots"][a]:
            access["slots"][a].append(slot)
        mark_slot(a, slot)

    adb.mark_address_warm = on_addr
    adb.mark_storage_warm = on_slot


def _fees(tx: Any) -> tuple[int, int]:
    """(fee cap, tip) of any transaction type."""
    if getattr(tx, "type_id", None) in (2, 3, 4):
        return tx.max_fee_per_gas, tx.max_priority_fee_per_gas
    return tx.gas_price, tx.gas_price
