from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fhevm.backends import available_backends  # noqa: E402
from tests.fhevm.harness import Devnet  # noqa: E402

#: Whether fhevm can build its tfhe backend (tfhe.integer loads; keys are made per test run).
HAS_TFHE_LAYER = "tfhe" in available_backends(with_keys=True)


@pytest.fixture
def net() -> Devnet:
    return Devnet("clear")
