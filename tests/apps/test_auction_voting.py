"""SealedBidAuction and ConfidentialVoting (contracts/apps) on the fhEVM chain, clear
backend: encrypted bids and ballots, results published after the end through a public
decryption whose KMS proof is checked on chain."""

from __future__ import annotations

from eth_abi import encode

from fhevm.types import FheType
from tests.apps.chain import AppChain

BID = "bid(bytes32,bytes)"
FINALIZE = "finalize(uint64,address,bytes)"
VOTE = "vote(bytes32,bytes)"
REVEAL = "revealTally(uint32,uint32,bytes)"


def test_sealed_bid_auction(chain: AppChain):
    alice, bob, carol = chain.alice, chain.bob, chain.carol
    auction = chain.deploy("SealedBidAuction", "(uint256)", 3600)
    assert chain.view(auction, "seller()", returns="address") == "0x" + chain.addr(alice).hex()
    end = chain.view(auction, "endTime()", returns="uint256")

    def bid(who, amount: int):
        handle, proof = chain.encrypt(amount, FheType.Uint64, who, auction)
        return chain.ok(auction, BID, handle, proof, sender=who)

    bid(bob, 500)
    assert chain.decrypt(chain.view(auction, "highestBid()")) == 500
    bid(carol, 700)
    bid(bob, 650)  # a lower re-bid does not take the lead
    bid(alice, 700)  # a tie: the earlier bid keeps it
    assert chain.view(auction, "bidCount()", returns="uint256") == 4
    highest, bidder = chain.view(auction, "highestBid()"), chain.view(auction, "highestBidder()")
    assert chain.decrypt(highest) == 700
    assert chain.decrypt(bidder) == int.from_bytes(chain.addr(carol), "big")
    # Nobody but the contract may read the running result; each bidder sees their own bid.
    for who in (alice, bob, carol):
        assert not chain.is_allowed(highest, who) and not chain.is_allowed(bidder, who)
    own = chain.view(auction, "bidOf(address)", chain.addr(bob))
    assert chain.decrypt(own) == 650 and chain.is_allowed(own, bob)
    assert not chain.is_allowed(own, carol)

    # Before the end: no reveal, no result.
    chain.fails(auction, "requestReveal()", error="AuctionNotEnded(uint256)")
    assert not chain.is_public(highest)
    cleartexts = encode(["uint64", "address"], [700, chain.addr(carol)])
    proof = chain.decryption_proof([highest, bidder], cleartexts)
    chain.fails(auction, FINALIZE, 700, chain.addr(carol), proof, error="RevealNotRequested()")

    chain.warp(end - chain.now())  # the end has come
    handle, p = chain.encrypt(900, FheType.Uint64, bob, auction)
    chain.fails(auction, BID, handle, p, sender=bob, error="AuctionEnded(uint256)")
    out = chain.ok(auction, "requestReveal()", sender=bob)
    assert len(chain.events(out, auction, "RevealRequested(bytes32,bytes32)")) == 1
    assert chain.is_public(highest) and chain.is_public(bidder)

    # The KMS-signed result is checked: a forged winner or amount is refused.
    chain.fails(auction, FINALIZE, 700, chain.addr(bob), proof)
    chain.fails(auction, FINALIZE, 701, chain.addr(carol), proof)
    swapped = chain.decryption_proof([bidder, highest], cleartexts)
    chain.fails(auction, FINALIZE, 700, chain.addr(carol), swapped)
    out = chain.ok(auction, FINALIZE, 700, chain.addr(carol), proof, sender=bob)
    (topics, data), = chain.events(out, auction, "AuctionFinalized(address,uint64)")
    assert topics == [bytes(12) + chain.addr(carol)] and int.from_bytes(data, "big") == 700
    assert chain.view(auction, "winner()", returns="address") == "0x" + chain.addr(carol).hex()
    assert chain.view(auction, "winningBid()", returns="uint64") == 700
    chain.fails(auction, FINALIZE, 700, chain.addr(carol), proof, error="AlreadyFinalized()")


def test_auction_without_bids(chain: AppChain):
    auction = chain.deploy("SealedBidAuction", "(uint256)", 10)
    chain.warp(10)
    chain.fails(auction, "requestReveal()", error="NoBids()")


def test_confidential_voting(chain: AppChain):
    alice, bob, carol = chain.alice, chain.bob, chain.carol
    poll = chain.deploy("ConfidentialVoting", "(string,uint256)", "Ship it?", 600)
    assert chain.view(poll, "question()", returns="string") == "Ship it?"
    deadline = chain.view(poll, "deadline()", returns="uint256")

    def vote(who, support: bool):
        handle, proof = chain.encrypt(int(support), FheType.Bool, who, poll)
        return chain.send(poll, VOTE, handle, proof, sender=who)

    assert vote(alice, True).success
    assert vote(bob, False).success
    assert vote(carol, True).success
    chain.fails(poll, VOTE, *chain.encrypt(1, FheType.Bool, bob, poll), sender=bob,
                error="AlreadyVoted(address)")  # once only
    assert chain.view(poll, "voterCount()", returns="uint32") == 3
    assert chain.view(poll, "hasVoted(address)", chain.addr(bob), returns="bool")
    yes, no = chain.view(poll, "yesTally()"), chain.view(poll, "noTally()")
    assert (chain.decrypt(yes), chain.decrypt(no)) == (2, 1)
    assert not any(chain.is_allowed(h, w) for h in (yes, no) for w in (alice, bob, carol))

    chain.fails(poll, "requestReveal()", error="VotingOpen(uint256)")
    cleartexts = encode(["uint32", "uint32"], [2, 1])
    proof = chain.decryption_proof([yes, no], cleartexts)
    chain.fails(poll, REVEAL, 2, 1, proof, error="RevealNotRequested()")

    chain.warp(deadline - chain.now())
    chain.fails(poll, VOTE, *chain.encrypt(1, FheType.Bool, chain.carol, poll),
                sender=carol, error="VotingClosed(uint256)")
    chain.ok(poll, "requestReveal()", sender=carol)
    assert chain.is_public(yes) and chain.is_public(no)
    chain.fails(poll, REVEAL, 1, 2, proof)  # not what the KMS signed
    out = chain.ok(poll, REVEAL, 2, 1, proof, sender=bob)
    (_, data), = chain.events(out, poll, "TallyRevealed(uint32,uint32)")
    assert data == cleartexts
    assert chain.view(poll, "yesVotes()", returns="uint32") == 2
    assert chain.view(poll, "noVotes()", returns="uint32") == 1
    assert chain.view(poll, "revealed()", returns="bool")
    chain.fails(poll, REVEAL, 2, 1, proof, error="AlreadyRevealed()")
