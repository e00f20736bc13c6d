"""Keys for the integer tests: the insecure set per session, DEFAULT cached on disk.

The DEFAULT keys are the same files as the engine tests' (.cache/test-keys/), plus a
compression key pair cached next to them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfhe import DEFAULT, INSECURE_TEST_PARAMS, generate_keys, load_or_generate
from tfhe.integer import IntegerClientKey, IntegerServerKey
from tfhe.integer.compression import CompressionKey, load_or_generate_compression

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


@pytest.fixture(scope="session")
def insecure() -> tuple[IntegerClientKey, IntegerServerKey]:
    ck, sk = generate_keys(INSECURE_TEST_PARAMS)
    _, comp = CompressionKey.generate(ck)
    return IntegerClientKey(ck), IntegerServerKey(sk, comp)


@pytest.fixture(scope="session")
def default() -> tuple[IntegerClientKey, IntegerServerKey]:
    ck, sk = load_or_generate(DEFAULT, CACHE)
    comp = load_or_generate_compression(ck, sk, CACHE)
    return IntegerClientKey(ck), IntegerServerKey(sk, comp)
