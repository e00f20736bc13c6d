"""The plain-transfer fast path gives exactly what py-evm's executor gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node.devnet import Devnet  # noqa: E402
from node.errors import RpcError  # noqa: E402

KEYS = [Account.from_mnemonic("test test test test test test test test test test test junk",
                              account_path=f"m/44'/60'/0'/0/{i}").key for i in range(3)]
EOA = "0x000000000000000000000000000000000000bEEF"


def _raw(key: bytes, **fields: object) -> bytes:
    tx = {"to": EOA, "value": 7, "gas": 21000, "chainId": 31337, **fields}
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


def _scenario() -> list[bytes | tuple[bytes]]:
    """Transactions in order; a 1-tuple marks one that must be refused."""
    a, b, c = KEYS
    return [
        _raw(a, nonce=0, maxFeePerGas=10**10, maxPriorityFeePerGas=10**9, type=2),
        _raw(a, nonce=1, maxFeePerGas=10**9 + 5, maxPriorityFeePerGas=10**9, type=2),  # capped tip
        _raw(b, nonce=0, gasPrice=3 * 10**9),  # legacy
        _raw(b, nonce=1, gasPrice=2 * 10**9, type=1, accessList=[]),
        _raw(a, nonce=2, value=0, maxFeePerGas=10**10, maxPriorityFeePerGas=1, type=2),  # value 0
        _raw(c, nonce=0, gas=50_000, value=10**18, maxFeePerGas=10**10,
             maxPriorityFeePerGas=2, type=2),  # gas limit above use
        (_raw(a, nonce=9, maxFeePerGas=10**10, maxPriorityFeePerGas=1, type=2),),  # bad nonce
        (_raw(c, nonce=1, value=10**30, maxFeePerGas=10**10, maxPriorityFeePerGas=1,
              type=2),),  # cannot pay
        _raw(a, nonce=3, to=Account.from_key(b).address, maxFeePerGas=10**10,
             maxPriorityFeePerGas=10**9, type=2),  # to a funded account
    ]


def _run(tmp: Path, fast: bool) -> list[tuple]:
    d = Devnet(str(tmp), backend="clear")
    d.chain.fast_transfers = fast
    ts = d.chain.head.timestamp
    out = []
    try:
        for i, item in enumerate(_scenario()):
            raw = item[0] if isinstance(item, tuple) else item
            tx = d.decode(raw)
            try:
                rec, _ = d.chain.mine([(raw, tx)], strict=True, timestamp=ts + 10 * (i + 1))
            except RpcError as exc:
                out.append(("refused", exc.code))
                assert isinstance(item, tuple), exc.message
                continue
            h = rec.header
            out.append((h.state_root, h.receipt_root, h.gas_used, h.bloom,
                        rec.txs[0].status, rec.txs[0].gas_used))
    finally:
        d.close()
    return out


def test_fast_path_matches_executor(tmp_path: Path) -> None:
    fast = _run(tmp_path / "fast", True)
    slow = _run(tmp_path / "slow", False)
    assert fast == slow
    assert sum(1 for r in fast if r[0] == "refused") == 2


@pytest.mark.parametrize("fast", [True, False])
def test_fast_path_is_taken_only_when_enabled(tmp_path: Path, fast: bool) -> None:
    d = Devnet(str(tmp_path), backend="clear")
    d.chain.fast_transfers = fast
    calls = []
    original = d.chain._fast_transfer

    def spy(*args: object) -> object:
        result = original(*args)
        calls.append(result is not None)
        return result

    d.chain._fast_transfer = spy  # type: ignore[method-assign]
    raw = _raw(KEYS[0], nonce=0, maxFeePerGas=10**10, maxPriorityFeePerGas=10**9, type=2)
    d.chain.mine([(raw, d.decode(raw))])
    d.close()
    assert calls == ([True] if fast else [])
