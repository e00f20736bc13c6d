"""The conformance checks of test_conformance.py on the tfhe backend (INSECURE_ test keys),
for a sample: euint8 and ebool, each kind of circuit once. Same harness contracts, same
independent expectations."""

from __future__ import annotations

import pytest

from fhevm.types import FheType
from tests.fhevm.conftest import HAS_TFHE_LAYER
from tests.fhevm.test_conformance import CODE, Harnesses, expected

pytestmark = pytest.mark.skipif(not HAS_TFHE_LAYER, reason="tfhe.integer does not load")

U8 = "FHETestEuint8"


@pytest.fixture(scope="module")
def h() -> Harnesses:
    return Harnesses("tfhe", [U8, "FHETestEbool"])


@pytest.mark.parametrize(
    "op,variant,a,b",
    [
        ("add", "binary", 200, 100),
        ("sub", "binaryScalar", 3, 7),
        ("mul", "binary", 7, 9),
        ("and", "binary", 0xF0, 0x3C),
        ("eq", "binaryScalar", 42, 42),
        ("lt", "binary", 5, 9),
        ("max", "binaryScalarLeft", 5, 9),
        ("shr", "binary", 0xB4, 10),  # encrypted amount, 10 mod 8
        ("rotl", "binaryScalar", 0x81, 1),
    ],
)
def test_binary_tfhe(h: Harnesses, op: str, variant: str, a: int, b: int) -> None:
    ok, got = h.run(U8, f"{variant}(uint8,uint8,uint8)", CODE[op], a, b)
    assert ok, got
    assert got == expected(op, a, b, 8)


def test_bool_and_select_tfhe(h: Harnesses) -> None:
    ok, got = h.run("FHETestEbool", "binary(uint8,bool,bool)", CODE["xor"], True, True)
    assert ok and got == 0
    ok, got = h.run(U8, "select(bool,uint8,uint8)", False, 11, 22)
    assert ok and got == 22


def test_cast_unary_sum_is_in_tfhe(h: Harnesses) -> None:
    ok, got = h.run(U8, "cast(uint8,uint8)", int(FheType.Uint16), 250)
    assert ok and got == 250
    ok, got = h.run(U8, "unary(uint8,uint8)", 0, 1)
    assert ok and got == 255
    ok, got = h.run(U8, "sum(uint8[])", [100, 100, 100])
    assert ok and got == 300 % 256
    ok, got = h.run(U8, "isIn(uint8,uint8[])", 7, [1, 7])
    assert ok and got == 1


def test_input_tfhe(h: Harnesses) -> None:
    net = h.net
    handles, proof = net.encrypt_inputs([(77, FheType.Uint8)], net.address(net.alice), h.addr[U8])
    ok, got = h.run(U8, "input(bytes32,bytes)", handles[0], proof)
    assert ok and got == 77


def test_rand_tfhe(h: Harnesses) -> None:
    ok, a = h.run(U8, "rand()")
    assert ok and 0 <= a < 256
    ok, b = h.run(U8, "randBounded(uint8)", 16)
    assert ok and 0 <= b < 16
    ok, c = h.run("FHETestEbool", "rand()")
    assert ok and c in (0, 1)
