from __future__ import annotations

import importlib.util

import pytest

from tests.fhevm.harness import Devnet

HAS_TFHE = importlib.util.find_spec("tfhe") is not None and (
    importlib.util.find_spec("tfhe.integer") is not None
)

BACKENDS = [
    "clear",
    pytest.param(
        "tfhe", marks=pytest.mark.skip(reason="tfhe backend waits for tfhe.integer")
    ),
]


@pytest.fixture
def net() -> Devnet:
    return Devnet("clear")


@pytest.fixture(params=BACKENDS)
def any_net(request: pytest.FixtureRequest) -> Devnet:
    return Devnet(request.param)
