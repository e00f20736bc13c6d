"""Conformance of every operation and width, through the real Solidity FHE library, on
both backends.

The FHETest<T> harnesses of contracts/ call our FHE library, which calls the executor
and the ACL with the @fhevm/solidity ABIs. Each result is decrypted through the runtime
and compared with an independent statement of the semantics (ARCHITECTURE.md).

Every test runs on the clear backend and on the tfhe backend (INSECURE_ test keys). On
tfhe the default run leaves out the cases that take seconds each (`tfhe_cost`): they are
marked `tfhe_full` and run with `--fhevm-full-tfhe` or FHEVM_FULL_TFHE=1 (conftest.py).
On tfhe every both-encrypted binary case except shifts computes on real client
encryptions (FHE.fromExternal); the scalar forms, shifts and the unary/cast/select cases
start from the harness's trivial encryptions of plaintexts (`FHE.asEuintX`), which check
the integer circuits' logic end to end but carry no noise. test_conformance_default.py
runs a sample on DEFAULT (128-bit) keys.
"""

from __future__ import annotations

import functools
import secrets

import pytest
from eth_abi import decode

from fhevm.backends import Backend
from fhevm.types import FheType
from tests.fhevm.conftest import HAS_TFHE_LAYER
from tests.fhevm.harness import Devnet, call_data, deploy_artifact

OPS = [
    "add", "sub", "mul", "and", "or", "xor", "eq", "ne", "ge", "gt",
    "le", "lt", "min", "max", "div", "rem", "shl", "shr", "rotl", "rotr",
]  # fmt: skip
CODE = {name: i for i, name in enumerate(OPS)}
BOOL_OPS = ["and", "or", "xor", "eq", "ne"]
ARITH_LEFT = OPS[:14]

# contract, type, ABI type of plaintext values, binary ops, ops with a plaintext left operand
TYPES = {
    "FHETestEbool": (FheType.Bool, "bool", BOOL_OPS, BOOL_OPS),
    "FHETestEuint8": (FheType.Uint8, "uint8", OPS, ARITH_LEFT),
    "FHETestEuint16": (FheType.Uint16, "uint16", OPS, ARITH_LEFT),
    "FHETestEuint32": (FheType.Uint32, "uint32", OPS, ARITH_LEFT),
    "FHETestEuint64": (FheType.Uint64, "uint64", OPS, ARITH_LEFT),
    "FHETestEuint128": (FheType.Uint128, "uint128", OPS, ARITH_LEFT),
    "FHETestEuint256": (
        FheType.Uint256, "uint256", BOOL_OPS + ["shl", "shr", "rotl", "rotr"], BOOL_OPS
    ),
    "FHETestEaddress": (FheType.Uint160, "address", ["eq", "ne"], ["eq", "ne"]),
}  # fmt: skip


def expected(op: str, a: int, b: int, bits: int) -> int:
    """The specified result, written independently of any backend."""
    m = (1 << bits) - 1
    if op in ("shl", "shr", "rotl", "rotr"):
        k = (b & 0xFF) % bits  # the harness passes uint8(b); the amount is taken mod bits
        if op == "shl":
            return (a << k) & m
        if op == "shr":
            return a >> k
        if op == "rotl":
            return ((a << k) | (a >> (bits - k))) & m
        return ((a >> k) | (a << (bits - k))) & m
    table = {
        "add": lambda: (a + b) & m,
        "sub": lambda: (a - b) & m,
        "mul": lambda: (a * b) & m,
        "div": lambda: a // b if b else m,
        "rem": lambda: a % b if b else a,
        "and": lambda: a & b,
        "or": lambda: a | b,
        "xor": lambda: a ^ b,
        "eq": lambda: int(a == b),
        "ne": lambda: int(a != b),
        "ge": lambda: int(a >= b),
        "gt": lambda: int(a > b),
        "le": lambda: int(a <= b),
        "lt": lambda: int(a < b),
        "min": lambda: min(a, b),
        "max": lambda: max(a, b),
    }
    return table[op]()


