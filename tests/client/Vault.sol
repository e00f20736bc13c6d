// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";

/// Test contract of tests/client: takes encrypted inputs of every type (dispatching on the
/// handle's type code), keeps them, grants them to itself and to the sender.
contract Vault is ZamaEthereumConfig {
    bytes32[] public stored;
    bytes32 public lastVerified;

    function count() external view returns (uint256) {
        return stored.length;
    }

    function _in(bytes32 h, bytes calldata proof) internal returns (bytes32 r) {
        uint8 code = uint8(h[30]);
        if (code == 0) {
            ebool v = FHE.fromExternal(externalEbool.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = ebool.unwrap(v);
        } else if (code == 2) {
            euint8 v = FHE.fromExternal(externalEuint8.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint8.unwrap(v);
        } else if (code == 3) {
            euint16 v = FHE.fromExternal(externalEuint16.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint16.unwrap(v);
        } else if (code == 4) {
            euint32 v = FHE.fromExternal(externalEuint32.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint32.unwrap(v);
        } else if (code == 5) {
            euint64 v = FHE.fromExternal(externalEuint64.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint64.unwrap(v);
        } else if (code == 6) {
            euint128 v = FHE.fromExternal(externalEuint128.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint128.unwrap(v);
        } else if (code == 7) {
            eaddress v = FHE.fromExternal(externalEaddress.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = eaddress.unwrap(v);
        } else if (code == 8) {
            euint256 v = FHE.fromExternal(externalEuint256.wrap(h), proof);
            FHE.allowThis(v); FHE.allow(v, msg.sender); r = euint256.unwrap(v);
        } else {
            revert("unsupported type");
        }
    }

    /// Store every handle of one input list (one proof).
    function storeAll(bytes32[] calldata hs, bytes calldata proof) external {
        for (uint256 i = 0; i < hs.length; i++) {
            stored.push(_in(hs[i], proof));
        }
    }

    /// stored[i] (a euint64) + x, kept and granted to the sender.
    function add64(uint256 i, uint64 x) external {
        euint64 r = FHE.add(euint64.wrap(stored[i]), x);
        FHE.allowThis(r); FHE.allow(r, msg.sender);
        stored.push(euint64.unwrap(r));
    }

    /// stored[i] (a euint64) + x, kept by the contract only: the sender may not decrypt it.
    function add64Private(uint256 i, uint64 x) external {
        euint64 r = FHE.add(euint64.wrap(stored[i]), x);
        FHE.allowThis(r);
        stored.push(euint64.unwrap(r));
    }

    function reveal(uint256 i) external {
        FHE.makePubliclyDecryptable(euint64.wrap(stored[i]));
    }

    function verify(bytes32[] calldata hs, bytes calldata cleartexts, bytes calldata proof)
        external
    {
        FHE.checkSignatures(hs, cleartexts, proof);
        lastVerified = keccak256(cleartexts);
    }
}
