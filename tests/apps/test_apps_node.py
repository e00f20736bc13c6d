"""Every contract of contracts/token and contracts/apps on a devnet node, through the pytest
plugin's fixtures (fhevm_node, fhevm_w3, fhevm_accounts, fhevm_client): deployed from the
committed artifacts with web3, encrypted inputs from the client, balances user-decrypted by
their owners through the node's KMS, results published with the node's public decryptions
(proofs checked on chain). Backend: `--fhevm-backend` (default clear)."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from contracts import load_artifact
from fhevm import hcu
from fhevm.client import DecryptionRefused
from fhevm.types import FheType

E18 = 10**18


@pytest.fixture(scope="module")
def w3(fhevm_w3):
    if "result" not in fhevm_w3.provider.make_request("fhevm_nodeInfo", []):
        pytest.skip("the node has no fhevm_nodeInfo JSON-RPC method")
    return fhevm_w3


@pytest.fixture(scope="module")
def accounts(fhevm_accounts):
    return fhevm_accounts[3], fhevm_accounts[4], fhevm_accounts[5]  # owner, alice, bob


def deploy(w3, name: str, *args, sender):
    art = load_artifact(name)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    receipt = send(w3, factory.constructor(*args), sender)
    return w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])


def send(w3, call, sender):
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender.address}))
    assert receipt["status"] == 1
    return receipt


def fn(contract, signature: str):
    return contract.get_function_by_signature(signature)


def encrypt64(client, contract, user, value: int):
    enc = client.create_input(contract.address, user.address).add64(value).encrypt()
    return enc.handles[0], enc.input_proof


def warp_to(w3, timestamp: int) -> None:
    """Mine a block at `timestamp` (or just after the head, if that is later)."""
    head = w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("evm_setNextBlockTimestamp", [max(timestamp, head + 1)])
    w3.provider.make_request("evm_mine", [])


def test_token_transfer_and_owner_decryption(w3, fhevm_client, accounts):
    owner, alice, bob = accounts
    token = deploy(w3, "ConfidentialToken", "Confidential Gold", "cGOLD", "", sender=owner)
    send(w3, token.functions.mint(alice.address, 1000), owner)
    transfer = "confidentialTransfer(address,bytes32,bytes)"
    send(w3, fn(token, transfer)(bob.address, *encrypt64(fhevm_client, token, alice, 300)), alice)
    # Beyond bob's balance: no revert, nothing moves. Its HCU estimated first.
    call = fn(token, transfer)(alice.address, *encrypt64(fhevm_client, token, bob, 301))
    tx = {"from": bob.address, "to": token.address, "data": call._encode_transaction_data()}
    estimate = w3.provider.make_request("fhevm_estimateHcu", [tx, "latest"])["result"]
    r = send(w3, call, bob)
    # The node reports the HCU the executor metered: asEuint64(0), ge, select, sub, add
    # between two funded accounts; the depth runs through ge, select and sub (or add).
    got = w3.provider.make_request("fhevm_getTransactionHcu", [r["transactionHash"].to_0x_hex()])
    u64 = FheType.Uint64
    ge, sel = hcu.binary_cost("ge", u64, False), hcu.unary_cost("select", u64)
    sub, add = hcu.binary_cost("sub", u64, False), hcu.binary_cost("add", u64, False)
    total = hcu.unary_cost("trivialEncrypt", u64) + ge + sel + sub + add
    assert got["result"] == {"hcu": hex(total), "hcuDepth": hex(ge + sel + max(sub, add))}
    assert estimate == got["result"]
    bad = dict(tx, data="0x12345678")  # no such function: reverts, as eth_call would say
    assert "error" in w3.provider.make_request("fhevm_estimateHcu", [bad, "latest"])
    unknown = w3.provider.make_request("fhevm_getTransactionHcu", ["0x" + "00" * 32])
    assert unknown["result"] is None

    def balance(who):
        return bytes(token.functions.confidentialBalanceOf(who.address).call())

    assert fhevm_client.user_decrypt([(balance(alice), token.address)], alice) == [700]
    assert fhevm_client.user_decrypt([(balance(bob), token.address)], bob) == [300]
    with pytest.raises(DecryptionRefused):
        fhevm_client.user_decrypt([(balance(alice), token.address)], bob)
    supply = bytes(token.functions.confidentialTotalSupply().call())
    assert fhevm_client.user_decrypt([(supply, token.address)], owner) == [1000]

    # Disclosure through the node's public decryption.
    send(w3, token.functions.requestDiscloseEncryptedAmount(balance(bob)), bob)
    res = fhevm_client.public_decrypt([balance(bob)])
    assert res.values == [300]
    receipt = send(w3, token.functions.discloseEncryptedAmount(balance(bob), 300, res.proof),
                   alice)
    (event,) = token.events.AmountDisclosed().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["amount"] == 300


def test_wrap_and_unwrap_with_public_decryption(w3, fhevm_client, accounts):
    owner, alice, bob = accounts
    erc20 = deploy(w3, "PlainERC20", "Gold", "GOLD", 18, sender=owner)
    wrapper = deploy(w3, "ERC20Wrapper", erc20.address, "Confidential Gold", "cGOLD", "",
                     sender=owner)
    send(w3, erc20.functions.mint(alice.address, 3 * E18), owner)
    send(w3, erc20.functions.approve(wrapper.address, 3 * E18), alice)
    send(w3, wrapper.functions.wrap(alice.address, 3 * E18), alice)
    balance = bytes(wrapper.functions.confidentialBalanceOf(alice.address).call())
    assert fhevm_client.user_decrypt([(balance, wrapper.address)], alice) == [3_000_000]

    unwrap = fn(wrapper, "unwrap(address,address,bytes32,bytes)")
    receipt = send(w3, unwrap(alice.address, bob.address,
                              *encrypt64(fhevm_client, wrapper, alice, 1_250_000)), alice)
    (event,) = wrapper.events.UnwrapRequested().process_receipt(receipt, errors=DISCARD)
    request = bytes(event["args"]["unwrapRequestId"])
    res = fhevm_client.public_decrypt([request])
    assert res.values == [1_250_000]
    with pytest.raises(ContractLogicError):  # a cleartext the KMS did not sign
        wrapper.functions.finalizeUnwrap(request, 2_000_000, res.proof).call()
    send(w3, wrapper.functions.finalizeUnwrap(request, res.values[0], res.proof), bob)
    assert erc20.functions.balanceOf(bob.address).call() == 125 * E18 // 100
    balance = bytes(wrapper.functions.confidentialBalanceOf(alice.address).call())
    assert fhevm_client.user_decrypt([(balance, wrapper.address)], alice) == [1_750_000]


def test_sealed_bid_auction(w3, fhevm_client, accounts):
    owner, alice, bob = accounts
    auction = deploy(w3, "SealedBidAuction", 3600, sender=owner)
    for who, amount in ((alice, 500), (bob, 800), (alice, 700)):
        send(w3, auction.functions.bid(*encrypt64(fhevm_client, auction, who, amount)), who)
    own = bytes(auction.functions.bidOf(alice.address).call())
    assert fhevm_client.user_decrypt([(own, auction.address)], alice) == [700]
    with pytest.raises(ContractLogicError):  # not before the end
        auction.functions.requestReveal().call({"from": bob.address})

    warp_to(w3, auction.functions.endTime().call())
    send(w3, auction.functions.requestReveal(), bob)
    highest = bytes(auction.functions.highestBid().call())
    bidder = bytes(auction.functions.highestBidder().call())
    res = fhevm_client.public_decrypt([highest, bidder])
    assert res.values[0] == 800 and res.values[1].lower() == bob.address.lower()
    send(w3, auction.functions.finalize(res.values[0], res.values[1], res.proof), owner)
    assert auction.functions.winner().call() == bob.address
    assert auction.functions.winningBid().call() == 800


def test_confidential_voting(w3, fhevm_client, accounts):
    owner, alice, bob = accounts
    poll = deploy(w3, "ConfidentialVoting", "Ship it?", 600, sender=owner)
    for who, support in ((owner, True), (alice, True), (bob, False)):
        enc = fhevm_client.create_input(poll.address, who.address).add_bool(support).encrypt()
        send(w3, poll.functions.vote(enc.handles[0], enc.input_proof), who)
    with pytest.raises(ContractLogicError):  # not before the deadline
        poll.functions.requestReveal().call({"from": bob.address})

    warp_to(w3, poll.functions.deadline().call())
    send(w3, poll.functions.requestReveal(), alice)
    yes, no = bytes(poll.functions.yesTally().call()), bytes(poll.functions.noTally().call())
    res = fhevm_client.public_decrypt([yes, no])
    assert res.values == [2, 1]
    send(w3, poll.functions.revealTally(2, 1, res.proof), bob)
    assert (poll.functions.yesVotes().call(), poll.functions.noVotes().call()) == (2, 1)
