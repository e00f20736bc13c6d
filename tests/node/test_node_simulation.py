"""eth_call and eth_estimateGas run FHE symbolically: same types, reverts and gas, no work.

The backend's compute methods are counted: calls and estimates must not reach them, a mined
transaction must, and the estimate must be enough gas for the real transaction.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector as selector

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from contracts import artifacts  # noqa: E402
from fhevm.backends.base import BINARY_OPS, BackendError  # noqa: E402
from fhevm.backends.clear import ClearBackend  # noqa: E402
from fhevm.backends.symbolic import SymbolicBackend  # noqa: E402
from fhevm.types import FheType  # noqa: E402
from node.devnet import Devnet  # noqa: E402
from node.errors import RpcError  # noqa: E402
from node.records import TxRec  # noqa: E402

COMPUTE = ("binary", "unary", "select", "cast", "rand", "sum", "is_in", "trivial_encrypt")


def _data(sig: str, *args: object) -> bytes:
    types = [t for t in sig[sig.index("(") + 1:-1].split(",") if t]
    return selector(sig) + encode(types, list(args))


class _Net:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.d = Devnet(str(tmp), backend="clear")
        self.key = self.d.accounts[0].key
        self.sender = bytes.fromhex(self.d.accounts[0].address[2:])
        self.nonce = 0
        self.work: list[str] = []
        inner = self.d.runtime.backend
        for name in COMPUTE:
            original = getattr(inner, name)

            def counted(*args: object, _f=original, _n=name) -> object:
                self.work.append(_n)
                return _f(*args)

            monkeypatch.setattr(inner, name, counted)

    def send(self, to: bytes | None, data: bytes, gas: int = 10_000_000) -> TxRec:
        tx = {"data": data, "gas": gas, "gasPrice": 10**9, "nonce": self.nonce,
              "chainId": 31337, "value": 0}
        if to is not None:
            tx["to"] = to
        raw = bytes(Account.from_key(self.key).sign_transaction(tx).raw_transaction)
        self.nonce += 1
        self.d.send_raw(raw)
        c = self.d.chain
        return c.block(c.head.block_number).txs[0]

    def call(self, to: bytes, data: bytes) -> bytes:
        c = self.d.chain
        return c.eth_call(c.head, self.sender, to, 0, data, None, 0)

    def estimate(self, to: bytes, data: bytes) -> int:
        c = self.d.chain
        return c.estimate_gas(c.head, self.sender, to, 0, data, None, 0)


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    n = _Net(tmp_path, monkeypatch)
    yield n
    n.d.close()


def test_calls_and_estimates_do_no_fhe_work(net: _Net) -> None:
    contract = net.send(None, artifacts.load_bytecode("FHETestEuint32")).contract
    assert contract
    add = _data("binary(uint8,uint32,uint32)", 0, 20, 22)  # op 0: add
    net.work.clear()
    (handle,) = decode(["bytes32"], net.call(contract, add))
    gas = net.estimate(contract, add)
    assert net.work == []
    assert net.d.runtime.store.get(handle) is None  # the call left nothing behind
    rec = net.send(contract, add, gas=gas)  # the estimate is enough for the real thing
    assert rec.status == 1 and rec.gas_used <= gas
    assert "binary" in net.work
    (stored,) = decode(["bytes32"], net.call(contract, _data("lastResult()")))
    assert net.d.runtime.decrypt(stored) == 42
    assert stored != handle  # fresh handles in calls too


def test_simulated_reverts_match(net: _Net) -> None:
    """A revert in a call still says why (an operand the caller may not use)."""
    contract = net.send(None, artifacts.load_bytecode("FHETestEuint32")).contract
    net.send(contract, _data("binary(uint8,uint32,uint32)", 0, 1, 2))
    (h,) = decode(["bytes32"], net.call(contract, _data("lastResult()")))
    other = net.send(None, artifacts.load_bytecode("FHETestEuint32")).contract
    with pytest.raises(RpcError) as err:  # `other` holds no permission on h
        net.estimate(other, _data("binaryHandles(uint8,bytes32,bytes32)", 0, h, h))
    assert "ACLNotAllowed" in err.value.message


@pytest.mark.parametrize("op", BINARY_OPS)
def test_symbolic_types_match_clear(op: str) -> None:
    clear = ClearBackend()
    sym = SymbolicBackend(clear)
    for t in (FheType.Uint8, FheType.Uint64, FheType.Uint256):
        a, b = clear.trivial_encrypt(7, t), clear.trivial_encrypt(3, t)
        real = clear.binary(op, a, b)
        fake = sym.binary(op, sym.deserialize(clear.serialize(a)), sym.trivial_encrypt(3, t))
        assert sym.type_of(fake) == clear.type_of(real)
        assert sym.deserialize(sym.serialize(fake)) == fake


def test_symbolic_refuses_values_and_bad_blobs() -> None:
    sym = SymbolicBackend(ClearBackend())
    t = sym.trivial_encrypt(1, FheType.Uint8)
    with pytest.raises(BackendError):
        sym.decrypt(t)
    with pytest.raises(BackendError):
        sym.deserialize(b"\x00garbage")
    with pytest.raises(BackendError):
        sym.binary("pow", t, t)
