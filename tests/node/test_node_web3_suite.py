"""web3.py's own provider test suite (EthModuleTest, Web3ModuleTest, NetModuleTest),
run over HTTP against a real fhevm-node process.

Deviations are marked xfail with the reason a devnet legitimately has, the way web3
marks what eth-tester lacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from eth_utils import is_checksum_address, is_dict
from nodetest_util import NodeProcess
from web3 import Web3
from web3._utils.contract_sources.contract_data._custom_contract_data import EMITTER_ENUM
from web3._utils.contract_sources.contract_data.emitter_contract import EMITTER_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.math_contract import MATH_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.offchain_lookup import OFFCHAIN_LOOKUP_DATA
from web3._utils.contract_sources.contract_data.panic_errors_contract import (
    PANIC_ERRORS_CONTRACT_DATA,
)
from web3._utils.contract_sources.contract_data.revert_contract import REVERT_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.storage_contract import STORAGE_CONTRACT_DATA
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest
from web3._utils.module_testing.utils import RequestMocker


@pytest.fixture(scope="module")
def suite_node(tmp_path_factory: pytest.TempPathFactory, keyfile_account_pkey: str) -> Any:
    """A fresh chain of its own: the suite expects its fixtures' logs to come first."""
    n = NodeProcess(tmp_path_factory.mktemp("web3-suite") / "data", "--unlock",
                    keyfile_account_pkey)
    yield n
    n.stop()


@pytest.fixture(scope="module")
def w3(suite_node: Any) -> Web3:
    w = Web3(Web3.HTTPProvider(suite_node.url, request_kwargs={"timeout": 60}))
    w.eth.default_account = w.eth.accounts[0]
    # web3's suite was written against a geth fixture chain with a few blocks in it
    w.provider.make_request("anvil_mine", ["0xa"])
    return w


def _deploy(w3: Web3, data: dict) -> Any:
    factory = w3.eth.contract(**data)
    tx = factory.constructor().transact({"from": w3.eth.default_account})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert is_dict(receipt)
    assert is_checksum_address(receipt["contractAddress"])
    return factory(receipt["contractAddress"])


@pytest.fixture(scope="module")
def address_conversion_func() -> Callable[[str], str]:
    return lambda a: a


@pytest.fixture
def request_mocker() -> type[RequestMocker]:
    return RequestMocker


@pytest.fixture
def skip_if_testrpc() -> Callable[[Web3], None]:
    return lambda w3: None


@pytest.fixture
def keyfile_account_address_dual_type(keyfile_account_address: str) -> str:
    return keyfile_account_address


@pytest.fixture(scope="module")
def math_contract_factory(w3: Web3) -> Any:
    return w3.eth.contract(**MATH_CONTRACT_DATA)


@pytest.fixture(scope="module")
def math_contract_deploy_txn_hash(w3: Web3, math_contract_factory: Any) -> Any:
    return math_contract_factory.constructor().transact({"from": w3.eth.default_account})


@pytest.fixture(scope="module")
def math_contract(w3: Web3, math_contract_factory: Any, math_contract_deploy_txn_hash: Any
                  ) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(math_contract_deploy_txn_hash)
    return math_contract_factory(receipt["contractAddress"])


@pytest.fixture(scope="module")
def math_contract_address(math_contract: Any) -> str:
    return math_contract.address


@pytest.fixture(scope="module")
def emitter_contract(w3: Web3) -> Any:
    return _deploy(w3, EMITTER_CONTRACT_DATA)


@pytest.fixture(scope="module")
def emitter_contract_address(emitter_contract: Any) -> str:
    return emitter_contract.address


@pytest.fixture(scope="module")
def revert_contract(w3: Web3) -> Any:
    return _deploy(w3, REVERT_CONTRACT_DATA)


@pytest.fixture(scope="module")
def offchain_lookup_contract(w3: Web3) -> Any:
    return _deploy(w3, OFFCHAIN_LOOKUP_DATA)


@pytest.fixture(scope="module")
def panic_errors_contract(w3: Web3) -> Any:
    return _deploy(w3, PANIC_ERRORS_CONTRACT_DATA)


@pytest.fixture(scope="module")
def storage_contract(w3: Web3) -> Any:
    return _deploy(w3, STORAGE_CONTRACT_DATA)


@pytest.fixture(scope="module")
def empty_block(w3: Web3) -> Any:
    w3.testing.mine()
    block = w3.eth.get_block("latest")
    assert not block["transactions"]
    return block


@pytest.fixture(scope="module")
def block_with_txn(w3: Web3) -> Any:
    tx = w3.eth.send_transaction({
        "from": w3.eth.default_account, "to": w3.eth.default_account,
        "value": w3.to_wei(1, "gwei"), "gas": 21000, "gasPrice": w3.to_wei(10, "gwei")})
    return w3.eth.get_block(w3.eth.get_transaction(tx)["blockNumber"])


