"""The FHE executor precompile at 0xe3a9...dD24: IFHEVMExecutor of @fhevm/solidity.

Each call checks its calldata, the handles' types and chain id, and the caller's ACL
permission on every encrypted operand; meters HCU (and gas); computes with the backend
(or, on a concurrent backend, records the operation for the block's graph: fhevm.deferred);
stores the result under a fresh random handle; and grants the caller transient access.
Any failure reverts with a reason. Each successful call emits its FHEEvents event (the
declarations of @fhevm/host-contracts 0.10.0, from this address, with the same topics
and data) so that indexers watching Zama's executor work here too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from fhevm import acl, addresses, hcu
from fhevm.abi import Revert
from fhevm.backends.base import COMPARISONS, Backend, BackendError, Ciphertext
from fhevm.deferred import Pending
from fhevm.handles import HandleError, fresh_computed, unpack
from fhevm.precompile import CallContext, Event, Precompile, method, slot
from fhevm.types import ARITH, BITWISE, EQUALITY, SHIFTS, SOLIDITY_ENUM_SIZE, FheType, parse_type

EXECUTOR = addresses.EXECUTOR
_EXISTS = b"fhevm.executor.exists"
GAS_NEW_HANDLE = 22_100
GAS_LOAD = 2_100
MAX_LIST = 256

_BINARY_TYPES = {
    "add": ARITH, "sub": ARITH, "mul": ARITH, "div": ARITH, "rem": ARITH,
    "and": BITWISE, "or": BITWISE, "xor": BITWISE,
    "shl": SHIFTS, "shr": SHIFTS, "rotl": SHIFTS, "rotr": SHIFTS,
    "eq": EQUALITY, "ne": EQUALITY,
    "ge": ARITH, "gt": ARITH, "le": ARITH, "lt": ARITH, "min": ARITH, "max": ARITH,
}  # fmt: skip
_CAST_IN = ARITH | {FheType.Bool, FheType.Uint256}
_CAST_OUT = ARITH | {FheType.Uint256}
_RAND = ARITH | {FheType.Bool, FheType.Uint256}
_RAND_BOUNDED = ARITH | {FheType.Uint256}
_IS_IN = ARITH | {FheType.Uint160, FheType.Uint256}

#: Bytes of the public seed of fheRand/fheRandBounded (bytes16 in the FheRand events).
RAND_SEED_BYTES = 16


def _event(name: str, *data: str) -> Event:
    return Event(name, ("address",), data)


_BINARY_DATA = ("bytes32", "bytes32", "bytes1", "bytes32")  # lhs, rhs, scalarByte, result
#: FHEEvents of @fhevm/host-contracts 0.10.0 (each with `address indexed caller` first;
#: FheType is uint8), plus FheSum and FheIsIn for our two extra functions, declared in the
#: same style (their arguments, then the result).
EVENTS: dict[str, Event] = {
    **{
        name: _event(name, *_BINARY_DATA)
        for name in (
            "FheAdd", "FheSub", "FheMul", "FheDiv", "FheRem", "FheBitAnd", "FheBitOr",
            "FheBitXor", "FheShl", "FheShr", "FheRotl", "FheRotr", "FheEq", "FheNe", "FheGe",
            "FheGt", "FheLe", "FheLt", "FheMin", "FheMax",
        )
    },
    "FheNeg": _event("FheNeg", "bytes32", "bytes32"),  # ct, result
    "FheNot": _event("FheNot", "bytes32", "bytes32"),
    # inputHandle, userAddress, inputProof, inputType, result
    "VerifyInput": _event("VerifyInput", "bytes32", "address", "bytes", "uint8", "bytes32"),
    "Cast": _event("Cast", "bytes32", "uint8", "bytes32"),  # ct, toType, result
    "TrivialEncrypt": _event("TrivialEncrypt", "uint256", "uint8", "bytes32"),  # pt, toType
    # control, ifTrue, ifFalse, result
    "FheIfThenElse": _event("FheIfThenElse", "bytes32", "bytes32", "bytes32", "bytes32"),
    "FheRand": _event("FheRand", "uint8", "bytes16", "bytes32"),  # randType, seed, result
    # upperBound, randType, seed, result
    "FheRandBounded": _event("FheRandBounded", "uint256", "uint8", "bytes16", "bytes32"),
    "FheSum": _event("FheSum", "bytes32[]", "uint8", "bytes32"),  # values, resultType
    # value, values, valueType, result
    "FheIsIn": _event("FheIsIn", "bytes32", "bytes32[]", "uint8", "bytes32"),
}  # fmt: skip


def exists(ctx: CallContext, handle: bytes) -> bool:
    """Whether a ciphertext was ever created (or verified) under `handle` in this state."""
    return ctx.sload(EXECUTOR, slot(_EXISTS, handle)) != 0


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _type_arg(code: int) -> FheType:
    if code >= SOLIDITY_ENUM_SIZE:
        raise Revert("malformed calldata: FheType out of range")
    t = parse_type(code)
    if t is None:
        raise Revert(f"UnsupportedType: type code {code}")
    return t


def _binary_method(name: str, op: str) -> Callable[..., bytes]:
    """One IFHEVMExecutor binary function, e.g. fheAdd(bytes32,bytes32,bytes1)."""

    event = EVENTS["F" + name[1:]]

    def handler(
        self: ExecutorPrecompile, ctx: CallContext, lhs: bytes, rhs: bytes, scalar: bytes
    ) -> bytes:
        return self._binary(ctx, op, lhs, rhs, scalar, event)

    handler.__name__ = name
    return method(f"{name}(bytes32,bytes32,bytes1)", ["bytes32"])(handler)


class ExecutorPrecompile(Precompile):
    address = EXECUTOR
    name = "FHEVMExecutor"

    @property
    def backend(self) -> Backend:
        return self.runtime.backend

    # --- operands and results -----------------------------------------------------------

    def _operand(
        self, ctx: CallContext, handle: bytes, types: frozenset | set | None = None
    ) -> tuple[FheType, Ciphertext | Pending]:
        """Type-check, permission-check and load one encrypted operand (a result of this
        block may still be a deferred `Pending`)."""
        try:
            info = unpack(handle)
        except HandleError as exc:
            raise Revert(f"{self.name}: {exc}") from None
        if info.chain_id != ctx.chain_id:
            raise Revert(
                f"{self.name}: handle {_hex(handle)} belongs to chain {info.chain_id}, "
                f"not {ctx.chain_id}"
            )
        if types is not None and info.fhe_type not in types:
            raise Revert(f"UnsupportedType: {info.fhe_type.name} for this operation")
        ctx.charge(GAS_LOAD, "load ciphertext")
        if not exists(ctx, handle):
            raise Revert(f"{self.name}: unknown handle {_hex(handle)}")
        if not acl.is_allowed(ctx, handle, ctx.sender):
            raise Revert(f"ACLNotAllowed: {_hex(ctx.sender)} may not use handle {_hex(handle)}")
        blob = ctx.state.get_ciphertext_blob(handle)
        if blob is None:
            raise Revert(f"{self.name}: ciphertext of {_hex(handle)} is missing from the store")
        if isinstance(blob, Pending):  # made by this executor under a handle of its type
            return info.fhe_type, blob
        try:
            ct = self.backend.deserialize(blob)
        except BackendError:
            raise Revert(f"{self.name}: stored ciphertext of {_hex(handle)} is corrupt") from None
        if self.backend.type_of(ct) != info.fhe_type:
            raise Revert(f"{self.name}: stored ciphertext of {_hex(handle)} has the wrong type")
        return info.fhe_type, ct

    def _result(
        self,
        ctx: CallContext,
        fhe_type: FheType,
        cost: int | None,
        operands: Sequence[bytes],
        compute: tuple[Callable[..., Ciphertext], Sequence[Any]],
        event: Event,
        args: Sequence[Any],
        depth_cost: int | None = None,
    ) -> bytes:
        """Meter, compute `fn(*fn_args)` (= `compute`; deferred to the block's seal when the
        runtime defers), store under a fresh handle, grant the caller transient use, and
        emit `event` (caller, *args, result)."""
        if cost is None:
            raise Revert(f"UnsupportedType: {fhe_type.name} for this operation")
        acl.require_not_paused(ctx)  # before the work: the result could not be granted
        handle = fresh_computed(fhe_type, ctx.chain_id)
        hcu.meter(ctx, cost, operands, handle, depth_cost)
        # All gas (the event's too) is taken before the FHE work, so running out never
        # wastes a computation; if the computation fails, the frame's revert drops the log.
        ctx.charge(GAS_NEW_HANDLE + acl.GAS_TRANSIENT, "new handle")
        ctx.emit(event, ctx.sender, *args, handle)
        fn, fn_args = compute
        if self.runtime.defers():
            self._store(ctx, handle, Pending(fhe_type, fn, fn_args))
            return handle
        ct = fn(*fn_args)
        if self.backend.type_of(ct) != fhe_type:
            raise Revert(f"{self.name}: backend returned the wrong type")
        self._store(ctx, handle, ct)
        return handle

    def _store(self, ctx: CallContext, handle: bytes, ct: Ciphertext | Pending) -> None:
        ctx.sstore(EXECUTOR, slot(_EXISTS, handle), 1)
        blob = ct if isinstance(ct, Pending) else self.backend.serialize(ct)
        ctx.state.fhevm_blobs.put(handle, blob)
        acl.grant_transient(ctx, handle, ctx.sender, charge=False)

    # --- binary and unary operators ----------------------------------------------------

    def _binary(
        self, ctx: CallContext, op: str, lhs: bytes, rhs: bytes, scalar_byte: bytes, event: Event
    ) -> bytes:
        if scalar_byte[0] > 1:
            raise Revert("ScalarByteIsNotBoolean")
        scalar = scalar_byte[0] == 1
        if op in ("div", "rem") and scalar and int.from_bytes(rhs, "big") == 0:
            raise Revert("DivisionByZero")
        t, a = self._operand(ctx, lhs, _BINARY_TYPES[op])
        operands = [lhs]
        if scalar:
            b: Ciphertext | int = t.wrap(int.from_bytes(rhs, "big"))
            if op in ("div", "rem") and b == 0:
                raise Revert("DivisionByZero")
        else:
            t_rhs, b = self._operand(ctx, rhs)
            if t_rhs != t:
                raise Revert(f"IncompatibleTypes: {t.name} and {t_rhs.name}")
            operands.append(rhs)
        out = FheType.Bool if op in COMPARISONS else t
        cost = hcu.binary_cost(op, t, scalar)
        compute = (self.backend.binary, (op, a, b))
        return self._result(ctx, out, cost, operands, compute, event, (lhs, rhs, scalar_byte))

    def _unary(
        self, ctx: CallContext, op: str, handle: bytes, types: frozenset, event: Event
    ) -> bytes:
        t, a = self._operand(ctx, handle, types)
        cost = hcu.unary_cost(op, t)
        compute = (self.backend.unary, (op, a))
        return self._result(ctx, t, cost, [handle], compute, event, (handle,))

    fheAdd = _binary_method("fheAdd", "add")
    fheSub = _binary_method("fheSub", "sub")
    fheMul = _binary_method("fheMul", "mul")
    fheDiv = _binary_method("fheDiv", "div")
    fheRem = _binary_method("fheRem", "rem")
    fheBitAnd = _binary_method("fheBitAnd", "and")
    fheBitOr = _binary_method("fheBitOr", "or")
    fheBitXor = _binary_method("fheBitXor", "xor")
    fheShl = _binary_method("fheShl", "shl")
    fheShr = _binary_method("fheShr", "shr")
    fheRotl = _binary_method("fheRotl", "rotl")
    fheRotr = _binary_method("fheRotr", "rotr")
    fheEq = _binary_method("fheEq", "eq")
    fheNe = _binary_method("fheNe", "ne")
    fheGe = _binary_method("fheGe", "ge")
    fheGt = _binary_method("fheGt", "gt")
    fheLe = _binary_method("fheLe", "le")
    fheLt = _binary_method("fheLt", "lt")
    fheMin = _binary_method("fheMin", "min")
    fheMax = _binary_method("fheMax", "max")

    @method("fheNeg(bytes32)", ["bytes32"])
    def fheNeg(self, ctx: CallContext, ct: bytes) -> bytes:
        return self._unary(ctx, "neg", ct, SHIFTS, EVENTS["FheNeg"])

    @method("fheNot(bytes32)", ["bytes32"])
    def fheNot(self, ctx: CallContext, ct: bytes) -> bytes:
        return self._unary(ctx, "not", ct, BITWISE, EVENTS["FheNot"])

    # --- the rest of IFHEVMExecutor ----------------------------------------------------

    @method("fheIfThenElse(bytes32,bytes32,bytes32)", ["bytes32"])
    def fheIfThenElse(
        self, ctx: CallContext, control: bytes, if_true: bytes, if_false: bytes
    ) -> bytes:
        t, a = self._operand(ctx, if_true, EQUALITY)
        t_c, c = self._operand(ctx, control)
        t_f, b = self._operand(ctx, if_false)
        if t_c != FheType.Bool:
            raise Revert(f"UnsupportedType: control must be Bool, not {t_c.name}")
        if t_f != t:
            raise Revert(f"IncompatibleTypes: {t.name} and {t_f.name}")
        cost = hcu.unary_cost("select", t)
        operands = [control, if_true, if_false]
        compute = (self.backend.select, (c, a, b))
        args = (control, if_true, if_false)
        return self._result(ctx, t, cost, operands, compute, EVENTS["FheIfThenElse"], args)

    @method("cast(bytes32,uint8)", ["bytes32"])
    def cast(self, ctx: CallContext, ct: bytes, to_code: int) -> bytes:
        to_type = _type_arg(to_code)
        t, a = self._operand(ctx, ct, _CAST_IN)
        if to_type not in _CAST_OUT:
            raise Revert(f"UnsupportedType: cannot cast to {to_type.name}")
        if to_type == t:
            raise Revert("InvalidType: cast to the same type")
        cost = hcu.unary_cost("cast", to_type)
        compute = (self.backend.cast, (a, to_type))
        return self._result(ctx, to_type, cost, [ct], compute, EVENTS["Cast"], (ct, to_code))

    @method("trivialEncrypt(uint256,uint8)", ["bytes32"])
    def trivialEncrypt(self, ctx: CallContext, value: int, to_code: int) -> bytes:
        t = _type_arg(to_code)
        if t not in EQUALITY:
            raise Revert(f"UnsupportedType: cannot encrypt {t.name}")
        cost = hcu.unary_cost("trivialEncrypt", t)
        compute = (self.backend.trivial_encrypt, (value, t))
        return self._result(ctx, t, cost, [], compute, EVENTS["TrivialEncrypt"], (value, to_code))

    @method("fheRand(uint8)", ["bytes32"])
    def fheRand(self, ctx: CallContext, code: int) -> bytes:
        t = _type_arg(code)
        if t not in _RAND:
            raise Revert(f"UnsupportedType: no random {t.name}")
        seed = secrets.token_bytes(RAND_SEED_BYTES)
        cost = hcu.unary_cost("rand", t)
        compute = (self.backend.rand, (t, seed))
        return self._result(ctx, t, cost, [], compute, EVENTS["FheRand"], (code, seed))

    @method("fheRandBounded(uint256,uint8)", ["bytes32"])
    def fheRandBounded(self, ctx: CallContext, bound: int, code: int) -> bytes:
        t = _type_arg(code)
        if t not in _RAND_BOUNDED:
            raise Revert(f"UnsupportedType: no random {t.name}")
        if bound == 0 or bound & (bound - 1):
            raise Revert("NotPowerOfTwo: upper bound must be a power of two")
        if bound > t.modulus:
            raise Revert("UpperBoundAboveMaxTypeValue")
        seed = secrets.token_bytes(RAND_SEED_BYTES)
        cost = hcu.unary_cost("randBounded", t)
        compute = (self.backend.rand, (t, seed, bound))
        args = (bound, code, seed)
        return self._result(ctx, t, cost, [], compute, EVENTS["FheRandBounded"], args)

    def _list(
        self, ctx: CallContext, handles: Sequence[bytes], t: FheType
    ) -> list[Ciphertext | Pending]:
        if len(handles) > MAX_LIST:
            raise Revert(f"{self.name}: at most {MAX_LIST} handles per list")
        cts = []
        for h in handles:
            t_h, ct = self._operand(ctx, h)
            if t_h != t:
                raise Revert(f"IncompatibleTypes: {t_h.name} in a list of {t.name}")
            cts.append(ct)
        return cts

    @method("fheSum(bytes32[],uint8)", ["bytes32"])
    def fheSum(self, ctx: CallContext, values: tuple, code: int) -> bytes:
        t = _type_arg(code)
        if t not in ARITH:
            raise Revert(f"UnsupportedType: cannot sum {t.name}")
        cts = self._list(ctx, values, t)
        total, depth = hcu.sum_cost(t, len(cts))  # type: ignore[misc]
        compute = (self.backend.sum, (cts, t))
        event, args = EVENTS["FheSum"], (list(values), code)
        return self._result(ctx, t, total, list(values), compute, event, args, depth)

    @method("fheIsIn(bytes32,bytes32[],uint8)", ["bytes32"])
    def fheIsIn(self, ctx: CallContext, value: bytes, values: tuple, code: int) -> bytes:
        t = _type_arg(code)
        if t not in _IS_IN:
            raise Revert(f"UnsupportedType: no set membership for {t.name}")
        t_v, v = self._operand(ctx, value)
        if t_v != t:
            raise Revert(f"IncompatibleTypes: {t_v.name} is not {t.name}")
        cts = self._list(ctx, values, t)
        total, depth = hcu.is_in_cost(t, len(cts))  # type: ignore[misc]
        compute = (self.backend.is_in, (v, cts))
        operands = [value, *values]
        event, args = EVENTS["FheIsIn"], (value, list(values), code)
        return self._result(ctx, FheType.Bool, total, operands, compute, event, args, depth)

    @method("verifyInput(bytes32,address,bytes,uint8)", ["bytes32"])
    def verifyInput(
        self, ctx: CallContext, handle: bytes, user: str, proof: bytes, code: int
    ) -> bytes:
        """Accept an uploaded ciphertext attested for (user, calling contract)."""
        t = _type_arg(code)
        try:
            info = unpack(handle)
        except HandleError as exc:
            raise Revert(f"{self.name}: {exc}") from None
        if info.fhe_type != t:
            raise Revert(f"InvalidType: handle is {info.fhe_type.name}, expected {t.name}")
        if info.chain_id != ctx.chain_id:
            raise Revert("InvalidChainId")
        self.runtime.input_verifier.verify(ctx, handle, bytes.fromhex(user[2:]), ctx.sender, proof)
        if not exists(ctx, handle):
            blob = ctx.state.get_ciphertext_blob(handle)
            if blob is None:
                raise Revert(f"{self.name}: no uploaded ciphertext for input {_hex(handle)}")
            try:
                ct = self.backend.deserialize(blob)
            except BackendError:
                raise Revert(f"{self.name}: uploaded ciphertext is malformed") from None
            if self.backend.type_of(ct) != t:
                raise Revert(f"{self.name}: uploaded ciphertext has the wrong type")
            ctx.charge(GAS_NEW_HANDLE, "new input handle")
            ctx.sstore(EXECUTOR, slot(_EXISTS, handle), 1)
        acl.grant_transient(ctx, handle, ctx.sender)
        ctx.emit(EVENTS["VerifyInput"], ctx.sender, handle, user, proof, code, handle)
        return handle

    @method("getInputVerifierAddress()", ["address"], mutates=False)
    def getInputVerifierAddress(self, ctx: CallContext) -> bytes:
        return addresses.INPUT_VERIFIER

    @method("getACLAddress()", ["address"], mutates=False)
    def getACLAddress(self, ctx: CallContext) -> bytes:
        return addresses.ACL

    @method("getHCULimitAddress()", ["address"], mutates=False)
    def getHCULimitAddress(self, ctx: CallContext) -> bytes:
        return addresses.EXECUTOR  # HCU is metered inside the executor itself

    @method("getHandleVersion()", ["uint8"], mutates=False)
    def getHandleVersion(self, ctx: CallContext) -> int:
        return 0

    @method("getVersion()", ["string"], mutates=False)
    def getVersion(self, ctx: CallContext) -> str:
        return "FHEVMExecutor v0.1.0 (fhevm-py)"
