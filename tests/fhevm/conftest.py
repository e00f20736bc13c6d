from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fhevm.backends import available_backends  # noqa: E402
from tests.fhevm.harness import Devnet  # noqa: E402

HAS_TFHE = "tfhe" in available_backends()

#: Backends every conformance test runs on; "tfhe" joins once fhevm has a TfheBackend
#: (test_backends.py reports its absence as one skip).
BACKENDS = available_backends()


@pytest.fixture
def net() -> Devnet:
    return Devnet("clear")
