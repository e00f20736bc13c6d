"""Keys for the integer tests: the insecure set per session, DEFAULT cached on disk.

The DEFAULT keys are the same files as the engine tests' (.cache/test-keys/), plus a
compression key pair cached next to them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfhe import DEFAULT, INSECURE_TEST_PARAMS, ClientKey, KeyFileError, ServerKey, generate_keys
from tfhe.integer import IntegerClientKey, IntegerServerKey
from tfhe.integer.compression import CompressionKey, CompressionPrivateKey
from tfhe.params import Parameters

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "test-keys"


def _cached(params: Parameters) -> tuple[ClientKey, ServerKey, CompressionKey]:
    CACHE.mkdir(parents=True, exist_ok=True)
    ck_path = CACHE / f"{params.name}.client"
    sk_path = CACHE / f"{params.name}.server"
    comp_path = CACHE / f"{params.name}.compression"
    priv_path = CACHE / f"{params.name}.compression-private"
    try:
        ck, sk = ClientKey.load(ck_path, params), ServerKey.load(sk_path, params)
    except KeyFileError:
        ck, sk = generate_keys(params)
        ck.save(ck_path)
        sk.save(sk_path)
        comp_path.unlink(missing_ok=True)
    try:
        CompressionPrivateKey.load(priv_path, params)
        comp = CompressionKey.load(comp_path, params)
        # the cached pair must belong to this client key (it may have been regenerated)
        client, server = IntegerClientKey(ck), IntegerServerKey(sk, comp)
        if client.decrypt(server.from_bytes(server.to_bytes(client.encrypt(9, 8)))) != 9:
            raise KeyFileError("stale compression key")
    except KeyFileError:
        priv, comp = CompressionKey.generate(ck)
        priv.save(priv_path)
        comp.save(comp_path)
    return ck, sk, comp


@pytest.fixture(scope="session")
def insecure() -> tuple[IntegerClientKey, IntegerServerKey]:
    ck, sk = generate_keys(INSECURE_TEST_PARAMS)
    _, comp = CompressionKey.generate(ck)
    return IntegerClientKey(ck), IntegerServerKey(sk, comp)


@pytest.fixture(scope="session")
def default() -> tuple[IntegerClientKey, IntegerServerKey]:
    ck, sk, comp = _cached(DEFAULT)
    return IntegerClientKey(ck), IntegerServerKey(sk, comp)
