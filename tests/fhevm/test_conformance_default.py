"""A sample of the conformance suite on the tfhe backend with DEFAULT (128-bit) keys:
the same harness contracts and independent expectations as test_conformance.py, one
case per kind of circuit on euint8/ebool (the full matrix runs on INSECURE_ keys)."""

from __future__ import annotations

import pytest

from fhevm.types import FheType
from tests.fhevm.conftest import HAS_TFHE_LAYER
from tests.fhevm.harness import tfhe_default_backend
from tests.fhevm.test_conformance import CODE, Harnesses, expected

pytestmark = [
    pytest.mark.skipif(not HAS_TFHE_LAYER, reason="tfhe.integer does not load"),
    pytest.mark.slow,
]

U8, BOOL = "FHETestEuint8", "FHETestEbool"


@pytest.fixture(scope="module")
def h() -> Harnesses:
    return Harnesses(tfhe_default_backend(), [U8, BOOL])


def test_default_params_are_in_use(h: Harnesses) -> None:
    assert h.net.rt.backend.server.params.name == "PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128"


@pytest.mark.parametrize(
    "op,variant,a,b",
    [
        ("add", "binary", 200, 100),  # carry propagation and wrap-around
        ("lt", "binaryScalar", 9, 200),  # comparison against a plaintext
        ("sub", "binaryScalarLeft", 3, 7),  # plaintext on the left
        ("rotl", "binaryScalar", 0x81, 9),  # amount taken mod 8
    ],
)
def test_binary_default(h: Harnesses, op: str, variant: str, a: int, b: int) -> None:
    ok, got = h.run(U8, f"{variant}(uint8,uint8,uint8)", CODE[op], a, b)
    assert ok, got
    assert got == expected(op, a, b, 8)


def test_bool_select_cast_default(h: Harnesses) -> None:
    ok, got = h.run(BOOL, "binary(uint8,bool,bool)", CODE["xor"], True, True)
    assert ok and got == 0
    ok, got = h.run(U8, "select(bool,uint8,uint8)", False, 11, 22)
    assert ok and got == 22
    ok, got = h.run(U8, "cast(uint8,uint8)", int(FheType.Uint16), 250)
    assert ok and got == 250


def test_real_encryptions_default(h: Harnesses) -> None:
    """Client inputs under the DEFAULT key, then circuits on those noisy ciphertexts."""
    net = h.net
    a, b = 201, 13
    user = net.address(net.alice)
    (ha, hb), proof = net.encrypt_inputs([(a, FheType.Uint8), (b, FheType.Uint8)], user, h.addr[U8])
    for x, v in ((ha, a), (hb, b)):
        ok, got = h.run(U8, "input(bytes32,bytes)", x, proof)
        assert ok and got == v
    for op in ("add", "mul", "div", "rem", "ge", "shl"):
        ok, got = h.run(U8, "binaryHandles(uint8,bytes32,bytes32)", CODE[op], ha, hb)
        assert ok, got
        assert got == expected(op, a, b, 8), op


def test_rand_default(h: Harnesses) -> None:
    ok, got = h.run(U8, "randBounded(uint8)", 16)
    assert ok and 0 <= got < 16
