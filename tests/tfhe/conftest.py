"""Keys for the engine tests, generated once and cached on disk between runs.

The DEFAULT (128-bit) server key takes a few seconds to generate; it is kept under
.cache/test-keys/ (git-ignored) and reloaded, which is also how the node loads its keys.
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
from tfhe.shortint import ShortintClientKey, ShortintServerKey

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


@pytest.fixture(scope="session")
def insecure_keys() -> tuple[ClientKey, ServerKey]:
    return generate_keys(INSECURE_TEST_PARAMS)


@pytest.fixture(scope="session")
def default_keys() -> tuple[ClientKey, ServerKey]:
    return load_or_generate(DEFAULT, CACHE)


@pytest.fixture(scope="session", params=["insecure", "default"])
def any_keys(request, insecure_keys, default_keys) -> tuple[ClientKey, ServerKey]:
    return insecure_keys if request.param == "insecure" else default_keys


@pytest.fixture(scope="session")
def shortint_default(default_keys) -> tuple[ShortintClientKey, ShortintServerKey]:
    ck, sk = default_keys
    return ShortintClientKey(ck), ShortintServerKey(sk)


@pytest.fixture(scope="session")
def shortint_insecure(insecure_keys) -> tuple[ShortintClientKey, ShortintServerKey]:
    ck, sk = insecure_keys
    return ShortintClientKey(ck), ShortintServerKey(sk)
