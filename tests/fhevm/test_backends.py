import pytest

from tests.fhevm.conftest import HAS_TFHE


@pytest.mark.skipif(HAS_TFHE, reason="tfhe backend present: the conformance suite runs on it")
def test_tfhe_backend_not_available_yet() -> None:
    pytest.skip("tfhe backend waits for tfhe.integer; conformance runs on 'clear' only")
