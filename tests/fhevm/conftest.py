from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.fhevm.harness import Devnet  # noqa: E402

HAS_TFHE = importlib.util.find_spec("tfhe") is not None and (
    importlib.util.find_spec("tfhe.integer") is not None
)

#: Backends every conformance test runs on; "tfhe" joins once tfhe.integer exists
#: (test_backends.py reports its absence as one skip).
BACKENDS = ["clear", "tfhe"] if HAS_TFHE else ["clear"]


@pytest.fixture
def net() -> Devnet:
    return Devnet("clear")


@pytest.fixture(params=BACKENDS)
def any_net(request: pytest.FixtureRequest) -> Devnet:
    return Devnet(request.param)
