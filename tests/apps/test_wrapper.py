"""ERC20Wrapper (contracts/token): wrap a public ERC-20 (PlainERC20) into an ERC-7984
token; unwrap through a public decryption whose KMS proof is checked on chain."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode

from fhevm.types import FheType
from tests.apps.chain import AppChain

UNWRAP_EXT = "unwrap(address,address,bytes32,bytes)"
UNWRAP = "unwrap(address,address,bytes32)"
FINALIZE = "finalizeUnwrap(bytes32,uint64,bytes)"
E18 = 10**18


class Wrapped:
    def __init__(self, c: AppChain, decimals: int) -> None:
        self.c = c
        self.erc20 = c.deploy("PlainERC20", "(string,string,uint8)", "Gold", "GOLD", decimals)
        self.wrapper = c.deploy("ERC20Wrapper", "(address,string,string,string)", self.erc20,
                                "Confidential Gold", "cGOLD", "")

    def public_balance(self, who) -> int:
        return self.c.view(self.erc20, "balanceOf(address)", self.c.addr(who), returns="uint256")

    def balance(self, who) -> int:
        return self.c.decrypt(self.c.view(self.wrapper, "confidentialBalanceOf(address)",
                                          self.c.addr(who)))

    def unwrap(self, sender, frm, to, value: int) -> bytes:
        handle, proof = self.c.encrypt(value, FheType.Uint64, sender, self.wrapper)
        out = self.c.ok(self.wrapper, UNWRAP_EXT, self.c.addr(frm), self.c.addr(to), handle,
                        proof, sender=sender)
        request = decode(["bytes32"], out.output)[0]
        event = "UnwrapRequested(address,bytes32,bytes32)"
        (topics, data), = self.c.events(out, self.wrapper, event)
        assert topics == [bytes(12) + self.c.addr(to), request]
        assert decode(["bytes32"], data)[0] == request
        return request


@pytest.fixture
def w(chain: AppChain) -> Wrapped:
    return Wrapped(chain, 18)


def test_wrapper_metadata(chain: AppChain, w: Wrapped):
    assert chain.view(w.wrapper, "underlying()", returns="address") == "0x" + w.erc20.hex()
    assert chain.view(w.wrapper, "rate()", returns="uint256") == 10**12
    assert chain.view(w.wrapper, "decimals()", returns="uint8") == 6
    small = Wrapped(chain, 2)
    assert chain.view(small.wrapper, "rate()", returns="uint256") == 1
    assert chain.view(small.wrapper, "decimals()", returns="uint8") == 2


def test_wrap_and_unwrap(chain: AppChain, w: Wrapped):
    alice, bob = chain.alice, chain.bob
    chain.ok(w.erc20, "mint(address,uint256)", chain.addr(alice), 5 * E18)
    chain.ok(w.erc20, "approve(address,uint256)", w.wrapper, 2**256 - 1)
    # 2.5 tokens and 7 wei: the dust under `rate` stays with alice.
    out = chain.ok(w.wrapper, "wrap(address,uint256)", chain.addr(alice), 5 * E18 // 2 + 7)
    assert chain.decrypt(decode(["bytes32"], out.output)[0]) == 2_500_000
    assert w.balance(alice) == 2_500_000
    assert w.public_balance(alice) == 5 * E18 // 2
    assert w.public_balance(w.wrapper) == 5 * E18 // 2
    # Wrapping to someone else.
    chain.ok(w.wrapper, "wrap(address,uint256)", chain.addr(bob), E18)
    assert w.balance(bob) == 1_000_000

    # Confidential transfers work as on any ERC-7984 token.
    handle, proof = chain.encrypt(500_000, FheType.Uint64, alice, w.wrapper)
    chain.ok(w.wrapper, "confidentialTransfer(address,bytes32,bytes)", chain.addr(bob), handle,
             proof)
    assert (w.balance(alice), w.balance(bob)) == (2_000_000, 1_500_000)

    # Unwrap 1.2 of bob's to carol: burnt now, paid out on the checked public decryption.
    carol = chain.carol
    request = w.unwrap(bob, bob, carol, 1_200_000)
    assert w.balance(bob) == 300_000
    assert chain.view(w.wrapper, "unwrapAmount(bytes32)", request) == request
    assert chain.view(w.wrapper, "unwrapRequester(bytes32)", request,
                      returns="address") == "0x" + chain.addr(carol).hex()
    assert chain.is_public(request)
    amount = chain.decrypt(request)  # what the KMS's public decryption answers
    assert amount == 1_200_000
    good = chain.decryption_proof([request], encode(["uint64"], [amount]))
    forged = chain.decryption_proof([request], encode(["uint64"], [amount * 2]))
    chain.fails(w.wrapper, FINALIZE, request, amount * 2, good)  # cleartext not signed
    chain.fails(w.wrapper, FINALIZE, request, amount * 2, forged[:1 + 65])  # below threshold
    out = chain.ok(w.wrapper, FINALIZE, request, amount, good, sender=alice)  # anyone relays
    assert w.public_balance(carol) == 12 * E18 // 10
    (topics, data), = chain.events(out, w.wrapper,
                                   "UnwrapFinalized(address,bytes32,bytes32,uint64)")
    assert topics == [bytes(12) + chain.addr(carol), request]
    assert decode(["bytes32", "uint64"], data) == (request, amount)
    chain.fails(w.wrapper, FINALIZE, request, amount, good,
                error="InvalidUnwrapRequest(bytes32)")  # once only
    assert w.public_balance(w.wrapper) == 7 * E18 // 2 - 12 * E18 // 10


def test_unwrap_beyond_balance_pays_zero(chain: AppChain, w: Wrapped):
    alice, bob = chain.alice, chain.bob
    chain.ok(w.erc20, "mint(address,uint256)", chain.addr(alice), E18)
    chain.ok(w.erc20, "approve(address,uint256)", w.wrapper, E18)
    chain.ok(w.wrapper, "wrap(address,uint256)", chain.addr(alice), E18)
    request = w.unwrap(alice, alice, alice, 1_000_001)
    assert chain.decrypt(request) == 0 and w.balance(alice) == 1_000_000
    proof = chain.decryption_proof([request], encode(["uint64"], [0]))
    chain.ok(w.wrapper, FINALIZE, request, 0, proof)
    assert w.public_balance(alice) == 0

    # Only the holder or an operator unwraps; handle form needs the ACL.
    handle, proof = chain.encrypt(1, FheType.Uint64, bob, w.wrapper)
    chain.fails(w.wrapper, UNWRAP_EXT, chain.addr(alice), chain.addr(bob), handle, proof,
                sender=bob, error="ERC7984UnauthorizedSpender(address,address)")
    balance = chain.view(w.wrapper, "confidentialBalanceOf(address)", chain.addr(alice))
    chain.fails(w.wrapper, UNWRAP, chain.addr(alice), chain.addr(bob), balance, sender=bob,
                error="ERC7984UnauthorizedUseOfEncryptedAmount(bytes32,address)")
    out = chain.ok(w.wrapper, UNWRAP, chain.addr(alice), chain.addr(bob), balance)  # all of it
    request = decode(["bytes32"], out.output)[0]
    proof = chain.decryption_proof([request], encode(["uint64"], [1_000_000]))
    chain.ok(w.wrapper, FINALIZE, request, 1_000_000, proof)
    assert w.public_balance(bob) == E18 and w.public_balance(w.wrapper) == 0
    assert chain.decrypt(chain.view(w.wrapper, "confidentialTotalSupply()")) == 0


def test_wrap_needs_allowance_and_fits_uint64(chain: AppChain):
    w = Wrapped(chain, 6)  # rate 1: at most 2^64 - 1 units
    alice = chain.alice
    chain.fails(w.wrapper, "wrap(address,uint256)", chain.addr(alice), 1,
                error="ERC20InsufficientAllowance(address,uint256,uint256)")
    chain.ok(w.erc20, "mint(address,uint256)", chain.addr(alice), 2**65)
    chain.ok(w.erc20, "approve(address,uint256)", w.wrapper, 2**65)
    chain.ok(w.wrapper, "wrap(address,uint256)", chain.addr(alice), 2**64 - 2)
    chain.fails(w.wrapper, "wrap(address,uint256)", chain.addr(alice), 2,
                error="ERC7984TotalSupplyOverflow()")
    chain.ok(w.wrapper, "wrap(address,uint256)", chain.addr(alice), 1)
    assert w.balance(alice) == 2**64 - 1
