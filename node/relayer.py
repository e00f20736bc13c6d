"""The decryption relayer: answers `FHE.requestDecryption` with a callback transaction.

A contract calls `FHE.requestDecryption(handles, this.cb.selector)` (contracts/lib/FHE.sol):
the handles become publicly decryptable and the contract emits
`DecryptionRequested(uint256 indexed requestId, bytes32[] handles, bytes4 callbackSelector)`.
After each mined block the relayer collects these events (successful transactions only),
runs the public decryption through the KMS (`fhevm_publicDecrypt`: the threshold parties
on tfhe, the mock KMS on clear) off the mining thread, and sends
`cb(requestId, abiEncodedCleartexts, decryptionProof)` to the emitting contract from the
relayer account; the callback checks the signatures with
`FHE.checkSignatures(requestId, cleartexts, proof)`, so the relayer is not trusted.

The relayer account is a devnet key, public and documented (RELAYER_KEY), funded at
genesis. Failures never reach the node: a failed decryption or send is logged and retried
(MAX_ATTEMPTS, with backoff); a callback that would revert (eth_estimateGas) is logged and
dropped. Requests are served one at a time, in order. `fhevm-node start --no-relayer`
turns it off.

Restarts: on start the relayer scans (eth_getLogs) the blocks after the last one it fully
handled, so a request mined while the node was down, stopped or running without the relayer
is still answered. Before decrypting, it reads the request's `fulfilled` flag in the
contract's storage (FHE.sol's ERC-7201 DecryptionRequests), so a request already answered,
by it or by anyone, is skipped without a KMS round. The last fully handled block is kept in
`state` (a JSON file written atomically, with the block hash so that a file from another
chain is ignored); without one, every start scans from genesis, which is correct, only
slower on a long chain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from node.records import BlockRec

log = logging.getLogger("fhevm-node.relayer")

EVENT = "DecryptionRequested(uint256,bytes32[],bytes4)"
TOPIC = keccak(text=EVENT)
# public devnet key (like the dev accounts): keccak256("fhevm-node devnet relayer")
RELAYER_KEY = keccak(text="fhevm-node devnet relayer")
RELAYER_ADDRESS = Account.from_key(RELAYER_KEY).address
MAX_ATTEMPTS = 3
BACKOFF_S = (2.0, 8.0)  # before the 2nd and 3rd attempts
MAX_QUEUE = 1024
MAX_HANDLES = 64  # what one public decryption may ask of the KMS
SCAN_CHUNK = 1000  # blocks per eth_getLogs call while resuming (each call runs on the loop)
# contracts/lib/FHE.sol: ERC-7201 slot of DecryptionRequests {count; handles; fulfilled}
DECRYPTION_REQUESTS_SLOT = 0x5EA69329017273582817D320489FBD94F775580E90C092699CA6F3D12FDF7D00

Dispatch = Callable[[str, list], Awaitable[Any]]


@dataclass(frozen=True)
class Request:
    """One DecryptionRequested event."""

    contract: bytes
    request_id: int
    handles: tuple[bytes, ...]
    selector: bytes
    block: int
    tx_hash: bytes = field(default=b"", compare=False)

    def __str__(self) -> str:
        return f"request {self.request_id} of {to_checksum_address(self.contract)}"


def parse_event(address: bytes, topics: Sequence[bytes], data: bytes, block: int,
                tx_hash: bytes = b"") -> Request | None:
    """The request of one log, None when it is not a DecryptionRequested event or is a
    malformed one (any contract may emit it: logged and skipped)."""
    if len(topics) != 2 or bytes(topics[0]) != TOPIC:
        return None
    try:
        handles, selector = decode(["bytes32[]", "bytes4"], bytes(data))
    except Exception:
        log.warning("relayer: malformed %s event from %s", EVENT, to_checksum_address(address))
        return None
    if not 0 < len(handles) <= MAX_HANDLES:
        log.warning("relayer: %s from %s asks for %d handles (1..%d): ignored", EVENT,
                    to_checksum_address(address), len(handles), MAX_HANDLES)
        return None
    return Request(bytes(address), int.from_bytes(bytes(topics[1]), "big"),
                   tuple(bytes(h) for h in handles), bytes(selector), block, tx_hash)


def find_requests(rec: BlockRec) -> list[Request]:
    """The decryption requests of a block's successful transactions."""
    number = int(getattr(rec.header, "block_number", 0))
    out = []
    for tx in rec.txs:
        if tx.status != 1:
            continue
        for lg in tx.logs:
            req = parse_event(lg.address, lg.topics, lg.data, number, tx.hash)
            if req is not None:
                out.append(req)
    return out


def _unhex(s: str) -> bytes:
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def requests_from_logs(logs: Sequence[dict]) -> list[Request]:
    """The requests of eth_getLogs results (reverted transactions leave no logs)."""
    out = []
    for lg in logs:
        if lg.get("removed"):
            continue
        req = parse_event(_unhex(lg["address"]), [_unhex(t) for t in lg["topics"]],
                          _unhex(lg["data"]), int(lg["blockNumber"], 16),
                          _unhex(lg.get("transactionHash") or "0x"))
        if req is not None:
            out.append(req)
    return out


