"""Keys for the engine tests, generated once and cached on disk between runs.

The DEFAULT (128-bit) server key takes a few seconds to generate; it is kept under
.cache/test-keys/ (git-ignored) and reloaded, which is also how the node loads its keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfhe import DEFAULT, INSECURE_TEST_PARAMS, ClientKey, KeyFileError, ServerKey, generate_keys
from tfhe.params import Parameters
from tfhe.shortint import ShortintClientKey, ShortintServerKey

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


def cached_keys(params: Parameters) -> tuple[ClientKey, ServerKey]:
    CACHE.mkdir(parents=True, exist_ok=True)
    ck_path = CACHE / f"{params.name}.client"
    sk_path = CACHE / f"{params.name}.server"
    try:
        return ClientKey.load(ck_path, params), ServerKey.load(sk_path, params)
    except KeyFileError:
        ck, sk = generate_keys(params)
        ck.save(ck_path)
        sk.save(sk_path)
        return ck, sk


@pytest.fixture(scope="session")
def insecure_keys() -> tuple[ClientKey, ServerKey]:
    return generate_keys(INSECURE_TEST_PARAMS)


@pytest.fixture(scope="session")
def default_keys() -> tuple[ClientKey, ServerKey]:
    return cached_keys(DEFAULT)


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
