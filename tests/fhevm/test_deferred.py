"""Deferred results (fhevm.deferred): a block's FHE operations computed as a graph when the
State is persisted, independent ones at once, with the same results, reverts and store as
computing each when asked."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_abi import decode

from fhevm.backends import BackendError, ClearBackend
from fhevm.deferred import Pending, evaluate
from fhevm.types import FheType
from tests.fhevm.harness import Devnet, call_data

U8 = FheType.Uint8
ADD = "fheAdd(bytes32,bytes32,bytes1)"


class CountingBackend(ClearBackend):
    """The clear backend, counting the binary operations it really computes."""

    def __init__(self) -> None:
        super().__init__()
        self.binary_calls = 0

    def binary(self, op, lhs, rhs):  # type: ignore[no-untyped-def]
        self.binary_calls += 1
        return super().binary(op, lhs, rhs)


def test_graph_gives_the_direct_results_dependencies_first() -> None:
    be = ClearBackend()
    a, b = be.encrypt(200, U8), be.encrypt(100, U8)
    s = Pending(U8, be.binary, ("add", a, b))  # 44
    d = Pending(U8, be.binary, ("sub", a, b))  # 100
    ge = Pending(FheType.Bool, be.binary, ("ge", s, d))  # 44 >= 100: false
    sel = Pending(U8, be.select, (ge, s, d))  # 100
    total = Pending(U8, be.sum, ([s, d, sel], U8))  # 244
    with ThreadPoolExecutor(2) as pool:
        evaluate([total, ge], be.type_of, pool)
    assert [be.decrypt(n.value) for n in (s, d, ge, sel, total)] == [44, 100, 0, 100, 244]


def test_independent_operations_run_at_the_same_time() -> None:
    """Two nodes that each wait for the other to start: only concurrent evaluation ends."""
    be = ClearBackend()
    barrier = threading.Barrier(2, timeout=30)

    def meet(x):  # type: ignore[no-untyped-def]
        barrier.wait()
        return x

    one, two = be.encrypt(1, U8), be.encrypt(2, U8)
    nodes = [Pending(U8, meet, (one,)), Pending(U8, meet, (two,))]
    with ThreadPoolExecutor(2) as pool:
        evaluate(nodes, be.type_of, pool)
    assert [be.decrypt(n.value) for n in nodes] == [1, 2]


def test_a_failure_is_raised_and_its_dependents_are_not_computed() -> None:
    be = ClearBackend()
    a = be.encrypt(3, U8)
    bad = Pending(U8, be.binary, ("nonsense", a, a))
    after = Pending(U8, be.binary, ("add", bad, a))
    fine = Pending(U8, be.binary, ("add", a, a))
    with ThreadPoolExecutor(2) as pool, pytest.raises(BackendError, match="unknown operation"):
        evaluate([bad, after, fine], be.type_of, pool)
    assert not bad.done and not after.done and fine.done
    with pytest.raises(BackendError, match="before it was computed"):
        _ = after.value


def test_a_result_of_the_wrong_type_is_refused() -> None:
    be = ClearBackend()
    a = be.encrypt(3, U8)
    node = Pending(FheType.Uint16, be.binary, ("add", a, a))
    with pytest.raises(BackendError, match="Uint8, not Uint16"):
        evaluate([node], be.type_of)


@pytest.fixture
def deferred_net() -> Devnet:
    return Devnet(CountingBackend(), defer=True)


def test_deferred_chain_and_reuse_within_one_transaction(deferred_net: Devnet) -> None:
    net = deferred_net
    a = net.trivial(3, U8)
    out = net.send(net.probe, call_data("chain(bytes4,bytes32,uint256)", _selector(ADD), a, 4))
    assert out.success, out.reason
    (r,) = decode(["bytes32"], out.output)
    assert net.rt.decrypt(r) == 48  # 3 doubled four times
    assert r in net.blob_db and isinstance(net.blob_db[r], bytes)


def test_deferred_reverted_frame_is_never_computed(deferred_net: Devnet) -> None:
    net = deferred_net
    backend: CountingBackend = net.rt.backend  # type: ignore[assignment]
    a = net.trivial(7, U8)
    n_blobs, calls = len(net.blob_db), backend.binary_calls
    inner = call_data(ADD, a, a, b"\x01")
    out = net.send(net.probe, call_data("tryComputeThenRevert(bytes)", inner))
    assert out.success and decode(["bool"], out.output) == (False,)
    assert len(net.blob_db) == n_blobs and backend.binary_calls == calls
    assert net.rt.store.pending_count() == 0


def test_eth_call_does_not_defer(deferred_net: Devnet) -> None:
    net = deferred_net
    a = net.trivial(3, U8)
    out = net.call(net.probe, call_data("compute(bytes)", call_data(ADD, a, a, b"\x00")))
    assert out.success and net.rt.load(decode(["bytes32"], out.output)[0]) is None


def test_the_clear_backend_computes_when_asked_by_default() -> None:
    assert not Devnet("clear").rt.defers()


def test_a_failing_deferred_operation_persists_nothing() -> None:
    """An engine failure at the seal (not a contract error: types were checked when the
    contract asked) fails the block, and no ciphertext of it is stored."""

    class FailingMul(ClearBackend):
        def binary(self, op, lhs, rhs):  # type: ignore[no-untyped-def]
            if op == "mul":
                raise BackendError("engine failure")
            return super().binary(op, lhs, rhs)

    net = Devnet(FailingMul(), defer=True)
    a = net.trivial(3, U8)
    before = dict(net.blob_db)
    with pytest.raises(BackendError, match="engine failure"):
        net.compute("fheMul(bytes32,bytes32,bytes1)", a, a, b"\x00")
    assert net.blob_db == before and net.rt.store.pending_count() == 0


def _selector(signature: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=signature)[:4]
