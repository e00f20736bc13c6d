"""Squash handles when they are made publicly decryptable, before anyone asks for them.

Zama's coprocessors compute the switch-and-squash ciphertext ahead of the KMS. Here the
node reads each mined block's `AllowedForDecryption` events (the ACL's, so only what a
contract really made public) and squashes those handles in the background: a public
decryption asked for afterwards (an auction's winner, a vote's tally) finds them in the
squasher's cache and costs the threshold protocol alone (~0.13 s for a euint64 instead of
~1.4 s with the squash). Handles allowed to users are not squashed ahead: every transfer
allows two balances, and squashing them all would double the node's work per transfer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from eth_abi import decode

from fhevm import addresses
from fhevm.acl import EV_ALLOWED_FOR_DECRYPTION
from fhevm.types import parse_type
from tfhe.integer import blocks_for_bits

from .squasher import MAX_BATCH_LWES, Squasher

log = logging.getLogger(__name__)

_TOPIC = EV_ALLOWED_FOR_DECRYPTION.to_bytes(32, "big")


def public_handles(logs: Iterable[Any]) -> list[bytes]:
    """Handles of the ACL's AllowedForDecryption events among `logs` (objects with address,
    topics, data), in order, each once."""
    out: dict[bytes, None] = {}
    for lg in logs:
        if bytes(lg.address) != addresses.ACL or not lg.topics or _topic(lg.topics[0]) != _TOPIC:
            continue
        try:
            (handles,) = decode(["bytes32[]"], bytes(lg.data))
        except Exception:  # not ours to judge: the ACL wrote it
            continue
        out.update(dict.fromkeys(bytes(h) for h in handles))
    return list(out)


def _topic(t: int | bytes) -> bytes:
    """A topic as 32 bytes (py-evm's logs carry ints, the node's records bytes)."""
    return t.to_bytes(32, "big") if isinstance(t, int) else bytes(t)


def _blocks(handle: bytes) -> int:
    t = parse_type(handle[30])
    return 0 if t is None else blocks_for_bits(t.bits)


class Presquasher:
    """Block listener (Devnet.listeners, called on the writer thread) that hands the newly
    public handles of each block to the squasher on the node's event loop.

    At most `max_blocks` radix blocks per mined block are squashed ahead (one squash call,
    ~1.2 s of both cores per 32 blocks); the rest are squashed when asked for, as before.
    """

    def __init__(self, squasher: Callable[[], Squasher], loop: asyncio.AbstractEventLoop,
                 max_blocks: int = MAX_BATCH_LWES) -> None:
        self._squasher = squasher
        self._loop = loop
        self.max_blocks = max_blocks

    def on_block(self, rec: Any) -> None:
        handles, budget = [], self.max_blocks
        for h in public_handles(lg for tx in rec.txs for lg in tx.logs):
            cost = _blocks(h)
            if 0 < cost <= budget:
                handles.append(h)
                budget -= cost
        if handles:
            asyncio.run_coroutine_threadsafe(self.squash(handles), self._loop)

    async def squash(self, handles: list[bytes]) -> None:
        try:
            await self._squasher().squashed(handles)
        except Exception as exc:  # a request for them later squashes (or fails) again
            log.warning("squashing %d public handle(s) ahead failed: %s", len(handles), exc)
