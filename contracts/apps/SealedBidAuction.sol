// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FHE, ebool, euint64, eaddress, externalEuint64} from "../lib/FHE.sol";
import {ZamaEthereumConfig} from "../config/ZamaConfig.sol";

/// @title  SealedBidAuction
/// @notice A sealed-bid, first-price auction: bids are encrypted amounts; the contract
///         keeps the highest bid and its bidder encrypted while bidding is open; after the end
///         anyone asks for the result to be made publicly decryptable and then publishes it
///         with the KMS-signed cleartexts, checked on chain.
///
///         A bidder may bid again: the new bid replaces the old one for the bidder's own
///         record, and takes the lead only if strictly above the current highest (so the
///         earlier of two equal bids wins). This contract decides the winner; it holds no
///         funds (settlement is left to the seller, or to a derived contract).
///
///         Bidders can user-decrypt their own bid; the seller nothing before the end.
contract SealedBidAuction is ZamaEthereumConfig {
    address public immutable seller;
    uint256 public immutable endTime;

    euint64 private _highestBid;
    eaddress private _highestBidder;
    mapping(address bidder => euint64) private _bids;
    uint256 public bidCount;

    bool public revealRequested;
    bool public finalized;
    address public winner;
    uint64 public winningBid;

    event BidPlaced(address indexed bidder, euint64 bid);
    event RevealRequested(euint64 highestBid, eaddress highestBidder);
    event AuctionFinalized(address indexed winner, uint64 winningBid);

    error AuctionEnded(uint256 endTime);
    error AuctionNotEnded(uint256 endTime);
    error NoBids();
    error RevealNotRequested();
    error AlreadyFinalized();

    /// @param biddingTime seconds from deployment during which bids are accepted.
    constructor(uint256 biddingTime) {
        seller = msg.sender;
        endTime = block.timestamp + biddingTime;
    }

    /// @notice Places (or replaces) the caller's encrypted bid.
    function bid(externalEuint64 encryptedAmount, bytes calldata inputProof) external {
        if (block.timestamp >= endTime) revert AuctionEnded(endTime);
        euint64 amount = FHE.fromExternal(encryptedAmount, inputProof);
        _bids[msg.sender] = amount;
        FHE.allowThis(amount);
        FHE.allow(amount, msg.sender);

        if (bidCount == 0) {
            _highestBid = amount;
            _highestBidder = FHE.asEaddress(msg.sender);
        } else {
            ebool higher = FHE.gt(amount, _highestBid);
            _highestBid = FHE.select(higher, amount, _highestBid);
            _highestBidder = FHE.select(higher, FHE.asEaddress(msg.sender), _highestBidder);
        }
        bidCount += 1;
        FHE.allowThis(_highestBid);
        FHE.allowThis(_highestBidder);
        emit BidPlaced(msg.sender, amount);
    }

    /// @notice The caller's last bid (user-decryptable by the caller).
    function bidOf(address bidder) external view returns (euint64) {
        return _bids[bidder];
    }

    /// @notice The encrypted highest bid and bidder; publicly decryptable after the reveal request.
    function highestBid() external view returns (euint64) {
        return _highestBid;
    }

    function highestBidder() external view returns (eaddress) {
        return _highestBidder;
    }

    /// @notice After the end: makes the highest bid and its bidder publicly decryptable.
    function requestReveal() external {
        if (block.timestamp < endTime) revert AuctionNotEnded(endTime);
        if (bidCount == 0) revert NoBids();
        if (!revealRequested) {
            revealRequested = true;
            FHE.makePubliclyDecryptable(_highestBid);
            FHE.makePubliclyDecryptable(_highestBidder);
            emit RevealRequested(_highestBid, _highestBidder);
        }
    }

    /// @notice Publishes the result: `abi.encode(bid, bidder)` is the public decryption of
    ///         (highestBid, highestBidder), in that order, signed by the KMS (`decryptionProof`).
    function finalize(uint64 bidCleartext, address bidderCleartext, bytes calldata decryptionProof) external {
        if (!revealRequested) revert RevealNotRequested();
        if (finalized) revert AlreadyFinalized();
        bytes32[] memory handles = new bytes32[](2);
        handles[0] = euint64.unwrap(_highestBid);
        handles[1] = eaddress.unwrap(_highestBidder);
        FHE.checkSignatures(handles, abi.encode(bidCleartext, bidderCleartext), decryptionProof);
        finalized = true;
        winner = bidderCleartext;
        winningBid = bidCleartext;
        emit AuctionFinalized(bidderCleartext, bidCleartext);
    }
}
