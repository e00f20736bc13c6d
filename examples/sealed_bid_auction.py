"""A sealed-bid auction: encrypted bids, a hidden leader, a result revealed after the end.

    python examples/sealed_bid_auction.py       # against http://127.0.0.1:8545 (FHEVM_RPC_URL)

The seller opens an auction (contracts/apps/SealedBidAuction.sol) for five minutes. Alice,
Bob and Carol each bid an amount encrypted on their own machine. The contract compares the
bids homomorphically and keeps the highest bid and its bidder encrypted: nobody, not even
the seller, can read them while bidding is open, and asking to reveal early is refused.
Once the end has passed (the example moves the devnet's clock forward), anyone asks for the
result to be made publicly decryptable, the key-management service (KMS) decrypts it and
signs it, and `finalize` checks that signature on chain and publishes winner and price.
"""

from __future__ import annotations

import time

from _common import advance_time_to, connect, deploy, revert_error, send
from web3 import Web3

BIDDING_TIME = 300  # seconds


def main() -> None:
    w3, client = connect()
    seller, alice, bob, carol = w3.eth.accounts[:4]
    names = {seller: "the seller", alice: "Alice", bob: "Bob", carol: "Carol"}
    t0 = time.perf_counter()

    auction = deploy(w3, "SealedBidAuction", seller, BIDDING_TIME)
    end = auction.functions.endTime().call()
    print(f"1. The seller opened a sealed-bid auction at {auction.address}; bidding closes "
          f"in {BIDDING_TIME} s (at block time {end})")

    bids = {alice: 500, bob: 800, carol: 650}
    print("2. Alice, Bob and Carol bid, each amount encrypted on the bidder's machine; "
          "on chain a bid is only a handle:")
    for who, amount in bids.items():
        enc = client.create_input(auction.address, who).add64(amount).encrypt()
        send(w3, auction.functions.bid(enc.handles[0], enc.input_proof), who)
        print(f"   {names[who]}'s bid: 0x{enc.handles[0].hex()[:16]}...")

    own = auction.functions.bidOf(alice).call()
    (alice_bid,) = client.user_decrypt([(own, auction.address)], alice)
    print(f"3. Each bidder can decrypt their own bid: Alice reads back {alice_bid}")

    highest = auction.functions.highestBid().call()
    try:
        client.user_decrypt([(highest, auction.address)], seller)
        print("!! the seller could decrypt the highest bid: this must not happen")
    except Exception as exc:  # DecryptionRefused
        print("4. The contract tracks the highest bid encrypted; the seller asking the KMS "
              f"for it is refused: {type(exc).__name__}")

    early = revert_error(auction, auction.functions.requestReveal(), carol)
    print(f"5. Carol asks to reveal the result before the end: rejected ({early})")

    advance_time_to(w3, end)
    print(f"6. Time passes: the devnet mined a block at {w3.eth.get_block('latest')['timestamp']}, "
          "the auction has ended")
    enc = client.create_input(auction.address, alice).add64(1000).encrypt()
    late = revert_error(auction, auction.functions.bid(enc.handles[0], enc.input_proof), alice)
    print(f"   A late bid from Alice is rejected ({late})")

    send(w3, auction.functions.requestReveal(), carol)
    highest = auction.functions.highestBid().call()
    bidder = auction.functions.highestBidder().call()
    print("7. Carol requested the reveal: the highest bid and bidder are now publicly decryptable")

    result = client.public_decrypt([highest, bidder])
    amount, address = result.values
    print("8. The KMS decrypted them for everyone, with a signed proof of "
          f"{len(result.proof)} bytes")

    send(w3, auction.functions.finalize(amount, Web3.to_checksum_address(address),
                                        result.proof), seller)
    winner = auction.functions.winner().call()
    winning_bid = auction.functions.winningBid().call()
    print(f"9. finalize checked the KMS signature on chain. The winner is {names[winner]} "
          f"with a bid of {winning_bid}")
    print("   The losing bids (Alice's and Carol's) were never revealed to anyone but "
          "their bidders")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