@pytest.fixture(scope="module")
def mined_txn_hash(block_with_txn: Any) -> Any:
    return block_with_txn["transactions"][0]


@pytest.fixture(scope="module")
def block_with_txn_with_log(w3: Web3, emitter_contract: Any) -> Any:
    tx = emitter_contract.functions.logDouble(
        which=EMITTER_ENUM["LogDoubleWithIndex"], arg0=12345, arg1=54321,
    ).transact({"from": w3.eth.default_account})
    return w3.eth.get_block(w3.eth.get_transaction(tx)["blockNumber"])


@pytest.fixture(scope="module")
def txn_hash_with_log(block_with_txn_with_log: Any) -> Any:
    return block_with_txn_with_log["transactions"][0]


def without_automine(func: Callable) -> Callable:
    """Run a test that needs pending transactions with automine off (then mine them)."""

    @functools.wraps(func)
    def wrapper(self: Any, w3: Web3, *args: Any, **kwargs: Any) -> None:
        w3.provider.make_request("evm_setAutomine", [False])
        try:
            func(self, w3, *args, **kwargs)
        finally:
            w3.provider.make_request("evm_setAutomine", [True])

    return wrapper


@pytest.fixture(scope="module", autouse=True)
def _chain_history(block_with_txn_with_log: Any, block_with_txn: Any, math_contract: Any,
                   revert_contract: Any) -> None:
    """Lay the chain out like web3's geth fixture: the emitter's log is the first log."""


GETH_FIXTURE_CHAIN_ID = (
    "web3's suite hard-codes its geth fixture's chain id (131277322940537); this devnet is "
    "31337 like anvil / hardhat")
AUTOMINE = "automine mines each transaction at once, so there is no pending one to replace"


def xfail(reason: str, test: Callable) -> Callable:
    return pytest.mark.xfail(reason=reason, strict=True)(test)


class TestFhevmNodeWeb3Module(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:
        assert client_version.startswith("fhevm-node/")


class TestFhevmNodeNetModule(NetModuleTest):
    pass


class TestFhevmNodeEthModule(EthModuleTest):
    test_eth_chain_id = xfail(GETH_FIXTURE_CHAIN_ID, EthModuleTest.test_eth_chain_id)
    test_eth_send_raw_transaction = xfail(
        GETH_FIXTURE_CHAIN_ID, EthModuleTest.test_eth_send_raw_transaction)
    test_invalid_eth_sign_typed_data = xfail(
        "eth-account, which signs typed data here, accepts a short fixed-size array that "
        "geth rejects", EthModuleTest.test_invalid_eth_sign_typed_data)
    test_eth_simulate_v1 = xfail(
        "eth_simulateV1 (multi-block simulation) is not offered by this devnet, as by "
        "eth-tester", EthModuleTest.test_eth_simulate_v1)
    test_eth_get_raw_transaction_by_block = without_automine(
        EthModuleTest.test_eth_get_raw_transaction_by_block)
    test_eth_get_transaction_receipt_unmined = without_automine(
        EthModuleTest.test_eth_get_transaction_receipt_unmined)
    test_eth_wait_for_transaction_receipt_unmined = without_automine(
        EthModuleTest.test_eth_wait_for_transaction_receipt_unmined)
    test_eth_replace_transaction_legacy = without_automine(
        EthModuleTest.test_eth_replace_transaction_legacy)
    test_eth_replace_transaction = without_automine(EthModuleTest.test_eth_replace_transaction)
    test_eth_replace_transaction_underpriced = without_automine(
        EthModuleTest.test_eth_replace_transaction_underpriced)
    test_eth_replace_transaction_incorrect_nonce = without_automine(
        EthModuleTest.test_eth_replace_transaction_incorrect_nonce)
    test_eth_replace_transaction_gas_price_too_low = without_automine(
        EthModuleTest.test_eth_replace_transaction_gas_price_too_low)
    test_eth_replace_transaction_gas_price_defaulting_minimum = without_automine(
        EthModuleTest.test_eth_replace_transaction_gas_price_defaulting_minimum)
    test_eth_replace_transaction_gas_price_defaulting_strategy_higher = without_automine(
        EthModuleTest.test_eth_replace_transaction_gas_price_defaulting_strategy_higher)
    test_eth_replace_transaction_gas_price_defaulting_strategy_lower = without_automine(
        EthModuleTest.test_eth_replace_transaction_gas_price_defaulting_strategy_lower)
    test_eth_modify_transaction_legacy = without_automine(
        EthModuleTest.test_eth_modify_transaction_legacy)
    test_eth_modify_transaction = without_automine(EthModuleTest.test_eth_modify_transaction)