def pairs(op: str, t: FheType) -> list[tuple[int, int]]:
    m = t.modulus - 1
    r = lambda: secrets.randbelow(t.modulus)  # noqa: E731
    if t == FheType.Bool:
        return [(1, 0), (1, 1), (0, 0)]
    out = [(m, 1), (r(), r())]
    if op in ("div", "rem"):
        out.append((r(), secrets.randbelow(min(m, 300)) + 1))
        out.append((r(), 0))  # an encrypted zero divisor (binary only: a plaintext 0 reverts)
    if op in ("shl", "shr", "rotl", "rotr"):
        out.append((r(), t.bits + 3))  # amount beyond the width wraps around
    if op in ("eq", "ne", "ge", "le"):
        x = r()
        out.append((x, x))
    return out


def plain(abi: str, v: int) -> object:
    if abi == "bool":
        return bool(v)
    if abi == "address":
        return v.to_bytes(20, "big")
    return v


class Harnesses:
    def __init__(self, backend: str | Backend, names: list[str] | None = None) -> None:
        self.net = Devnet(backend)
        self.addr = {name: deploy_artifact(self.net, name) for name in names or TYPES}

    def run(self, name: str, signature: str, *args: object) -> tuple[bool, int | str]:
        out = self.net.send(self.addr[name], call_data(signature, *args))
        if not out.success:
            return False, out.reason or out.output.hex()
        handle = decode(["bytes32"], out.output)[0]
        return True, self.net.rt.decrypt(handle)


@functools.cache
def harnesses(backend: str) -> Harnesses:
    """One chain with every harness per backend, shared by the tests of this module."""
    return Harnesses(backend)


@pytest.fixture
def h(backend: str) -> Harnesses:
    return harnesses(backend)


#: Costly cases kept in the default tfhe run, one per family of circuit.
TFHE_REPRESENTATIVES = {
    ("FHETestEuint64", "mul", "binaryScalar"),  # 64-bit product by a plaintext
    ("FHETestEuint128", "shr", "binary"),  # encrypted shift amount over many blocks
}


def tfhe_cost(name: str, what: str, variant: str = "") -> bool:
    """Whether a case is left to the full tfhe run (it takes seconds on INSECURE keys).

    The default tfhe run keeps: every case up to 32 bits, except div/rem with an
    encrypted divisor above 8 bits (euint8 runs them, zero divisor included); at 64 bits
    everything but mul, div/rem (a 64-bit long division takes 5-15 s) and encrypted
    shift amounts; at 128 and 256 bits the both-encrypted form of add, sub, the bitwise
    ops, eq, ne, lt, min and max, plaintext shifts and rotates, cast, select, rand and
    sum; eaddress entirely; and the TFHE_REPRESENTATIVES. The rest (mul, div/rem,
    encrypted shifts/rotates from 64 bits, ge/gt/le and the scalar forms at 128/256
    bits, unary and isIn at 256 bits) runs with --fhevm-full-tfhe."""
    bits = TYPES[name][0].bits
    if (name, what, variant) in TFHE_REPRESENTATIVES:
        return False
    if what in ("div", "rem"):
        return bits >= 64 or (bits > 8 and variant == "binary")
    if what == "mul":
        return bits >= 64
    if what in ("shl", "shr", "rotl", "rotr"):
        return variant == "binary" and bits >= 64
    if bits < 128 or name == "FHETestEaddress":
        return False
    if variant in ("binaryScalar", "binaryScalarLeft") or what in ("ge", "gt", "le"):
        return True
    return bits == 256 and what in ("unary", "is_in")


def backends(name: str, what: str, variant: str = "") -> list:
    """pytest params: `clear`, and `tfhe` (marked tfhe_full when costly, skipped when
    tfhe.integer does not load)."""
    marks = [pytest.mark.skipif(not HAS_TFHE_LAYER, reason="tfhe.integer does not load")]
    if tfhe_cost(name, what, variant):
        marks.append(pytest.mark.tfhe_full)
    return [pytest.param("clear", id="clear"), pytest.param("tfhe", id="tfhe", marks=marks)]


def cases(names: list[str], what: str) -> list:
    """(backend, name) params for a per-type test."""
    return [
        pytest.param(p.values[0], name, marks=p.marks, id=f"{p.id}-{name}")
        for name in names
        for p in backends(name, what)
    ]


