"""Blocks, transactions, receipts and logs as JSON-RPC objects (geth field names)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from node.records import BlockRec, TxRec

ZERO32 = "0x" + "00" * 32


def q(n: int) -> str:
    return hex(n)


def b(x: bytes) -> str:
    return "0x" + bytes(x).hex()


def addr(x: bytes) -> str | None:
    return to_checksum_address(x) if x else None


def block_json(rec: BlockRec, full: bool, decode: Any) -> dict:
    h = rec.header
    out = {
        "number": q(h.block_number), "hash": b(h.hash), "parentHash": b(h.parent_hash),
        "nonce": b(h.nonce), "mixHash": b(h.mix_hash), "sha3Uncles": b(h.uncles_hash),
        "logsBloom": "0x" + h.bloom.to_bytes(256, "big").hex(),
        "transactionsRoot": b(h.transaction_root), "stateRoot": b(h.state_root),
        "receiptsRoot": b(h.receipt_root), "miner": addr(h.coinbase),
        "difficulty": "0x0", "totalDifficulty": "0x0", "extraData": b(h.extra_data),
        "size": q(rec.size), "gasLimit": q(h.gas_limit), "gasUsed": q(h.gas_used),
        "timestamp": q(h.timestamp), "uncles": [],
        "baseFeePerGas": q(h.base_fee_per_gas), "withdrawals": [],
    }
    for field, name in (("withdrawals_root", "withdrawalsRoot"),
                        ("parent_beacon_block_root", "parentBeaconBlockRoot"),
                        ("requests_hash", "requestsHash")):
        if hasattr(h, field):
            out[name] = b(getattr(h, field))
    for field, name in (("blob_gas_used", "blobGasUsed"), ("excess_blob_gas", "excessBlobGas")):
        if hasattr(h, field):
            out[name] = q(getattr(h, field))
    if full:
        out["transactions"] = [tx_json(decode(t.raw), t, rec, i) for i, t in enumerate(rec.txs)]
    else:
        out["transactions"] = [b(t.hash) for t in rec.txs]
    return out


def effective_gas_price(tx: Any, base_fee: int) -> int:
    if getattr(tx, "type_id", None) in (2, 3, 4):
        return min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
    return tx.gas_price


def tx_json(tx: Any, rec: TxRec | None, block: BlockRec | None, index: int | None,
            sender: bytes | None = None, h: bytes | None = None) -> dict:
    type_id = getattr(tx, "type_id", None) or 0
    out: dict = {
        "hash": b(rec.hash if rec else h), "nonce": q(tx.nonce),
        "blockHash": b(block.hash) if block else None,
        "blockNumber": q(block.number) if block else None,
        "transactionIndex": q(index) if index is not None else None,
        "from": addr(rec.sender if rec else sender), "to": addr(tx.to),
        "value": q(tx.value), "gas": q(tx.gas), "input": b(tx.data), "type": q(type_id),
        "r": q(tx.r), "s": q(tx.s),
    }
    if type_id == 0:
        out["gasPrice"] = q(tx.gas_price)
        out["v"] = q(tx.v)
        if tx.v >= 35:
            out["chainId"] = q((tx.v - 35) // 2)
    else:
        out["chainId"] = q(tx.chain_id)
        out["v"] = q(tx.y_parity)
        out["yParity"] = q(tx.y_parity)
        out["accessList"] = [
            {"address": addr(a), "storageKeys": ["0x" + k.to_bytes(32, "big").hex()
                                                  for k in keys]}
            for a, keys in tx.access_list]
        if type_id == 4:
            out["authorizationList"] = [
                {"chainId": q(a.chain_id), "address": addr(a.address), "nonce": q(a.nonce),
                 "yParity": q(a.y_parity), "r": q(a.r), "s": q(a.s)}
                for a in tx.authorization_list]
        if type_id == 1:
            out["gasPrice"] = q(tx.gas_price)
        else:
            out["maxFeePerGas"] = q(tx.max_fee_per_gas)
            out["maxPriorityFeePerGas"] = q(tx.max_priority_fee_per_gas)
            base = block.header.base_fee_per_gas if block else tx.max_fee_per_gas
            out["gasPrice"] = q(effective_gas_price(tx, base) if block else tx.max_fee_per_gas)
    return out


def logs_json(rec: TxRec, block: BlockRec, index: int, first_log_index: int) -> list[dict]:
    return [{
        "address": addr(lg.address), "topics": [b(t) for t in lg.topics], "data": b(lg.data),
        "blockNumber": q(block.number), "blockHash": b(block.hash),
        "blockTimestamp": q(block.header.timestamp),
        "transactionHash": b(rec.hash), "transactionIndex": q(index),
        "logIndex": q(first_log_index + i), "removed": False,
    } for i, lg in enumerate(rec.logs)]


def first_log_index(block: BlockRec, index: int) -> int:
    return sum(len(t.logs) for t in block.txs[:index])


def receipt_json(tx: Any, rec: TxRec, block: BlockRec, index: int) -> dict:
    return {
        "transactionHash": b(rec.hash), "transactionIndex": q(index),
        "blockHash": b(block.hash), "blockNumber": q(block.number),
        "from": addr(rec.sender), "to": addr(tx.to),
        "cumulativeGasUsed": q(rec.cumulative_gas), "gasUsed": q(rec.gas_used),
        "effectiveGasPrice": q(effective_gas_price(tx, block.header.base_fee_per_gas)),
        "contractAddress": addr(rec.contract) if rec.contract else None,
        "logs": logs_json(rec, block, index, first_log_index(block, index)),
        "logsBloom": "0x" + rec.logs_bloom.to_bytes(256, "big").hex(),
        "status": q(rec.status), "type": q(getattr(tx, "type_id", None) or 0),
    }


def pending_block_json(latest: dict, number: int, base_fee: int, tx_hashes: list[str]) -> dict:
    """The block being built: geth answers `pending` with null hash, nonce and miner."""
    out = dict(latest)
    out.update({"number": q(number), "hash": None, "nonce": None, "miner": None,
                "parentHash": latest["hash"], "transactions": tx_hashes,
                "gasUsed": "0x0", "baseFeePerGas": q(base_fee), "logsBloom": None})
    return out
