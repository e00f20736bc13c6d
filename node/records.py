"""How a mined block's transactions and receipts are stored: one RLP record per block.

py-evm keeps state; everything an RPC client asks about a mined block (its transactions,
senders, receipts, logs) is in this record, so no signature is recovered twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth.db.header import _decode_block_header


@dataclass(frozen=True)
class LogRec:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class TxRec:
    raw: bytes
    hash: bytes
    sender: bytes
    contract: bytes  # b"" unless a creation
    status: int
    cumulative_gas: int
    gas_used: int
    logs: tuple[LogRec, ...]
    logs_bloom: int
    hcu: int = 0  # homomorphic complexity units the executor metered (fhEVM)
    hcu_depth: int = 0  # its deepest dependency chain, in HCU


@dataclass(frozen=True)
class BlockRec:
    header: object  # py-evm BlockHeaderAPI
    txs: tuple[TxRec, ...]
    size: int

    @property
    def number(self) -> int:
        return self.header.block_number  # type: ignore[attr-defined]

    @property
    def hash(self) -> bytes:
        return self.header.hash  # type: ignore[attr-defined]


def encode_body(txs: tuple[TxRec, ...]) -> bytes:
    return rlp.encode([
        [t.raw, t.hash, t.sender, t.contract, t.status, t.cumulative_gas, t.gas_used,
         [[lg.address, list(lg.topics), lg.data] for lg in t.logs], t.logs_bloom,
         t.hcu, t.hcu_depth]
        for t in txs
    ])


def decode_block(header_rlp: bytes, body: bytes) -> BlockRec:
    header = _decode_block_header(header_rlp)
    txs = []
    for item in rlp.decode(body):
        raw, h, sender, contract, status, cum, used, logs, bloom = item[:9]
        # records written before HCU was recorded have nine fields
        hcu, depth = (rlp.sedes.big_endian_int.deserialize(x) for x in item[9:11] or (b"", b""))
        txs.append(TxRec(
            raw=raw, hash=h, sender=sender, contract=contract,
            status=rlp.sedes.big_endian_int.deserialize(status),
            cumulative_gas=rlp.sedes.big_endian_int.deserialize(cum),
            gas_used=rlp.sedes.big_endian_int.deserialize(used),
            logs=tuple(LogRec(a, tuple(ts), d) for a, ts, d in logs),
            logs_bloom=rlp.sedes.big_endian_int.deserialize(bloom),
            hcu=hcu, hcu_depth=depth,
        ))
    size = len(header_rlp) + len(body)
    return BlockRec(header=header, txs=tuple(txs), size=size)
