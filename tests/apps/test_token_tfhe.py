"""ConfidentialToken on the tfhe backend (real TFHE on the INSECURE_ test parameters, the
harness's shared keys): mint, a confidential transfer, a transfer beyond the balance that
moves 0, both balances decrypted with the client key. About 15 s."""

from __future__ import annotations

import pytest

from fhevm.backends import available_backends
from fhevm.types import FheType
from tests.apps.chain import AppChain

pytestmark = pytest.mark.skipif("tfhe" not in available_backends(with_keys=True),
                                reason="tfhe.integer does not load")

TRANSFER = "confidentialTransfer(address,bytes32,bytes)"


def test_confidential_transfer_tfhe():
    c = AppChain("tfhe")
    alice, bob = c.alice, c.bob
    token = c.deploy("ConfidentialToken", "(string,string,string)", "T", "T", "")
    c.ok(token, "mint(address,uint64)", c.addr(alice), 1000)

    def balance(who) -> int:
        return c.decrypt(c.view(token, "confidentialBalanceOf(address)", c.addr(who)))

    handle, proof = c.encrypt(300, FheType.Uint64, alice, token)
    c.ok(token, TRANSFER, c.addr(bob), handle, proof)
    assert (balance(alice), balance(bob)) == (700, 300)

    handle, proof = c.encrypt(301, FheType.Uint64, bob, token)
    c.ok(token, TRANSFER, c.addr(alice), handle, proof, sender=bob)  # moves 0, no revert
    assert (balance(alice), balance(bob)) == (700, 300)
    assert c.decrypt(c.view(token, "confidentialTotalSupply()")) == 1000
