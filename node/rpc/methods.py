"""Ethereum JSON-RPC methods of the devnet.

Each handler takes the params list and returns a JSON value. Handlers named in WRITER
run on the chain's writer thread (they execute EVM code or mine); the others only read
committed blocks and state and answer at once, even while a long FHE block executes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from eth.exceptions import Revert
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak, to_checksum_address

from node import CLIENT_VERSION
from node.chain import COINBASE, GAS_LIMIT
from node.devnet import Devnet
from node.errors import SERVER_ERROR, RpcError, invalid_params, reverted
from node.format import (
    b,
    block_json,
    logs_json,
    pending_block_json,
    q,
    receipt_json,
    tx_json,
)
from node.records import BlockRec
from node.rpc import params as P

DEFAULT_PRIORITY_FEE = 1_000_000_000

WRITER = {
    "eth_call", "eth_estimateGas", "eth_sendRawTransaction", "eth_sendTransaction",
    "eth_createAccessList", "eth_signTransaction", "evm_mine", "evm_snapshot", "evm_revert",
    "evm_increaseTime", "evm_setNextBlockTimestamp", "evm_setAutomine", "anvil_setBalance",
    "anvil_setCode", "anvil_setNonce", "anvil_setStorageAt", "anvil_mine",
    "hardhat_setBalance", "hardhat_setCode", "hardhat_setNonce", "hardhat_setStorageAt",
    "hardhat_mine", "evm_setIntervalMining", "anvil_setAutomine", "fhevm_estimateHcu",
}


class Methods:
    def __init__(self, devnet: Devnet) -> None:
        self.d = devnet
        self.c = devnet.chain
        self.filters: dict[str, dict] = {}
        self._filter_lock = threading.Lock()
        self._next_filter = 1

    def table(self) -> dict[str, Any]:
        out = {}
        for name in dir(self):
            if name.startswith(("eth_", "net_", "web3_", "evm_", "anvil_", "hardhat_",
                                "fhevm_")):
                out[name] = getattr(self, name)
        for alias in ("setBalance", "setCode", "setNonce", "setStorageAt", "mine"):
            out[f"hardhat_{alias}"] = out[f"anvil_{alias}"]
        out["evm_setIntervalMining"] = self.evm_setIntervalMining
        return out

    # ----------------------------------------------------------------- helpers
    def header_at(self, tag: Any) -> Any:
        """Header for a block tag, number or EIP-1898 object; errors if unknown."""
        rec = self.block_at(tag)
        if rec is None:
            raise RpcError(SERVER_ERROR, "header not found")
        return rec.header

    def block_at(self, tag: Any) -> BlockRec | None:
        if tag is None:
            tag = "latest"
        if isinstance(tag, dict):
            if "blockHash" in tag:
                rec = self.c.block_by_hash(P.hash32(tag["blockHash"], "blockHash"))
                if rec is None:
                    raise RpcError(SERVER_ERROR, "header not found")
                return rec
            if "blockNumber" in tag:
                return self.block_at(tag["blockNumber"])
            raise invalid_params("block object needs blockHash or blockNumber")
        if tag in ("latest", "pending", "safe", "finalized"):
            return self.c.block(self.c.head.block_number)
        if tag == "earliest":
            return self.c.block(0)
        if isinstance(tag, str) and tag.startswith("0x") and len(tag) == 66:
            return self.c.block_by_hash(P.hash32(tag, "block hash"))
        if isinstance(tag, str) and tag.startswith("0x"):
            return self.c.block(P.quantity(tag, "block number"))
        raise invalid_params(f"invalid block tag {tag!r:.80}")

    def _block_arg(self, params: list, i: int) -> Any:
        return self.header_at(params[i] if i < len(params) else "latest")

    def call_args(self, tx: Any) -> dict:
        if not isinstance(tx, dict):
            raise invalid_params("transaction object expected")
        to = P.address(tx["to"], "to") if tx.get("to") else b""
        sender = P.address(tx["from"], "from") if tx.get("from") else b"\0" * 20
        if "input" in tx and "data" in tx and tx["input"] != tx["data"]:
            raise invalid_params("both input and data given, and they differ")
        data = P.data(tx.get("input") or tx.get("data") or "0x", "input")
        value = P.quantity(tx.get("value") or 0, "value")
        gas = P.quantity(tx["gas"], "gas") if tx.get("gas") is not None else None
        if gas is not None and gas > GAS_LIMIT:
            gas = GAS_LIMIT
        gp = tx.get("gasPrice") or tx.get("maxFeePerGas") or 0
        return dict(sender=sender, to=to, value=value, data=data, gas=gas,
                    gas_price=P.quantity(gp, "gasPrice"))

    def _key(self, addr_hex: Any) -> Any:
        a = P.address(addr_hex, "from")
        acct = self.d.keys.get(a)
        if acct is None:
            raise RpcError(SERVER_ERROR, f"account {to_checksum_address(a)} is not unlocked "
                                         "on this node")
        return acct

    # ----------------------------------------------------------------- identity
    def web3_clientVersion(self, params: list) -> str:
        return CLIENT_VERSION

    def web3_sha3(self, params: list) -> str:
        return b(keccak(P.data(P.arg(params, 0, "data"))))

    def net_version(self, params: list) -> str:
        return str(self.d.chain_id)

    def net_listening(self, params: list) -> bool:
        return True

    def net_peerCount(self, params: list) -> str:
        return "0x0"

    def eth_chainId(self, params: list) -> str:
        return q(self.d.chain_id)

    def eth_syncing(self, params: list) -> bool:
        return False

    def eth_mining(self, params: list) -> bool:
        return self.d.automine or self.d.block_time is not None

    def eth_hashrate(self, params: list) -> str:
        return "0x0"

    def eth_coinbase(self, params: list) -> str:
        return to_checksum_address(COINBASE)  # the miner of every block

    def eth_accounts(self, params: list) -> list[str]:
        return [a.address for a in self.d.accounts]

    def eth_protocolVersion(self, params: list) -> str:
        return "0x41"

    # ----------------------------------------------------------------- state reads
    def eth_blockNumber(self, params: list) -> str:
        return q(self.c.head.block_number)

    def eth_getBalance(self, params: list) -> str:
        a = P.address(P.arg(params, 0, "address"))
        return q(self.c.account_db(self._block_arg(params, 1)).get_balance(a))

    def eth_getCode(self, params: list) -> str:
        a = P.address(P.arg(params, 0, "address"))
        return b(self.c.account_db(self._block_arg(params, 1)).get_code(a))

    def eth_getStorageAt(self, params: list) -> str:
        a = P.address(P.arg(params, 0, "address"))
        slot = P.quantity(P.arg(params, 1, "slot"), "slot")
        v = self.c.account_db(self._block_arg(params, 2)).get_storage(a, slot)
        return "0x" + v.to_bytes(32, "big").hex()

    def eth_getTransactionCount(self, params: list) -> str:
        a = P.address(P.arg(params, 0, "address"))
        tag = params[1] if len(params) > 1 else "latest"
        if tag == "pending":
            return q(self.c.pending_nonce(a))
        return q(self.c.account_db(self.header_at(tag)).get_nonce(a))

    def eth_getProof(self, params: list) -> Any:
        raise RpcError(-32601, "eth_getProof is not supported by this devnet")

    # ----------------------------------------------------------------- fees
    def eth_gasPrice(self, params: list) -> str:
        return q(self.c.next_base_fee() + DEFAULT_PRIORITY_FEE)

    def eth_maxPriorityFeePerGas(self, params: list) -> str:
        return q(DEFAULT_PRIORITY_FEE)

    def eth_blobBaseFee(self, params: list) -> str:
        return "0x1"

    def eth_feeHistory(self, params: list) -> dict:
        count = P.quantity(P.arg(params, 0, "blockCount"), "blockCount")
        newest = self.header_at(P.arg(params, 1, "newestBlock"))
        pcts = P.arg(params, 2, "rewardPercentiles", [])
        if not isinstance(pcts, list) or any(not isinstance(p, int | float) for p in pcts):
            raise invalid_params("rewardPercentiles must be a list of numbers")
        count = max(1, min(count, 1024, newest.block_number + 1))
        first = newest.block_number - count + 1
        base, ratios, rewards = [], [], []
        for n in range(first, newest.block_number + 1):
            rec = self.c.block(n)
            h = rec.header
            base.append(q(h.base_fee_per_gas))
            ratios.append(h.gas_used / h.gas_limit)
            if pcts:
                tips = sorted(
                    (min(getattr(tx, "max_priority_fee_per_gas", 0) or 0,
                         (getattr(tx, "max_fee_per_gas", None) or tx.gas_price)
                         - h.base_fee_per_gas), t.gas_used)
                    for t in rec.txs for tx in [self.c.decode_tx(t.raw)])
                rewards.append([q(_percentile(tips, p)) for p in pcts])
        nxt = self.c.vm_class.create_header_from_parent(
            newest, timestamp=newest.timestamp + 1, gas_limit=GAS_LIMIT)
        base.append(q(nxt.base_fee_per_gas))
        out = {"oldestBlock": q(first), "baseFeePerGas": base, "gasUsedRatio": ratios}
        if pcts:
            out["reward"] = rewards
        return out

    # ----------------------------------------------------------------- blocks
    def _block_json(self, rec: BlockRec | None, full: Any) -> dict | None:
        if rec is None:
            return None
        if not isinstance(full, bool):
            raise invalid_params("second argument must be a boolean")
        return block_json(rec, full, self.c.decode_tx)

    def eth_getBlockByNumber(self, params: list) -> dict | None:
        if P.arg(params, 0, "block") == "pending":
            latest = self._block_json(self.c.block(self.c.head.block_number), False)
            with self.c._lock:
                hashes = [b(p.hash) for p in self.c.pool]
            return pending_block_json(latest, self.c.head.block_number + 1,
                                      self.c.next_base_fee(), hashes)
        return self._block_json(self.block_at(P.arg(params, 0, "block")),
                                P.arg(params, 1, "full", False))

    def eth_getBlockByHash(self, params: list) -> dict | None:
        return self._block_json(self.c.block_by_hash(P.hash32(P.arg(params, 0, "hash"))),
                                P.arg(params, 1, "full", False))

    def eth_getBlockTransactionCountByNumber(self, params: list) -> str | None:
        rec = self.block_at(P.arg(params, 0, "block"))
        return None if rec is None else q(len(rec.txs))

    def eth_getBlockTransactionCountByHash(self, params: list) -> str | None:
        rec = self.c.block_by_hash(P.hash32(P.arg(params, 0, "hash")))
        return None if rec is None else q(len(rec.txs))

    def eth_getUncleCountByBlockNumber(self, params: list) -> str | None:
        return None if self.block_at(P.arg(params, 0, "block")) is None else "0x0"

    def eth_getUncleCountByBlockHash(self, params: list) -> str | None:
        rec = self.c.block_by_hash(P.hash32(P.arg(params, 0, "hash")))
        return None if rec is None else "0x0"

    def eth_getUncleByBlockNumberAndIndex(self, params: list) -> None:
        return None

    def eth_getUncleByBlockHashAndIndex(self, params: list) -> None:
        return None

    def eth_getBlockReceipts(self, params: list) -> list | None:
        rec = self.block_at(P.arg(params, 0, "block"))
        if rec is None:
            return None
        return [receipt_json(self.c.decode_tx(t.raw), t, rec, i) for i, t in enumerate(rec.txs)]

    # ----------------------------------------------------------------- transactions
    def eth_getTransactionByHash(self, params: list) -> dict | None:
        h = P.hash32(P.arg(params, 0, "hash"))
        loc = self.c.tx_location(h)
        if loc is None:
            p = self.c.pending_tx(h)
            return None if p is None else tx_json(p.tx, None, None, None, p.sender, p.hash)
        rec, i = loc
        t = rec.txs[i]
        return tx_json(self.c.decode_tx(t.raw), t, rec, i)

    def _tx_in_block(self, rec: BlockRec | None, idx: Any) -> tuple | None:
        i = P.quantity(idx, "index")
        if rec is None or i >= len(rec.txs):
            return None
        return rec, i

    def eth_getTransactionByBlockNumberAndIndex(self, params: list) -> dict | None:
        found = self._tx_in_block(self.block_at(P.arg(params, 0, "block")),
                                  P.arg(params, 1, "index"))
        if found is None:
            return None
        rec, i = found
        return tx_json(self.c.decode_tx(rec.txs[i].raw), rec.txs[i], rec, i)

    def eth_getTransactionByBlockHashAndIndex(self, params: list) -> dict | None:
        found = self._tx_in_block(self.c.block_by_hash(P.hash32(P.arg(params, 0, "hash"))),
                                  P.arg(params, 1, "index"))
        if found is None:
            return None
        rec, i = found
        return tx_json(self.c.decode_tx(rec.txs[i].raw), rec.txs[i], rec, i)

    def eth_getRawTransactionByHash(self, params: list) -> str | None:
        h = P.hash32(P.arg(params, 0, "hash"))
        loc = self.c.tx_location(h)
        if loc is None:
            p = self.c.pending_tx(h)
            return None if p is None else b(p.raw)
        return b(loc[0].txs[loc[1]].raw)

    def eth_getRawTransactionByBlockNumberAndIndex(self, params: list) -> str | None:
        found = self._tx_in_block(self.block_at(P.arg(params, 0, "block")),
                                  P.arg(params, 1, "index"))
        return None if found is None else b(found[0].txs[found[1]].raw)

    def eth_getRawTransactionByBlockHashAndIndex(self, params: list) -> str | None:
        found = self._tx_in_block(self.c.block_by_hash(P.hash32(P.arg(params, 0, "hash"))),
                                  P.arg(params, 1, "index"))
        return None if found is None else b(found[0].txs[found[1]].raw)

    def eth_getTransactionReceipt(self, params: list) -> dict | None:
        loc = self.c.tx_location(P.hash32(P.arg(params, 0, "hash")))
        if loc is None:
            return None
        rec, i = loc
        return receipt_json(self.c.decode_tx(rec.txs[i].raw), rec.txs[i], rec, i)

    # ----------------------------------------------------------------- logs and filters
    def _log_criteria(self, f: Any) -> dict:
        if not isinstance(f, dict):
            raise invalid_params("filter object expected")
        addrs = f.get("address")
        if addrs is None:
            addr_set = None
        elif isinstance(addrs, list):
            addr_set = {P.address(a) for a in addrs}
        else:
            addr_set = {P.address(addrs)}
        topics = f.get("topics") or []
        if not isinstance(topics, list) or len(topics) > 4:
            raise invalid_params("topics must be a list of at most 4 entries")
        parsed: list[set[bytes] | None] = []
        for t in topics:
            if t is None:
                parsed.append(None)
            elif isinstance(t, list):
                parsed.append({P.hash32(x, "topic") for x in t if x is not None} or None)
            else:
                parsed.append({P.hash32(t, "topic")})
        return {"addresses": addr_set, "topics": parsed}

    def _range(self, f: dict) -> tuple[int, int]:
        head = self.c.head.block_number
        if f.get("blockHash") is not None:
            if f.get("fromBlock") is not None or f.get("toBlock") is not None:
                raise invalid_params("blockHash excludes fromBlock / toBlock")
            rec = self.c.block_by_hash(P.hash32(f["blockHash"], "blockHash"))
            if rec is None:
                raise RpcError(SERVER_ERROR, "unknown block")
            return rec.number, rec.number

        def num(tag: Any, default: int) -> int:
            if tag is None or tag in ("latest", "pending", "safe", "finalized"):
                return default if tag is None else head
            if tag == "earliest":
                return 0
            return P.quantity(tag, "block number")

        lo, hi = num(f.get("fromBlock"), head), num(f.get("toBlock"), head)
        if lo > hi:
            raise invalid_params(f"invalid block range: fromBlock {lo} > toBlock {hi}")
        return lo, min(hi, head)

    def _logs(self, lo: int, hi: int, crit: dict) -> list[dict]:
        out = []
        for n in range(lo, hi + 1):
            rec = self.c.block(n)
            if rec is None:
                continue
            out.extend(block_logs(rec, crit))
        return out

    def eth_getLogs(self, params: list) -> list[dict]:
        f = P.arg(params, 0, "filter")
        crit = self._log_criteria(f)
        lo, hi = self._range(f)
        if hi - lo > 100_000:
            raise RpcError(SERVER_ERROR, "block range too large (max 100000)")
        return self._logs(lo, hi, crit)

    def _new_filter(self, spec: dict) -> str:
        with self._filter_lock:
            fid = q(self._next_filter)
            self._next_filter += 1
            self.filters[fid] = spec
        return fid

    def eth_newFilter(self, params: list) -> str:
        f = P.arg(params, 0, "filter")
        crit = self._log_criteria(f)
        self._range(f)  # validates tags
        return self._new_filter({"kind": "logs", "filter": f, "crit": crit,
                                 "cursor": self.c.head.block_number})

    def eth_newBlockFilter(self, params: list) -> str:
        return self._new_filter({"kind": "blocks", "cursor": self.c.head.block_number})

    def eth_newPendingTransactionFilter(self, params: list) -> str:
        return self._new_filter({"kind": "pending", "cursor": self.c.head.block_number})

    def eth_uninstallFilter(self, params: list) -> bool:
        fid = P.arg(params, 0, "id")
        with self._filter_lock:
            return self.filters.pop(fid, None) is not None

    def _filter(self, params: list) -> dict:
        f = self.filters.get(P.arg(params, 0, "id"))
        if f is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        return f

    def eth_getFilterChanges(self, params: list) -> list:
        f = self._filter(params)
        head = self.c.head.block_number
        lo, f["cursor"] = f["cursor"] + 1, head
        if f["kind"] == "blocks":
            return [b(self.c.block(n).hash) for n in range(lo, head + 1)]
        if f["kind"] == "pending":
            return []
        flo, fhi = self._range(f["filter"])
        return self._logs(max(lo, flo), min(head, fhi), f["crit"])

    def eth_getFilterLogs(self, params: list) -> list:
        f = self._filter(params)
        if f["kind"] != "logs":
            raise RpcError(SERVER_ERROR, "filter is not a log filter")
        lo, hi = self._range(f["filter"])
        return self._logs(lo, hi, f["crit"])

    # ----------------------------------------------------------------- execution (writer)
    def eth_call(self, params: list) -> str:
        P.check_arity(params, 4)
        args = self.call_args(P.arg(params, 0, "transaction"))
        header = self._block_arg(params, 1)
        overrides = parse_overrides(params[2]) if len(params) > 2 and params[2] else None
        return b(self.c.eth_call(header, **args, overrides=overrides))

    def eth_estimateGas(self, params: list) -> str:
        P.check_arity(params, 3)
        args = self.call_args(P.arg(params, 0, "transaction"))
        header = self._block_arg(params, 1)
        return q(self.c.estimate_gas(header, **args))

    def fhevm_estimateHcu(self, params: list) -> dict:
        """{hcu, hcuDepth} a transaction would use (as eth_estimateGas, without FHE work):
        to check the per-transaction limits before sending. A revert is an error with
        its data, as for eth_call."""
        P.check_arity(params, 2)
        args = self.call_args(P.arg(params, 0, "transaction"))
        header = self._block_arg(params, 1)
        total, depth = self.c.estimate_hcu(header, **args)
        return {"hcu": q(total), "hcuDepth": q(depth)}

    def eth_createAccessList(self, params: list) -> dict:
        """Addresses and slots the call touches, minus sender, precompiles, and a bare `to`."""
        args = self.call_args(P.arg(params, 0, "transaction"))
        header = self._block_arg(params, 1)
        access: dict = {}
        comp = self.c.call(header, **args, access=access)
        if comp.is_error and isinstance(comp.error, Revert):
            raise reverted(comp.output)
        slots = access.get("slots", {})
        entries = []
        for a in list(slots) + [a for a in access.get("addresses", []) if a not in slots]:
            if a == args["sender"] or int.from_bytes(a, "big") < 0x100:
                continue
            if a == args["to"] and a not in slots:
                continue
            entries.append({"address": to_checksum_address(a),
                            "storageKeys": ["0x" + k.to_bytes(32, "big").hex()
                                            for k in slots.get(a, [])]})
        gas = self.c.estimate_gas(header, **args)
        return {"accessList": entries, "gasUsed": q(gas)}

    def eth_sendRawTransaction(self, params: list, only_fast: bool = False) -> str:
        raw = P.data(P.arg(params, 0, "transaction"), "transaction")
        if not raw:
            raise invalid_params("empty transaction")
        return b(self.d.send_raw(raw, only_fast=only_fast))

    def _fill_tx(self, tx: Any) -> tuple[Any, dict]:
        if not isinstance(tx, dict):
            raise invalid_params("transaction object expected")
        acct = self._key(tx.get("from"))
        sender = P.address(acct.address)
        out: dict = {"chainId": self.d.chain_id}
        if tx.get("to"):
            out["to"] = to_checksum_address(P.address(tx["to"], "to"))
        data = P.data(tx.get("input") or tx.get("data") or "0x", "input")
        out["data"] = data
        out["value"] = P.quantity(tx.get("value") or 0, "value")
        out["nonce"] = (P.quantity(tx["nonce"], "nonce") if tx.get("nonce") is not None
                        else self.c.pending_nonce(sender))
        if tx.get("gasPrice") is not None:
            out["gasPrice"] = P.quantity(tx["gasPrice"], "gasPrice")
            if tx.get("maxFeePerGas") is not None or tx.get("maxPriorityFeePerGas") is not None:
                raise invalid_params("gasPrice and maxFeePerGas both given")
        else:
            prio = P.quantity(tx.get("maxPriorityFeePerGas") or DEFAULT_PRIORITY_FEE,
                              "maxPriorityFeePerGas")
            if tx.get("maxFeePerGas") is not None:
                out["maxFeePerGas"] = P.quantity(tx["maxFeePerGas"], "maxFeePerGas")
            else:
                out["maxFeePerGas"] = 2 * self.c.next_base_fee() + prio
            out["maxPriorityFeePerGas"] = prio
            if out["maxPriorityFeePerGas"] > out["maxFeePerGas"]:
                raise RpcError(SERVER_ERROR, "maxPriorityFeePerGas exceeds maxFeePerGas")
        if tx.get("accessList"):
            out["accessList"] = tx["accessList"]
        if tx.get("authorizationList"):
            out["authorizationList"] = parse_authorizations(tx["authorizationList"])
        if tx.get("gas") is not None:
            out["gas"] = P.quantity(tx["gas"], "gas")
        else:
            out["gas"] = self.c.estimate_gas(
                self.c.head, sender=sender, to=P.address(out["to"]) if "to" in out else b"",
                value=out["value"], data=data, gas=None, gas_price=0)
        return acct, out

    def _sign(self, tx: Any) -> bytes:
        acct, fields = self._fill_tx(tx)
        try:
            return bytes(acct.sign_transaction(fields).raw_transaction)
        except (TypeError, ValueError) as exc:
            raise invalid_params(f"cannot sign transaction: {exc}") from exc

    def eth_sendTransaction(self, params: list) -> str:
        return b(self.d.send_raw(self._sign(P.arg(params, 0, "transaction"))))

    def eth_signTransaction(self, params: list) -> dict:
        raw = self._sign(P.arg(params, 0, "transaction"))
        tx = self.c.decode_tx(raw)
        return {"raw": b(raw), "tx": tx_json(tx, None, None, None, tx.sender, keccak(raw))}

    # ----------------------------------------------------------------- signing
    def eth_sign(self, params: list) -> str:
        acct = self._key(P.arg(params, 0, "address"))
        msg = P.data(P.arg(params, 1, "message"), "message")
        return b(acct.sign_message(encode_defunct(primitive=msg)).signature)

    def personal_sign(self, params: list) -> str:
        return self.eth_sign([P.arg(params, 1, "address"), P.arg(params, 0, "message")])

    def eth_signTypedData_v4(self, params: list) -> str:
        acct = self._key(P.arg(params, 0, "address"))
        typed = P.arg(params, 1, "typedData")
        if isinstance(typed, str):
            try:
                typed = json.loads(typed)
            except ValueError:
                raise invalid_params("typed data is not valid JSON") from None
        if not isinstance(typed, dict):
            raise invalid_params("typed data must be an object")
        try:
            return b(Account.sign_typed_data(acct.key, full_message=typed).signature)
        except Exception as exc:
            raise invalid_params(f"invalid typed data: {exc}") from exc

    eth_signTypedData = eth_signTypedData_v4

    # ----------------------------------------------------------------- fhEVM
    def fhevm_getCiphertext(self, params: list) -> str | None:
        """The committed ciphertext blob under a handle (what the KMS parties fetch), or
        null: blobs of a block still executing are not served."""
        handle = P.hash32(P.arg(params, 0, "handle"), "handle")
        blob = self.d.store.get("blobs", handle)
        return None if blob is None else b(blob)

    def fhevm_getTransactionHcu(self, params: list) -> dict | None:
        """{hcu, hcuDepth} the executor metered for a mined transaction (homomorphic
        complexity units, limited per transaction like gas), or null for an unknown hash.
        A reverted transaction reports 0: its metering was reverted with it."""
        loc = self.c.tx_location(P.hash32(P.arg(params, 0, "hash")))
        if loc is None:
            return None
        t = loc[0].txs[loc[1]]
        return {"hcu": q(t.hcu), "hcuDepth": q(t.hcu_depth)}

    # ----------------------------------------------------------------- dev controls (writer)
    def evm_mine(self, params: list) -> str:
        """hardhat: evm_mine(timestamp); ganache: evm_mine({timestamp, blocks});
        web3.py's `w3.testing.mine(n)`: evm_mine(n). A number no later than the head's
        timestamp cannot be a timestamp, so it is read as a block count."""
        ts, blocks = None, 1
        arg = params[0] if params else None
        if isinstance(arg, dict):
            if arg.get("blocks") is not None:
                blocks = P.quantity(arg["blocks"], "blocks")
            arg = arg.get("timestamp")
        if arg is not None:
            n = arg if isinstance(arg, int) and not isinstance(arg, bool) else P.quantity(arg)
            if n <= self.c.head.timestamp:
                blocks = n
            else:
                ts = n
        if blocks > 10_000:
            raise invalid_params("at most 10000 blocks at a time")
        for i in range(blocks):
            self.d.mine_pool(timestamp=ts if i == 0 else None)
        return "0x0"

    def anvil_mine(self, params: list) -> None:
        n = P.quantity(params[0], "blocks") if params and params[0] is not None else 1
        if n > 10_000:
            raise invalid_params("at most 10000 blocks at a time")
        interval = P.quantity(params[1], "interval") if len(params) > 1 and params[1] else 0
        for _ in range(n):
            ts = self.c.head.timestamp + interval if interval else None
            self.d.mine_pool(timestamp=ts)
        return None

    def evm_snapshot(self, params: list) -> str:
        return q(self.c.snapshot())

    def evm_revert(self, params: list) -> bool:
        return self.c.revert(P.quantity(P.arg(params, 0, "snapshot id"), "snapshot id"))

    def evm_increaseTime(self, params: list) -> int:
        secs = P.arg(params, 0, "seconds")
        n = secs if isinstance(secs, int) and not isinstance(secs, bool) else P.quantity(secs)
        return self.c.increase_time(n)

    def evm_setNextBlockTimestamp(self, params: list) -> None:
        ts = P.arg(params, 0, "timestamp")
        n = ts if isinstance(ts, int) and not isinstance(ts, bool) else P.quantity(ts)
        self.c.set_next_timestamp(n)
        return None

    def evm_setAutomine(self, params: list) -> bool:
        on = P.arg(params, 0, "enabled")
        if not isinstance(on, bool):
            raise invalid_params("expected true or false")
        self.d.automine = on
        if on and self.c.pool:
            self.d.mine_pool()
        return True

    anvil_setAutomine = evm_setAutomine

    def evm_setIntervalMining(self, params: list) -> bool:
        ms = P.arg(params, 0, "milliseconds")
        if not isinstance(ms, int) or ms < 0:
            raise invalid_params("expected a number of milliseconds")
        self.d.block_time = ms / 1000 if ms else None
        return True

    def _announce_head(self) -> None:
        """set* helpers mine a block carrying the change: tell subscribers about it."""
        rec = self.c.block(self.c.head.block_number)
        if rec is not None:
            self.d._notify(rec)

    def anvil_setBalance(self, params: list) -> None:
        a = P.address(P.arg(params, 0, "address"))
        self.c.set_account(a, balance=P.quantity(P.arg(params, 1, "balance"), "balance"))
        self._announce_head()
        return None

    def anvil_setCode(self, params: list) -> None:
        a = P.address(P.arg(params, 0, "address"))
        self.c.set_account(a, code=P.data(P.arg(params, 1, "code"), "code"))
        self._announce_head()
        return None

    def anvil_setNonce(self, params: list) -> None:
        a = P.address(P.arg(params, 0, "address"))
        self.c.set_account(a, nonce=P.quantity(P.arg(params, 1, "nonce"), "nonce"))
        self._announce_head()
        return None

    def anvil_setStorageAt(self, params: list) -> bool:
        a = P.address(P.arg(params, 0, "address"))
        slot = P.quantity(P.arg(params, 1, "slot"), "slot")
        val = int.from_bytes(P.data(P.arg(params, 2, "value"), "value", 32), "big")
        self.c.set_account(a, slot=(slot, val))
        self._announce_head()
        return True


def parse_authorizations(raw: Any) -> list[dict]:
    """EIP-7702 signed authorizations from JSON into the form eth-account signs with."""
    if not isinstance(raw, list):
        raise invalid_params("authorizationList must be an array")
    out = []
    for a in raw:
        if not isinstance(a, dict):
            raise invalid_params("each authorization must be an object")
        out.append({"chainId": P.quantity(a.get("chainId"), "chainId"),
                    "address": to_checksum_address(P.address(a.get("address"))),
                    "nonce": P.quantity(a.get("nonce"), "nonce"),
                    "yParity": P.quantity(a.get("yParity", a.get("v")), "yParity"),
                    "r": P.quantity(a.get("r"), "r"), "s": P.quantity(a.get("s"), "s")})
    return out


def parse_overrides(raw: Any) -> dict:
    """geth's state override set: {address: {balance, nonce, code, state, stateDiff}}."""
    if not isinstance(raw, dict):
        raise invalid_params("state overrides must be an object keyed by address")
    out: dict = {}
    for a, o in raw.items():
        if not isinstance(o, dict):
            raise invalid_params("each state override must be an object")
        unknown = set(o) - {"balance", "nonce", "code", "state", "stateDiff"}
        if unknown:
            raise invalid_params(f"unknown state override fields {sorted(unknown)}")
        if "state" in o and "stateDiff" in o:
            raise invalid_params("state and stateDiff are exclusive")
        e: dict = {}
        if o.get("balance") is not None:
            e["balance"] = P.quantity(o["balance"], "balance")
        if o.get("nonce") is not None:
            e["nonce"] = P.quantity(o["nonce"], "nonce")
        if o.get("code") is not None:
            e["code"] = P.data(o["code"], "code")
        for key in ("state", "stateDiff"):
            if o.get(key) is not None:
                if not isinstance(o[key], dict):
                    raise invalid_params(f"{key} must be an object")
                e[key] = {int.from_bytes(P.hash32(k, "slot"), "big"):
                          int.from_bytes(P.hash32(v, "value"), "big")
                          for k, v in o[key].items()}
        out[P.address(a)] = e
    return out


def _percentile(tips: list[tuple[int, int]], pct: float) -> int:
    if not tips:
        return 0
    total = sum(g for _, g in tips)
    threshold = total * pct / 100
    acc = 0
    for tip, g in tips:
        acc += g
        if acc >= threshold:
            return tip
    return tips[-1][0]


def log_matches(address: bytes, topics: tuple[bytes, ...], crit: dict) -> bool:
    if crit["addresses"] is not None and address not in crit["addresses"]:
        return False
    if len(crit["topics"]) > len(topics):
        return False
    for i, want in enumerate(crit["topics"]):
        if want is None:
            continue
        if i >= len(topics) or topics[i] not in want:
            return False
    return True


def block_logs(rec: BlockRec, crit: dict) -> list[dict]:
    out = []
    log_index = 0
    for i, t in enumerate(rec.txs):
        if t.logs:
            for j, lg in enumerate(logs_json(t, rec, i, log_index)):
                if log_matches(t.logs[j].address, t.logs[j].topics, crit):
                    out.append(lg)
        log_index += len(t.logs)
    return out


__all__ = ["Methods", "WRITER", "block_logs", "log_matches"]
