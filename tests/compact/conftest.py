"""Keys for the compact-input tests: the insecure set per session, DEFAULT from the cache.

The DEFAULT client and server keys are the engine tests' (.cache/test-keys/); the compact
public key and casting key are generated per session from the client key (about a second).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfhe import (
    DEFAULT,
    INSECURE_TEST_PARAMS,
    ClientKey,
    ServerKey,
    generate_keys,
    load_or_generate,
)
from tfhe.core.csprng import Csprng
from tfhe.integer import IntegerClientKey, IntegerServerKey
from tfhe.integer.compact_list import generate_compact_keys

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


class Setup:
    def __init__(self, ck: ClientKey, sk: ServerKey) -> None:
        self.ck, self.sk = ck, sk
        self.priv, self.pk, self.casting = generate_compact_keys(ck, Csprng.from_os())
        self.client = IntegerClientKey(ck)
        self.server = IntegerServerKey(sk)


@pytest.fixture(scope="session")
def insecure() -> Setup:
    return Setup(*generate_keys(INSECURE_TEST_PARAMS))


@pytest.fixture(scope="session")
def default() -> Setup:
    return Setup(*load_or_generate(DEFAULT, CACHE))