BINARY_CASES = [
    pytest.param(p.values[0], name, op, variant, marks=p.marks, id=f"{p.id}-{name}-{op}-{variant}")
    for name, (_, _, ops, left) in TYPES.items()
    for op in ops
    for variant in ("binary", "binaryScalar", "binaryScalarLeft")
    if variant != "binaryScalarLeft" or op in left
    for p in backends(name, op, variant)
]


@pytest.mark.parametrize("backend,name,op,variant", BINARY_CASES)
def test_binary(h: Harnesses, backend: str, name: str, op: str, variant: str) -> None:
    t, abi, _, _ = TYPES[name]
    sig = f"{variant}(uint8,{abi},{abi})"
    # On tfhe, both-encrypted cases compute on real (noisy) client encryptions; the scalar
    # variants (and shifts, whose amount is an euint8) start from the harness's trivial
    # encryptions, which carry no noise and which a bootstrap handles at almost no cost.
    real = backend == "tfhe" and variant == "binary" and op not in SHIFT_OPS
    for a, b in pairs(op, t):
        if b == 0 and op in ("div", "rem") and variant != "binary":
            continue  # a plaintext zero divisor reverts: test_plaintext_divisor_zero_reverts
        if real:
            ha, hb = client_inputs(h, name, t, a, b)
            ok, got = h.run(name, "binaryHandles(uint8,bytes32,bytes32)", CODE[op], ha, hb)
        else:
            ok, got = h.run(name, sig, CODE[op], plain(abi, a), plain(abi, b))
        assert ok, got
        assert got == expected(op, a, b, t.bits), (op, a, b, "real" if real else "trivial")


SHIFT_OPS = ("shl", "shr", "rotl", "rotr")


def client_inputs(h: Harnesses, name: str, t: FheType, a: int, b: int) -> tuple[bytes, bytes]:
    """Encrypt a and b as a client does and have the harness accept them (fromExternal)."""
    net = h.net
    (ha, hb), proof = net.encrypt_inputs([(a, t), (b, t)], net.address(net.alice), h.addr[name])
    for x, v in ((ha, a), (hb, b)):
        ok, got = h.run(name, "input(bytes32,bytes)", x, proof)
        assert ok and got == v, got
    return ha, hb


@pytest.mark.parametrize(
    "backend,name",
    cases([n for n in TYPES if TYPES[n][0] in (FheType.Uint8, FheType.Uint64)], "revert"),
)
@pytest.mark.parametrize("op", ["div", "rem"])
def test_plaintext_divisor_zero_reverts(h: Harnesses, name: str, op: str) -> None:
    abi = TYPES[name][1]
    ok, reason = h.run(name, f"binaryScalar(uint8,{abi},{abi})", CODE[op], 7, 0)
    assert not ok and "DivisionByZero" in str(reason)


