"""Deferred results: the FHE operations of a block computed as one graph when it is sealed.

Nothing a contract can observe depends on what a ciphertext holds (handles are random; gas
and HCU depend on operation, type and operand kind), so the executor need not compute a
result when a contract asks for it, only before the block's ciphertexts are stored. It
records a `Pending` node instead, and the State evaluates the surviving nodes when it is
persisted: independent operations then run at the same time, each on its own core (a
token transfer's debit and credit, the comparisons of several bids). A node of a reverted
frame is dropped with the frame's blobs and never computed. Every mined handle still has
its ciphertext when the block lands, as without deferral.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future

from fhevm.backends.base import BackendError, Ciphertext
from fhevm.types import FheType


class Pending:
    """A result to compute later: `fn(*args)`, where args may hold Pending nodes (also
    inside lists) that are computed first. `fhe_type` is the type the result must have."""

    __slots__ = ("fhe_type", "_fn", "_args", "_value")

    def __init__(self, fhe_type: FheType, fn: Callable[..., Ciphertext], args: Sequence) -> None:
        self.fhe_type = fhe_type
        self._fn = fn
        self._args = tuple(args)
        self._value: Ciphertext | None = None

    def deps(self) -> list[Pending]:
        """The Pending nodes among the arguments, in order."""
        out: list[Pending] = []
        for a in self._args:
            items = a if isinstance(a, list | tuple) else (a,)
            out.extend(x for x in items if isinstance(x, Pending))
        return out

    @property
    def done(self) -> bool:
        return self._value is not None

    @property
    def value(self) -> Ciphertext:
        if self._value is None:
            raise BackendError("deferred result read before it was computed")
        return self._value

    def compute(self, type_of: Callable[[Ciphertext], FheType]) -> Ciphertext:
        """Run the operation (every dependency must be done) and check the result's type."""
        if self._value is None:
            value = self._fn(*(_resolve(a) for a in self._args))
            if type_of(value) != self.fhe_type:
                raise BackendError(
                    f"deferred operation returned {type_of(value).name}, not {self.fhe_type.name}"
                )
            self._value = value
        return self._value


def _resolve(arg: object) -> object:
    if isinstance(arg, Pending):
        return arg.value
    if isinstance(arg, list | tuple):
        return type(arg)(x.value if isinstance(x, Pending) else x for x in arg)
    return arg


def _topological(roots: Iterable[Pending]) -> list[Pending]:
    """Every node not yet computed that the roots need, dependencies first."""
    order: list[Pending] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Pending, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen or node.done:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((d, False) for d in reversed(node.deps()))
    return order


def evaluate(
    nodes: Iterable[Pending],
    type_of: Callable[[Ciphertext], FheType],
    pool: Executor | None = None,
) -> None:
    """Compute `nodes` and what they depend on; with a pool, independent ones at once.

    Nodes go to the pool in dependency order and each waits for its own dependencies, so
    a worker only ever waits for nodes already taken by other workers: no deadlock with
    any number of workers. The first failure is raised once every started node is over.
    """
    order = _topological(nodes)
    if pool is None or len(order) < 2:
        for node in order:
            node.compute(type_of)
        return
    futures: dict[int, Future] = {}
    for node in order:
        waits = [futures[id(d)] for d in node.deps() if id(d) in futures]
        futures[id(node)] = pool.submit(_after, waits, node, type_of)
    error: BaseException | None = None
    for f in futures.values():
        exc = f.exception()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error


def _after(waits: list[Future], node: Pending, type_of: Callable[[Ciphertext], FheType]) -> None:
    for w in waits:
        w.result()  # a failed dependency fails this node too
    node.compute(type_of)
