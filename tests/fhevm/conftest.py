from __future__ import annotations

import os
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

FULL_TFHE_ENV = "FHEVM_FULL_TFHE"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fhevm-full-tfhe",
        action="store_true",
        default=False,
        help="also run the costly tfhe conformance cases (marked tfhe_full; "
        f"same as {FULL_TFHE_ENV}=1; ~15 min on 2 cores)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tfhe_full: costly tfhe conformance case, run only with --fhevm-full-tfhe "
        f"or {FULL_TFHE_ENV}=1",
    )


def full_tfhe(config: pytest.Config) -> bool:
    option = getattr(config.option, "fhevm_full_tfhe", False)
    return bool(option) or os.environ.get(FULL_TFHE_ENV, "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tfhe_full cases unless the full tfhe run was asked for."""
    if full_tfhe(config):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("tfhe_full") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def net() -> Devnet:
    return Devnet("clear")
