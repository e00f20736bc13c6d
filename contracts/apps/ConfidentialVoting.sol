// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FHE, ebool, euint32, externalEbool} from "../lib/FHE.sol";
import {ZamaEthereumConfig} from "../config/ZamaConfig.sol";

/// @title  ConfidentialVoting
/// @notice A yes/no poll with secret ballots: each address votes once with an encrypted
///         bool; the contract adds it to encrypted yes and no tallies, so no one (not even the
///         creator) learns a vote or a running count. After the deadline anyone asks for the
///         tallies to be made publicly decryptable and then publishes them with the KMS-signed
///         cleartexts, checked on chain.
///
///         One vote per address, no eligibility list: gate `vote` in a derived contract
///         (e.g. by token holdings) where that matters.
contract ConfidentialVoting is ZamaEthereumConfig {
    address public immutable creator;
    string public question;
    uint256 public immutable deadline;

    euint32 private _yes;
    euint32 private _no;
    mapping(address voter => bool) public hasVoted;
    uint32 public voterCount;

    bool public revealRequested;
    bool public revealed;
    uint32 public yesVotes;
    uint32 public noVotes;

    event Voted(address indexed voter);
    event RevealRequested(euint32 yesTally, euint32 noTally);
    event TallyRevealed(uint32 yesVotes, uint32 noVotes);

    error VotingClosed(uint256 deadline);
    error VotingOpen(uint256 deadline);
    error AlreadyVoted(address voter);
    error RevealNotRequested();
    error AlreadyRevealed();

    /// @param votingTime seconds from deployment during which votes are accepted.
    constructor(string memory question_, uint256 votingTime) {
        creator = msg.sender;
        question = question_;
        deadline = block.timestamp + votingTime;
        _yes = FHE.asEuint32(0);
        _no = FHE.asEuint32(0);
        FHE.allowThis(_yes);
        FHE.allowThis(_no);
    }

    /// @notice Casts the caller's encrypted vote (true: yes, false: no).
    function vote(externalEbool encryptedSupport, bytes calldata inputProof) external {
        if (block.timestamp >= deadline) revert VotingClosed(deadline);
        if (hasVoted[msg.sender]) revert AlreadyVoted(msg.sender);
        hasVoted[msg.sender] = true;
        voterCount += 1;
        ebool support = FHE.fromExternal(encryptedSupport, inputProof);
        euint32 one = FHE.asEuint32(support);
        _yes = FHE.add(_yes, one);
        _no = FHE.add(_no, FHE.sub(FHE.asEuint32(1), one));
        FHE.allowThis(_yes);
        FHE.allowThis(_no);
        emit Voted(msg.sender);
    }

    /// @notice The encrypted tallies; publicly decryptable after the reveal request.
    function yesTally() external view returns (euint32) {
        return _yes;
    }

    function noTally() external view returns (euint32) {
        return _no;
    }

    /// @notice After the deadline: makes both tallies publicly decryptable.
    function requestReveal() external {
        if (block.timestamp < deadline) revert VotingOpen(deadline);
        if (!revealRequested) {
            revealRequested = true;
            FHE.makePubliclyDecryptable(_yes);
            FHE.makePubliclyDecryptable(_no);
            emit RevealRequested(_yes, _no);
        }
    }

    /// @notice Publishes the tallies: `abi.encode(yes, no)` is the public decryption of
    ///         (yesTally, noTally), in that order, signed by the KMS (`decryptionProof`).
    function revealTally(uint32 yesCleartext, uint32 noCleartext, bytes calldata decryptionProof) external {
        if (!revealRequested) revert RevealNotRequested();
        if (revealed) revert AlreadyRevealed();
        bytes32[] memory handles = new bytes32[](2);
        handles[0] = euint32.unwrap(_yes);
        handles[1] = euint32.unwrap(_no);
        FHE.checkSignatures(handles, abi.encode(yesCleartext, noCleartext), decryptionProof);
        revealed = true;
        yesVotes = yesCleartext;
        noVotes = noCleartext;
        emit TallyRevealed(yesCleartext, noCleartext);
    }
}