def fulfilled_slot(request_id: int) -> int:
    """Storage slot of DecryptionRequests.fulfilled[request_id] in the requesting contract."""
    return int.from_bytes(keccak(encode(["uint256", "uint256"],
                                        [request_id, DECRYPTION_REQUESTS_SLOT + 2])), "big")


def callback_data(req: Request, cleartexts: bytes, proof: bytes) -> bytes:
    """cb(uint256 requestId, bytes cleartexts, bytes decryptionProof) calldata."""
    return req.selector + encode(["uint256", "bytes", "bytes"],
                                 [req.request_id, cleartexts, proof])


class CallbackReverts(RuntimeError):
    """The callback would revert: sending it would only burn gas."""


class Relayer:
    """Watches mined blocks (register `on_block` in Devnet.listeners) and fulfils requests
    on the event loop where `start` ran, through the node's own JSON-RPC dispatcher."""

    def __init__(self, dispatch: Dispatch, chain_id: int, key: bytes = RELAYER_KEY,
                 attempts: int = MAX_ATTEMPTS, backoff: Sequence[float] = BACKOFF_S,
                 state: str | os.PathLike | None = None) -> None:
        self.dispatch, self.chain_id = dispatch, chain_id
        self.account = Account.from_key(key)
        self.attempts, self.backoff = attempts, tuple(backoff)
        self.state = None if state is None else Path(state)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Request] | None = None
        self._task: asyncio.Task | None = None
        self._resumed = asyncio.Event()
        self._next_nonce = 0
        self._scanned = -1  # requests of blocks up to here came from the resume scan
        self._seen = -1  # highest block whose requests were all enqueued
        self._pending: Counter[int] = Counter()  # block -> requests not yet handled
        self._saved = -1
        self._dropped = 1 << 256  # lowest block with a request dropped (queue full)
        self._floor = -1  # the resume scan has handled the blocks up to here (None: done)
        self.sent: list[tuple[Request, bytes]] = []  # (request, callback tx hash)
        self.failed: list[tuple[Request, str]] = []  # (request, why it was given up)
        self.skipped: list[Request] = []  # already answered when their turn came

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Call on the node's event loop, and register `on_block` right after (before the
        loop runs again): blocks mined before that are found by the resume scan."""
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue(MAX_QUEUE)
        self._task = asyncio.create_task(self._worker(), name="decryption-relayer")
        log.info("relayer: watching %s, callbacks from %s", EVENT, self.account.address)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            await self._save(self.handled_through())

    async def idle(self) -> None:
        """Wait until the resume scan and every queued request were handled (tests)."""
        if self.queue is not None:
            await self._resumed.wait()
            await self.queue.join()

    def handled_through(self) -> int:
        """The last block whose requests were all handled (answered, skipped or given up)."""
        done = min(min(self._pending, default=self._seen + 1) - 1, self._dropped - 1,
                   self._seen)
        return done if self._floor is None else min(done, self._floor)

    # -- from the mining thread -----------------------------------------------------------------
    def on_block(self, rec: BlockRec) -> None:
        """Devnet listener (writer thread): only parses logs and hands requests over."""
        if self.loop is None or self.loop.is_closed():
            return
        number = int(getattr(rec.header, "block_number", 0))
        self.loop.call_soon_threadsafe(self._enqueue, number, find_requests(rec))

    def _enqueue(self, number: int, reqs: list[Request]) -> None:
        assert self.queue is not None
        for r in reqs:
            try:
                self.queue.put_nowait(r)
            except asyncio.QueueFull:
                log.error("relayer: queue full (%d): %s left for the next start", MAX_QUEUE, r)
                self.failed.append((r, "queue full"))
                self._dropped = min(self._dropped, r.block)  # the next start scans it
            else:
                self._pending[r.block] += 1
        self._seen = max(self._seen, number)

    # -- restarts -------------------------------------------------------------------------------
    def _load(self) -> tuple[int, str] | None:
        """(block, hash) of the state file; None without one or with an unreadable one."""
        if self.state is None:
            return None
        try:
            obj = json.loads(self.state.read_text())
            return int(obj["block"]), str(obj["hash"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("relayer: ignoring unreadable %s (%s): scanning from genesis",
                        self.state, exc)
            return None

    async def _block_hash(self, number: int) -> str | None:
        block = await self.dispatch("eth_getBlockByNumber", [hex(number), False])
        return None if block is None else str(block["hash"])

    async def _save(self, number: int) -> None:
        """Record `number` as fully handled (atomically: temporary file, fsync, rename)."""
        if self.state is None or number <= self._saved:
            return
        try:
            digest = await self._block_hash(number)
            if digest is None:
                return
            tmp = self.state.with_name(self.state.name + ".tmp")
            with open(tmp, "w") as f:
                json.dump({"block": number, "hash": digest}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state)
            self._saved = number
        except Exception as exc:  # the next start merely scans a few more blocks
            log.warning("relayer: cannot record block %d in %s: %s", number, self.state, exc)

    async def _resume(self) -> None:
        """Serve the requests of the blocks after the last one fully handled, up to the
        head at this moment (later blocks come through on_block)."""
        start = 0
        saved = self._load()
        if saved is not None:
            if await self._block_hash(saved[0]) == saved[1]:
                start = saved[0] + 1
                self._saved = self._floor = saved[0]
            else:
                log.warning("relayer: %s is for another chain: scanning from genesis",
                            self.state)
        head = int(await self.dispatch("eth_blockNumber", []), 16)
        self._scanned = head
        found: list[Request] = []
        topic = "0x" + TOPIC.hex()
        for lo in range(start, head + 1, SCAN_CHUNK):
            hi = min(head, lo + SCAN_CHUNK - 1)
            found += requests_from_logs(await self.dispatch(
                "eth_getLogs", [{"fromBlock": hex(lo), "toBlock": hex(hi), "topics": [topic]}]))
        if found:
            log.info("relayer: %d request(s) in blocks %d..%d to check after a restart",
                     len(found), start, head)
        for i, req in enumerate(found):
            await self._handle(req)
            if i + 1 == len(found) or found[i + 1].block != req.block:
                self._floor = req.block
                await self._save(req.block)
        self._seen = max(self._seen, head)
        self._floor = None
        await self._save(self.handled_through())

    # -- the worker ---------------------------------------------------------------------------
    async def _worker(self) -> None:
        assert self.queue is not None
        try:
            await self._resume()
        except asyncio.CancelledError:
            raise
        except Exception:  # live requests are still served; the next start scans again
            log.exception("relayer: resuming after a restart failed")
            self._scanned = self._floor if self._floor is not None else self._scanned
        finally:
            self._resumed.set()
        while True:
            req = await self.queue.get()
            try:
                if req.block > self._scanned:  # else the resume scan served it
                    await self._handle(req)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one request stop the relayer
                log.exception("relayer: %s failed", req)
            finally:
                self._pending[req.block] -= 1
                if self._pending[req.block] <= 0:
                    del self._pending[req.block]
                self.queue.task_done()
            if req.block > self._saved:
                await self._save(self.handled_through())

    async def answered(self, req: Request) -> bool:
        """Whether the contract already accepted a result for the request (its FHE.sol
        `fulfilled` flag); False when that cannot be read (the callback check decides)."""
        try:
            word = await self.dispatch("eth_getStorageAt", [
                to_checksum_address(req.contract), hex(fulfilled_slot(req.request_id)),
                "latest"])
            return int(str(word), 16) != 0
        except Exception:
            return False

    async def _handle(self, req: Request) -> None:
        if await self.answered(req):
            log.info("relayer: %s was already answered", req)
            self.skipped.append(req)
            return
        why = ""
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff[min(attempt - 1, len(self.backoff) - 1)])
            try:
                tx_hash = await self.fulfil(req)
            except CallbackReverts as exc:
                why = str(exc)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                why = f"{type(exc).__name__}: {exc}"
                log.warning("relayer: %s, attempt %d/%d: %s", req, attempt + 1, self.attempts,
                            why)
                continue
            self.sent.append((req, tx_hash))
            log.info("relayer: %s answered by tx 0x%s", req, tx_hash.hex())
            return
        log.error("relayer: %s given up: %s", req, why)
        self.failed.append((req, why))

    async def fulfil(self, req: Request) -> bytes:
        """Decrypt through the KMS, send the callback; returns the transaction hash."""
        out = await self.dispatch("fhevm_publicDecrypt", [["0x" + h.hex() for h in req.handles]])
        data = callback_data(req, bytes.fromhex(out["cleartexts"][2:]),
                             bytes.fromhex(out["decryptionProof"][2:]))
        me = self.account.address
        call = {"from": me, "to": to_checksum_address(req.contract), "data": "0x" + data.hex()}
        try:
            gas = int(await self.dispatch("eth_estimateGas", [call]), 16)
        except Exception as exc:
            raise CallbackReverts(f"the callback would revert: {exc}") from None
        nonce = max(self._next_nonce,
                    int(await self.dispatch("eth_getTransactionCount", [me, "pending"]), 16))
        gas_price = int(await self.dispatch("eth_gasPrice", []), 16)
        tx = {"nonce": nonce, "gasPrice": gas_price, "gas": gas + gas // 5 + 10_000,
              "to": call["to"], "value": 0, "data": data, "chainId": self.chain_id}
        raw = Account.sign_transaction(tx, self.account.key).raw_transaction
        tx_hash = await self.dispatch("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
        self._next_nonce = nonce + 1
        return bytes.fromhex(str(tx_hash)[2:])
