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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
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


def find_requests(rec: BlockRec) -> list[Request]:
    """The decryption requests of a block's successful transactions (malformed events,
    which any contract may emit, are skipped with a warning)."""
    number = int(getattr(rec.header, "block_number", 0))
    out = []
    for tx in rec.txs:
        if tx.status != 1:
            continue
        for lg in tx.logs:
            if len(lg.topics) != 2 or bytes(lg.topics[0]) != TOPIC:
                continue
            try:
                handles, selector = decode(["bytes32[]", "bytes4"], bytes(lg.data))
            except Exception:
                log.warning("relayer: malformed %s event from %s", EVENT,
                            to_checksum_address(lg.address))
                continue
            if not 0 < len(handles) <= MAX_HANDLES:
                log.warning("relayer: %s from %s asks for %d handles (1..%d): ignored", EVENT,
                            to_checksum_address(lg.address), len(handles), MAX_HANDLES)
                continue
            out.append(Request(bytes(lg.address), int.from_bytes(bytes(lg.topics[1]), "big"),
                               tuple(bytes(h) for h in handles), bytes(selector), number,
                               tx.hash))
    return out


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
                 attempts: int = MAX_ATTEMPTS, backoff: Sequence[float] = BACKOFF_S) -> None:
        self.dispatch, self.chain_id = dispatch, chain_id
        self.account = Account.from_key(key)
        self.attempts, self.backoff = attempts, tuple(backoff)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Request] | None = None
        self._task: asyncio.Task | None = None
        self._next_nonce = 0
        self.sent: list[tuple[Request, bytes]] = []  # (request, callback tx hash)
        self.failed: list[tuple[Request, str]] = []  # (request, why it was given up)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Call on the node's event loop."""
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

    async def idle(self) -> None:
        """Wait until every queued request was handled (tests)."""
        if self.queue is not None:
            await self.queue.join()

    # -- from the mining thread -----------------------------------------------------------------
    def on_block(self, rec: BlockRec) -> None:
        """Devnet listener (writer thread): only parses logs and hands requests over."""
        if self.loop is None or self.loop.is_closed():
            return
        reqs = find_requests(rec)
        if reqs:
            self.loop.call_soon_threadsafe(self._enqueue, reqs)

    def _enqueue(self, reqs: list[Request]) -> None:
        assert self.queue is not None
        for r in reqs:
            try:
                self.queue.put_nowait(r)
            except asyncio.QueueFull:
                log.error("relayer: queue full (%d): %s dropped", MAX_QUEUE, r)
                self.failed.append((r, "queue full"))

    # -- the worker ---------------------------------------------------------------------------
    async def _worker(self) -> None:
        assert self.queue is not None
        while True:
            req = await self.queue.get()
            try:
                await self._handle(req)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one request stop the relayer
                log.exception("relayer: %s failed", req)
            finally:
                self.queue.task_done()

    async def _handle(self, req: Request) -> None:
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
