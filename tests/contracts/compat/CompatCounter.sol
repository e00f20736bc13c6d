// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

// A contract written against the npm package @fhevm/solidity (the API common to 0.11 and
// 0.13): it must compile, unchanged, against that package and against our contracts/lib.
import {FHE, ebool, euint32, externalEuint32} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";

contract CompatCounter is ZamaEthereumConfig {
    euint32 private _count;
    ebool private _above;
    uint32 public revealed;

    function count() external view returns (euint32) {
        return _count;
    }

    function above() external view returns (ebool) {
        return _above;
    }

    /// Adds an encrypted input of the caller.
    function add(externalEuint32 amount, bytes calldata inputProof) external {
        _store(FHE.add(_count, FHE.fromExternal(amount, inputProof)));
    }

    /// Adds a public amount (uninitialised `_count` counts as zero).
    function addPlain(uint32 amount) external {
        _store(FHE.add(_count, amount));
    }

    function compare(uint32 limit) external {
        _above = FHE.gt(_count, limit);
        FHE.allowThis(_above);
        FHE.allow(_above, msg.sender);
    }

    function clampTo(uint32 limit) external {
        _store(FHE.select(FHE.gt(_count, limit), FHE.asEuint32(limit), _count));
    }

    function reveal() external {
        FHE.makePubliclyDecryptable(_count);
    }

    /// Accepts the public decryption of `_count` if the KMS signatures are valid.
    function finishReveal(bytes calldata cleartexts, bytes calldata decryptionProof) external {
        bytes32[] memory handles = new bytes32[](1);
        handles[0] = FHE.toBytes32(_count);
        FHE.checkSignatures(handles, cleartexts, decryptionProof);
        revealed = abi.decode(cleartexts, (uint32));
    }

    function _store(euint32 value) private {
        _count = value;
        FHE.allowThis(value);
        FHE.allow(value, msg.sender);
    }
}