@pytest.mark.parametrize(
    "backend,name", cases([n for n in TYPES if n != "FHETestEaddress"], "unary")
)
def test_unary(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    for a in (0, 1, t.modulus - 1, secrets.randbelow(t.modulus)):
        if t != FheType.Bool:
            ok, got = h.run(name, f"unary(uint8,{abi})", 0, a)
            assert ok and got == (-a) % t.modulus
        ok, got = h.run(name, f"unary(uint8,{abi})", 1, plain(abi, a))
        assert ok and got == (~a) & (t.modulus - 1)


CAST_TARGETS = [FheType.Bool, FheType.Uint8, FheType.Uint16, FheType.Uint32, FheType.Uint64,
                FheType.Uint128, FheType.Uint256]  # fmt: skip


@pytest.mark.parametrize(
    "backend,name", cases([n for n in TYPES if n != "FHETestEaddress"], "cast")
)
def test_cast(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    a = t.modulus - 1 if t == FheType.Bool else (t.modulus - 1) ^ 0x5A
    for to in CAST_TARGETS:
        if to == t or (to == FheType.Bool and t == FheType.Bool):
            continue
        ok, got = h.run(name, f"cast(uint8,{abi})", int(to), plain(abi, a))
        assert ok, got
        assert got == (int(a != 0) if to == FheType.Bool else a % to.modulus), to


@pytest.mark.parametrize("backend,name", cases(list(TYPES), "select"))
def test_select_encrypt_and_input(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    a, b = secrets.randbelow(t.modulus), secrets.randbelow(t.modulus)
    for cond in (True, False):
        ok, got = h.run(name, f"select(bool,{abi},{abi})", cond, plain(abi, a), plain(abi, b))
        assert ok and got == (a if cond else b)
    ok, got = h.run(name, f"encrypt({abi})", plain(abi, a))
    assert ok and got == a
    net = h.net
    user = net.address(net.alice)
    handles, proof = net.encrypt_inputs([(b, t)], user, h.addr[name])
    ok, got = h.run(name, "input(bytes32,bytes)", handles[0], proof)
    assert ok and got == b


@pytest.mark.parametrize(
    "backend,name", cases([n for n in TYPES if n != "FHETestEaddress"], "rand")
)
def test_rand(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    values = set()
    for _ in range(3):
        ok, got = h.run(name, "rand()")
        assert ok and 0 <= got < t.modulus
        values.add(got)
    if t.bits >= 32:
        assert len(values) == 3  # a repeat would be a 2**-30 event
    if t == FheType.Bool:
        return
    for bound in (1, 2, 1 << (t.bits - 1), t.modulus):
        ok, got = h.run(name, f"randBounded({abi})", bound % (1 << t.bits) or t.modulus - 1)
        if bound >= t.modulus:
            assert not ok and "PowerOfTwo" in str(got)  # 2**bits - 1 does not fit, and is odd
            continue
        assert ok and 0 <= got < bound


@pytest.mark.parametrize(
    "backend,name",
    cases(
        [n for n in TYPES if TYPES[n][0] not in (FheType.Bool, FheType.Uint160, FheType.Uint256)],
        "sum",
    ),
)
def test_sum(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    for n in (0, 1, 5):
        values = [secrets.randbelow(t.modulus) for _ in range(n)] + [t.modulus - 1] * (n > 0)
        ok, got = h.run(name, f"sum({abi}[])", values)
        assert ok, got
        assert got == sum(values) % t.modulus


@pytest.mark.parametrize(
    "backend,name", cases([n for n in TYPES if TYPES[n][0] != FheType.Bool], "is_in")
)
def test_is_in(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    members = [secrets.randbelow(t.modulus) for _ in range(4)]
    outsider = next(v for v in range(10) if v not in members)
    cases = [(members[2], members, 1), (outsider, members, 0), (outsider, [], 0)]
    for value, s, want in cases:
        ok, got = h.run(name, f"isIn({abi},{abi}[])", plain(abi, value), [plain(abi, x) for x in s])
        assert ok, got
        assert got == want


# Operations on real (noisy) encryptions: both operands come in as client inputs
# (FHE.fromExternal), not as trivial encryptions of the contract's plaintexts.
INPUT_OPS = {
    "FHETestEbool": ["xor", "eq"],
    "FHETestEuint256": ["xor", "ne"],
    "FHETestEaddress": ["eq", "ne"],
}


@pytest.mark.parametrize("backend,name", cases(list(TYPES), "inputs"))
def test_binary_on_encrypted_inputs(h: Harnesses, name: str) -> None:
    t, abi, _, _ = TYPES[name]
    net = h.net
    a, b = secrets.randbelow(t.modulus), secrets.randbelow(t.modulus)
    user = net.address(net.alice)
    (ha, hb), proof = net.encrypt_inputs([(a, t), (b, t)], user, h.addr[name])
    for x, v in ((ha, a), (hb, b)):
        ok, got = h.run(name, "input(bytes32,bytes)", x, proof)
        assert ok and got == v, got
    for op in INPUT_OPS.get(name, ["add", "lt"]):
        ok, got = h.run(name, "binaryHandles(uint8,bytes32,bytes32)", CODE[op], ha, hb)
        assert ok, got
        assert got == expected(op, a, b, t.bits), (op, a, b)
