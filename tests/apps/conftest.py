"""Tests of contracts/token and contracts/apps on the in-memory fhEVM chain (tests/fhevm's
harness): the repository on sys.path, a fresh clear-backend chain per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.apps.chain import AppChain  # noqa: E402


@pytest.fixture
def chain() -> AppChain:
    return AppChain("clear")
