"""One real `fhevm-node` process per test session, reached over HTTP like any client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for nodetest_util

from nodetest_util import (  # noqa: E402
    KEYFILE_ACCOUNT_ADDRESS,
    KEYFILE_ACCOUNT_PKEY,
    NodeProcess,
)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    data = tmp_path_factory.mktemp("devnet") / "data"
    n = NodeProcess(data, "--unlock", KEYFILE_ACCOUNT_PKEY)
    yield n
    n.stop()


@pytest.fixture(scope="session")
def keyfile_account_pkey() -> str:
    return KEYFILE_ACCOUNT_PKEY


@pytest.fixture(scope="session")
def keyfile_account_address() -> str:
    return KEYFILE_ACCOUNT_ADDRESS


@pytest.fixture(scope="session")
def node_url(node: NodeProcess) -> str:
    return node.url
