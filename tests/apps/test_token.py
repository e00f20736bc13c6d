"""ConfidentialToken (contracts/token): ERC-7984 on the fhEVM chain, clear backend.

Balances and amounts are decrypted with the clear backend's decryption (the harness's);
ACL grants are checked on the ACL contract."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector

from fhevm.types import FheType
from tests.apps.chain import AppChain

U64 = FheType.Uint64
NAME, SYMBOL, URI = "Confidential Gold", "cGOLD", "https://example.invalid/cgold.json"

TRANSFER_EXT = "confidentialTransfer(address,bytes32,bytes)"
TRANSFER = "confidentialTransfer(address,bytes32)"
TRANSFER_FROM_EXT = "confidentialTransferFrom(address,address,bytes32,bytes)"
TRANSFER_FROM = "confidentialTransferFrom(address,address,bytes32)"
AND_CALL_EXT = "confidentialTransferAndCall(address,bytes32,bytes,bytes)"
AND_CALL = "confidentialTransferAndCall(address,bytes32,bytes)"
FROM_AND_CALL_EXT = "confidentialTransferFromAndCall(address,address,bytes32,bytes,bytes)"
FROM_AND_CALL = "confidentialTransferFromAndCall(address,address,bytes32,bytes)"
EVENT_TRANSFER = "ConfidentialTransfer(address,address,bytes32)"

# IERC7984's interface id: the XOR of the selectors of its own functions.
IERC7984_FUNCTIONS = [
    "name()", "symbol()", "decimals()", "contractURI()", "confidentialTotalSupply()",
    "confidentialBalanceOf(address)", "isOperator(address,address)", "setOperator(address,uint48)",
    TRANSFER_EXT, TRANSFER, TRANSFER_FROM_EXT, TRANSFER_FROM, AND_CALL_EXT, AND_CALL,
    FROM_AND_CALL_EXT, FROM_AND_CALL,
]


def interface_id(signatures: list[str]) -> bytes:
    out = 0
    for s in signatures:
        out ^= int.from_bytes(selector(s), "big")
    return out.to_bytes(4, "big")


class Token:
    """A deployed ConfidentialToken (owner: alice) and shortcuts."""

    def __init__(self, c: AppChain) -> None:
        self.c = c
        self.address = c.deploy("ConfidentialToken", "(string,string,string)", NAME, SYMBOL, URI)

    def balance_handle(self, who) -> bytes:
        return self.c.view(self.address, "confidentialBalanceOf(address)", self.c.addr(who))

    def balance(self, who) -> int:
        return self.c.decrypt(self.balance_handle(who))

    def supply(self) -> int:
        return self.c.decrypt(self.c.view(self.address, "confidentialTotalSupply()"))

    def mint(self, who, amount: int):
        return self.c.ok(self.address, "mint(address,uint64)", self.c.addr(who), amount)

    def enc(self, value: int, user) -> tuple[bytes, bytes]:
        return self.c.encrypt(value, U64, user, self.address)

    def transfer(self, sender, to, value: int):
        handle, proof = self.enc(value, sender)
        return self.c.ok(self.address, TRANSFER_EXT, self.c.addr(to), handle, proof,
                         sender=sender)

    def moved(self, out) -> list[tuple[bytes, bytes, int]]:
        """(from, to, decrypted amount) of each ConfidentialTransfer event of `out`."""
        return [(t[0][12:], t[1][12:], self.c.decrypt(t[2]))
                for t, _ in self.c.events(out, self.address, EVENT_TRANSFER)]


@pytest.fixture
def token(chain: AppChain) -> Token:
    return Token(chain)


def test_metadata_and_interfaces(chain: AppChain, token: Token):
    t = token.address
    assert chain.view(t, "name()", returns="string") == NAME
    assert chain.view(t, "symbol()", returns="string") == SYMBOL
    assert chain.view(t, "decimals()", returns="uint8") == 6
    assert chain.view(t, "contractURI()", returns="string") == URI
    assert chain.view(t, "owner()", returns="address") == "0x" + chain.addr(chain.alice).hex()
    for iid, expected in [(interface_id(IERC7984_FUNCTIONS), True),
                          (selector("supportsInterface(bytes4)"), True),
                          (b"\xff\xff\xff\xff", False)]:
        assert chain.view(t, "supportsInterface(bytes4)", iid, returns="bool") is expected
    # Nothing minted yet: balances and supply are unset handles (zero).
    assert token.balance_handle(chain.alice) == bytes(32)


def test_mint_transfer_and_acl(chain: AppChain, token: Token):
    alice, bob, carol = chain.alice, chain.bob, chain.carol
    out = token.mint(alice, 1000)
    assert token.moved(out) == [(bytes(20), chain.addr(alice), 1000)]
    assert token.balance(alice) == 1000 and token.supply() == 1000
    # The owner alone mints (cleartext or encrypted amounts).
    chain.fails(token.address, "mint(address,uint64)", chain.addr(bob), 5, sender=bob,
                error="OwnableUnauthorizedAccount(address)")
    handle, proof = token.enc(50, alice)
    chain.ok(token.address, "confidentialMint(address,bytes32,bytes)", chain.addr(carol),
             handle, proof)
    assert token.balance(carol) == 50 and token.supply() == 1050

    out = token.transfer(alice, bob, 300)
    assert token.moved(out) == [(chain.addr(alice), chain.addr(bob), 300)]
    assert (token.balance(alice), token.balance(bob), token.supply()) == (700, 300, 1050)
    # Each holder (and the token) may use their balance; nobody else may.
    bob_balance = token.balance_handle(bob)
    assert chain.is_allowed(bob_balance, bob) and chain.is_allowed(bob_balance, token.address)
    assert not chain.is_allowed(bob_balance, alice)
    assert chain.is_allowed(token.balance_handle(alice), alice)
    supply = chain.view(token.address, "confidentialTotalSupply()")
    assert chain.is_allowed(supply, alice) and not chain.is_allowed(supply, bob)
    # The moved amount is granted to both parties.
    (topics, _), = chain.events(out, token.address, EVENT_TRANSFER)
    assert chain.is_allowed(topics[2], alice) and chain.is_allowed(topics[2], bob)


def test_transfer_beyond_balance_moves_zero(chain: AppChain, token: Token):
    alice, bob = chain.alice, chain.bob
    token.mint(alice, 100)
    out = token.transfer(alice, bob, 101)  # no revert: 0 moves
    assert token.moved(out) == [(chain.addr(alice), chain.addr(bob), 0)]
    assert (token.balance(alice), token.balance(bob)) == (100, 0)
    # Bob, who has nothing, can "send" too: still nothing moves.
    token.transfer(bob, alice, 5)
    assert (token.balance(alice), token.balance(bob), token.supply()) == (100, 0, 100)
    token.transfer(alice, bob, 100)  # exactly the balance
    assert (token.balance(alice), token.balance(bob)) == (0, 100)


def test_transfer_of_a_handle_needs_the_acl(chain: AppChain, token: Token):
    alice, bob = chain.alice, chain.bob
    token.mint(alice, 1000)
    (topics, _), = chain.events(token.transfer(alice, bob, 40), token.address, EVENT_TRANSFER)
    amount = topics[2]  # 40, allowed to alice, bob and the token
    chain.ok(token.address, TRANSFER, chain.addr(bob), amount)
    assert (token.balance(alice), token.balance(bob)) == (920, 80)
    # A handle the sender may not use is refused (here: alice's balance, sent by bob).
    chain.fails(token.address, TRANSFER, chain.addr(bob), token.balance_handle(alice),
                sender=bob, error="ERC7984UnauthorizedUseOfEncryptedAmount(bytes32,address)")
    # Zero address receiver.
    handle, proof = token.enc(1, alice)
    chain.fails(token.address, TRANSFER_EXT, bytes(20), handle, proof,
                error="ERC7984InvalidReceiver(address)")


def test_mint_beyond_uint64_mints_zero(chain: AppChain, token: Token):
    alice, bob = chain.alice, chain.bob
    token.mint(alice, 2**64 - 10)
    out = token.mint(bob, 11)  # the supply would overflow: nothing is minted, no revert
    assert token.moved(out) == [(bytes(20), chain.addr(bob), 0)]
    assert (token.supply(), token.balance(bob)) == (2**64 - 10, 0)
    token.mint(bob, 9)  # up to the last unit
    assert (token.supply(), token.balance(bob)) == (2**64 - 1, 9)


def test_burn(chain: AppChain, token: Token):
    alice = chain.alice
    token.mint(alice, 500)
    handle, proof = token.enc(200, alice)
    out = chain.ok(token.address, "burn(bytes32,bytes)", handle, proof)
    assert token.moved(out) == [(chain.addr(alice), bytes(20), 200)]
    handle, proof = token.enc(301, alice)  # beyond the balance: burns 0
    chain.ok(token.address, "burn(bytes32,bytes)", handle, proof)
    assert (token.balance(alice), token.supply()) == (300, 300)


def test_operators_with_expiry(chain: AppChain, token: Token):
    alice, bob, carol = chain.alice, chain.bob, chain.carol
    t = token.address
    token.mint(alice, 1000)
    A, B, C = chain.addr(alice), chain.addr(bob), chain.addr(carol)
    assert chain.view(t, "isOperator(address,address)", A, A, returns="bool")
    assert not chain.view(t, "isOperator(address,address)", A, B, returns="bool")
    handle, proof = token.enc(10, bob)
    chain.fails(t, TRANSFER_FROM_EXT, A, C, handle, proof, sender=bob,
                error="ERC7984UnauthorizedSpender(address,address)")

    until = chain.now() + 100
    out = chain.ok(t, "setOperator(address,uint48)", B, until)
    (topics, data), = chain.events(out, t, "OperatorSet(address,address,uint48)")
    assert (topics[0][12:], topics[1][12:], decode(["uint48"], data)[0]) == (A, B, until)
    assert chain.view(t, "isOperator(address,address)", A, B, returns="bool")

    # Bob moves alice's tokens to carol, with his own encrypted input.
    handle, proof = token.enc(250, bob)
    out = chain.ok(t, TRANSFER_FROM_EXT, A, C, handle, proof, sender=bob)
    (topics, _), = chain.events(out, t, EVENT_TRANSFER)
    assert chain.is_allowed(topics[2], bob)  # the operator sees what it moved
    assert (token.balance(alice), token.balance(carol)) == (750, 250)
    # ... and with a handle he is allowed on (the amount he just moved).
    chain.ok(t, TRANSFER_FROM, A, C, topics[2], sender=bob)
    assert (token.balance(alice), token.balance(carol)) == (500, 500)
    # Beyond the balance: 0 moves, no revert.
    handle, proof = token.enc(501, bob)
    chain.ok(t, TRANSFER_FROM_EXT, A, C, handle, proof, sender=bob)
    assert (token.balance(alice), token.balance(carol)) == (500, 500)

    chain.warp(101)  # past `until`: bob is no longer an operator
    assert not chain.view(t, "isOperator(address,address)", A, B, returns="bool")
    handle, proof = token.enc(1, bob)
    chain.fails(t, TRANSFER_FROM_EXT, A, C, handle, proof, sender=bob,
                error="ERC7984UnauthorizedSpender(address,address)")
    # Revoking: until = 0.
    chain.ok(t, "setOperator(address,uint48)", C, chain.now() + 1000)
    assert chain.view(t, "isOperator(address,address)", A, C, returns="bool")
    chain.ok(t, "setOperator(address,uint48)", C, 0)
    assert not chain.view(t, "isOperator(address,address)", A, C, returns="bool")


def test_transfer_and_call(chain: AppChain, token: Token):
    alice, bob = chain.alice, chain.bob
    t = token.address
    receiver = chain.deploy_fixture("TokenReceiver")
    token.mint(alice, 1000)
    limit = lambda n: encode(["uint64"], [n])  # noqa: E731  (the receiver accepts <= n)

    handle, proof = token.enc(100, alice)
    out = chain.ok(t, AND_CALL_EXT, receiver, handle, proof, limit(500))
    assert token.balance(receiver) == 100 and token.balance(alice) == 900
    assert chain.view(receiver, "calls()", returns="uint256") == 1
    assert chain.view(receiver, "lastFrom()", returns="address") == "0x" + chain.addr(alice).hex()
    assert chain.decrypt(chain.view(receiver, "lastAmount()")) == 100
    returned = decode(["bytes32"], out.output)[0]
    assert chain.decrypt(returned) == 100

    # Refused by the receiver (amount above its limit): the tokens come back.
    handle, proof = token.enc(200, alice)
    out = chain.ok(t, AND_CALL_EXT, receiver, handle, proof, limit(50))
    assert chain.decrypt(decode(["bytes32"], out.output)[0]) == 0
    assert token.moved(out) == [(chain.addr(alice), receiver, 200),
                                (receiver, chain.addr(alice), 200)]
    assert (token.balance(receiver), token.balance(alice)) == (100, 900)

    # A reverting receiver reverts the transfer.
    handle, proof = token.enc(1, alice)
    chain.fails(t, AND_CALL_EXT, receiver, handle, proof, b"revert")
    # To an account without code: a plain transfer.
    handle, proof = token.enc(30, alice)
    chain.ok(t, AND_CALL_EXT, chain.addr(bob), handle, proof, b"")
    assert token.balance(bob) == 30

    # Handle form (alice may use her first transfer's amount, 100).
    chain.ok(t, AND_CALL, receiver, returned, limit(1000))
    assert (token.balance(receiver), token.balance(alice)) == (200, 770)

    # Operator forms: bob moves alice's tokens to the receiver.
    chain.ok(t, "setOperator(address,uint48)", chain.addr(bob), chain.now() + 1000)
    handle, proof = token.enc(70, bob)
    out = chain.ok(t, FROM_AND_CALL_EXT, chain.addr(alice), receiver, handle, proof,
                   limit(100), sender=bob)
    assert chain.view(receiver, "lastOperator()", returns="address") == "0x" + chain.addr(bob).hex()
    moved = decode(["bytes32"], out.output)[0]
    assert chain.decrypt(moved) == 70 and chain.is_allowed(moved, bob)
    chain.ok(t, FROM_AND_CALL, chain.addr(alice), receiver, moved, limit(0), sender=bob)  # refused
    assert (token.balance(receiver), token.balance(alice)) == (270, 700)
    assert token.supply() == 1000


def test_disclosure(chain: AppChain, token: Token):
    alice, bob = chain.alice, chain.bob
    t = token.address
    token.mint(alice, 1000)
    token.transfer(alice, bob, 400)
    balance = token.balance_handle(alice)
    # Only an account allowed on the amount may ask for its disclosure.
    chain.fails(t, "requestDiscloseEncryptedAmount(bytes32)", balance, sender=bob,
                error="ERC7984UnauthorizedUseOfEncryptedAmount(bytes32,address)")
    assert not chain.is_public(balance)
    out = chain.ok(t, "requestDiscloseEncryptedAmount(bytes32)", balance)
    (topics, _), = chain.events(out, t, "AmountDiscloseRequested(bytes32,address)")
    assert topics == [balance, bytes(12) + chain.addr(alice)]
    assert chain.is_public(balance)

    cleartext = chain.decrypt(balance)  # what the KMS answers a public decryption with
    proof = chain.decryption_proof([balance], encode(["uint64"], [cleartext]))
    sig = "discloseEncryptedAmount(bytes32,uint64,bytes)"
    chain.fails(t, sig, balance, cleartext + 1, proof)  # a forged cleartext
    out = chain.ok(t, sig, balance, cleartext, proof, sender=bob)  # anyone may publish it
    (topics, data), = chain.events(out, t, "AmountDisclosed(bytes32,uint64)")
    assert topics == [balance] and decode(["uint64"], data)[0] == 600
