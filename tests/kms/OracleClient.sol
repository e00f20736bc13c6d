// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";

/// Test contract of tests/kms/test_relayer.py: computes an encrypted sum and a comparison,
/// asks for their public decryption (FHE.requestDecryption) and accepts the relayer's
/// callback only if FHE.checkSignatures(requestId, ...) accepts the KMS signatures.
contract OracleClient is ZamaEthereumConfig {
    euint64 public sum;
    ebool public big;
    uint256 public lastRequestId;
    uint256 public callbacks;
    uint64 public revealedSum;
    bool public revealedBig;

    event Revealed(uint256 requestId, uint64 sum, bool big);

    /// Encrypt a and b (trivially: the test is about the callback), keep a + b and a + b > 100.
    function compute(uint64 a, uint64 b) public {
        sum = FHE.add(FHE.asEuint64(a), FHE.asEuint64(b));
        big = FHE.gt(sum, FHE.asEuint64(100));
        FHE.allowThis(sum);
        FHE.allowThis(big);
    }

    function computeAndReveal(uint64 a, uint64 b) external returns (uint256 requestId) {
        compute(a, b);
        bytes32[] memory handles = new bytes32[](2);
        handles[0] = FHE.toBytes32(sum);
        handles[1] = FHE.toBytes32(big);
        requestId = FHE.requestDecryption(handles, this.reveal.selector);
        lastRequestId = requestId;
    }

    /// Asks for a callback to a function that reverts (the relayer must survive it).
    function revealIntoRevert() external returns (uint256 requestId) {
        bytes32[] memory handles = new bytes32[](2);
        handles[0] = FHE.toBytes32(sum);
        handles[1] = FHE.toBytes32(big);
        requestId = FHE.requestDecryption(handles, this.alwaysReverts.selector);
    }

    function reveal(uint256 requestId, bytes memory cleartexts, bytes memory decryptionProof) external {
        FHE.checkSignatures(requestId, cleartexts, decryptionProof);
        (uint256 s, bool b) = abi.decode(cleartexts, (uint256, bool));
        revealedSum = uint64(s);
        revealedBig = b;
        callbacks += 1;
        emit Revealed(requestId, revealedSum, b);
    }

    function alwaysReverts(uint256, bytes memory, bytes memory) external pure {
        revert("no");
    }

    function fulfilled(uint256 requestId) external view returns (bool) {
        return FHE.isDecryptionRequestFulfilled(requestId);
    }

    function requestHandles(uint256 requestId) external view returns (bytes32[] memory) {
        return FHE.decryptionRequestHandles(requestId);
    }
}
