"""Precompile machinery: selector dispatch, call-context checks, storage access, reverts.

A py-evm precompile is a callable on the computation. Everything that goes wrong inside
one (bad calldata, a permission, any Python exception) becomes a REVERT carrying an
Error(string) reason; only py-evm's own VMErrors (out of gas) pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth.exceptions import Revert as EvmRevert
from eth.exceptions import VMError
from eth_abi import encode
from eth_utils import keccak

from fhevm.abi import Revert, decode_args, encode_result, error_payload, selector

if TYPE_CHECKING:
    from eth.abc import ComputationAPI

    from fhevm.runtime import FhevmRuntime
    from fhevm.state import FhevmState

GAS_CALL_BASE = 2_600
GAS_PER_CALLDATA_WORD = 3
# What the LOG opcode costs (yellow paper G_log, G_logtopic, G_logdata): a precompile's
# events are charged as if a Solidity contract had emitted them.
GAS_LOG = 375
GAS_LOG_TOPIC = 375
GAS_LOG_DATA_BYTE = 8


def slot(*parts: bytes) -> int:
    """Storage slot for a tuple of byte strings (a namespaced mapping key)."""
    return int.from_bytes(keccak(b"".join(parts)), "big")


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@dataclass
class CallContext:
    """What a precompile function may see and touch."""

    computation: ComputationAPI
    runtime: FhevmRuntime
    address: bytes
    #: Nesting of this dispatch inside multicall (0 for the call itself).
    depth: int = 0

    @property
    def state(self) -> FhevmState:
        return self.computation.state  # type: ignore[return-value]

    @property
    def sender(self) -> bytes:
        return self.computation.msg.sender

    @property
    def chain_id(self) -> int:
        return self.runtime.chain_id

    @property
    def timestamp(self) -> int:
        return self.computation.state.timestamp

    @property
    def block_number(self) -> int:
        return self.computation.state.block_number

    def charge(self, gas: int, reason: str) -> None:
        self.computation.consume_gas(gas, reason)

    def sload(self, address: bytes, key: int) -> int:
        return self.state.get_storage(address, key)

    def sstore(self, address: bytes, key: int, value: int) -> None:
        self.state.set_storage(address, key, value)

    def tload(self, address: bytes, key: int) -> int:
        return int.from_bytes(self.state.get_transient_storage(address, key) or b"\0", "big")

    def tstore(self, address: bytes, key: int, value: int) -> None:
        self.state.set_transient_storage(address, key, word(value) if value else b"")

    def emit(self, event: Event, *values: Any) -> None:
        """Log `event` from this precompile's address, charged like the LOG opcode.

        The entry goes on this call's own computation, so py-evm drops it with the frame
        when this call or any frame above it reverts."""
        topics, data = event.encode(values)
        self.charge(
            GAS_LOG + GAS_LOG_TOPIC * len(topics) + GAS_LOG_DATA_BYTE * len(data), event.name
        )
        self.computation.add_log_entry(self.address, topics, data)


@dataclass(frozen=True)
class Event:
    """A Solidity event whose indexed parameters all come first (true of every event the
    fhEVM contracts declare); enums are written as uint8, as in their ABI."""

    name: str
    indexed: tuple[str, ...]
    data: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.indexed + self.data)})"

    @property
    def topic0(self) -> int:
        return int.from_bytes(keccak(text=self.signature), "big")

    def encode(self, values: Sequence[Any]) -> tuple[tuple[int, ...], bytes]:
        """(topics, data) of one occurrence; indexed values are static types here."""
        if len(values) != len(self.indexed) + len(self.data):
            raise ValueError(f"{self.signature} takes {len(self.indexed) + len(self.data)} values")
        k = len(self.indexed)
        topics = [self.topic0]
        for t, v in zip(self.indexed, values[:k], strict=True):
            topics.append(int.from_bytes(encode([t], [v]), "big"))
        return tuple(topics), encode(list(self.data), list(values[k:]))


@dataclass(frozen=True)
class Method:
    signature: str
    arg_types: tuple[str, ...]
    returns: tuple[str, ...]
    mutates: bool
    payable: bool
    handler_name: str


def _split_args(signature: str) -> tuple[str, ...]:
    inner = re.fullmatch(r"\w+\((.*)\)", signature)
    if inner is None:
        raise ValueError(signature)
    text, parts, depth, cur = inner.group(1), [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        parts.append(cur)
    return tuple(parts)


def method(
    signature: str, returns: Sequence[str] = (), *, mutates: bool = True, payable: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a precompile function by its Solidity signature (enums as uint8)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__fhevm_method__ = Method(  # type: ignore[attr-defined]
            signature, _split_args(signature), tuple(returns), mutates, payable, fn.__name__
        )
        return fn

    return deco


class Precompile:
    """Base class: subclasses declare `@method`s; an instance is the py-evm precompile."""

    address: bytes = b""
    name: str = "precompile"
    _methods: dict[bytes, Method]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        methods: dict[bytes, Method] = {}
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                m = getattr(attr, "__fhevm_method__", None)
                if m is not None:
                    methods[selector(m.signature)] = m
        cls._methods = methods

    def __init__(self, runtime: FhevmRuntime) -> None:
        self.runtime = runtime

    @classmethod
    def signatures(cls) -> list[str]:
        return [m.signature for m in cls._methods.values()]

    def __call__(self, computation: ComputationAPI) -> ComputationAPI:
        reason: str | None = None
        try:
            computation.output = self.run(computation, computation.msg.data_as_bytes)
        except VMError:
            raise
        except Revert as exc:
            reason = exc.reason
        except Exception as exc:  # nothing but a revert may escape a precompile
            reason = f"{self.name}: internal error ({type(exc).__name__})"
        if reason is not None:
            payload = error_payload(reason)
            computation.output = payload
            raise EvmRevert(payload)
        return computation

    def run(self, computation: ComputationAPI, data: bytes, depth: int = 0) -> bytes:
        """Dispatch one call (also used by `multicall`, with the same caller)."""
        msg = computation.msg
        ctx = CallContext(computation, self.runtime, self.address, depth)
        ctx.charge(GAS_CALL_BASE + GAS_PER_CALLDATA_WORD * ((len(data) + 31) // 32), "fhevm call")
        if msg.code_address != msg.storage_address:
            raise Revert(f"{self.name}: delegatecall and callcode are not supported")
        if len(data) < 4:
            raise Revert(f"{self.name}: missing function selector")
        m = self._methods.get(data[:4])
        if m is None:
            raise Revert(f"{self.name}: unknown function selector 0x{data[:4].hex()}")
        if msg.value and not m.payable:
            raise Revert(f"{self.name}: {m.signature} is not payable")
        if m.mutates and msg.is_static:
            raise Revert(f"{self.name}: {m.signature} changes state in a static call")
        args = decode_args(m.arg_types, data[4:])
        result = getattr(self, m.handler_name)(ctx, *args)
        if not m.returns:
            return b""
        values = result if len(m.returns) > 1 else (result,)
        return encode_result(m.returns, values)
