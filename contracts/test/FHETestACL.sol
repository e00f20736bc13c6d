// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import "../lib/FHE.sol";
import {ZamaEthereumConfig} from "../config/ZamaConfig.sol";

/// @title  FHETestACL: access control, encrypted inputs and public decryption through the
///         FHE library, for the conformance tests. Handles are bytes32 (used as euint64).
/// @notice Functions that produce a handle store it in `lastResult`, emit Result(handle) and
///         return it; what access they grant is said for each.
///         encryptPrivate(v)           FHE.asEuint64(v); allowThis only (caller gets nothing)
///         encryptTransient(v)         FHE.asEuint64(v); FHE.allowTransient to the caller only
///         encryptUnkept(v)            FHE.asEuint64(v); no permission at all after the tx
///         addInputs(a, b, proof)      fromExternal of two inputs sharing one proof, add;
///                                     allowThis + allow(caller)
///         inputWithoutProof(h)        FHE.fromExternal(h, "") (caller must be allowed on h);
///                                     allowThis + allow(caller)
///         addOne(h)                   FHE.add(euint64 h, 1): the executor reverts unless this
///                                     contract may use h; allowThis + allow(caller)
///         allow(h, account)           FHE.allow          allowTransient(h, account)
///         makePubliclyDecryptable(h)  FHE.makePubliclyDecryptable
///         views: isAllowed(h, account), isSenderAllowed(h), isPubliclyDecryptable(h),
///                isUserDecryptable(h, user) (context: this contract), isAccountDenied(a),
///                isInitialized(h), delegationExpiration(delegator, delegate, contract),
///                isDelegated(delegator, delegate, contract, h),
///                isPublicDecryptionResultValid(handles, cleartexts, proof)
///         delegate(delegate, contract, expiration) / revoke(delegate, contract): this
///                contract delegates its own user-decryption rights
///         checkSignatures(handles, cleartexts, proof): FHE.checkSignatures; on success stores
///                keccak256(cleartexts) in `lastVerified` (and the library emits
///                PublicDecryptionVerified)
///         cleanTransientStorage()     FHE.cleanTransientStorage
contract FHETestACL is ZamaEthereumConfig {
    bytes32 public lastResult;
    bytes32 public lastVerified;

    event Result(bytes32 handle);

    function _result(euint64 value) private returns (bytes32) {
        bytes32 handle = euint64.unwrap(value);
        lastResult = handle;
        emit Result(handle);
        return handle;
    }

    function _kept(euint64 value) private returns (bytes32) {
        FHE.allowThis(value);
        FHE.allow(value, msg.sender);
        return _result(value);
    }

    function encryptPrivate(uint64 v) external returns (bytes32) {
        return _result(FHE.allowThis(FHE.asEuint64(v)));
    }

    function encryptTransient(uint64 v) external returns (bytes32) {
        return _result(FHE.allowTransient(FHE.asEuint64(v), msg.sender));
    }

    function encryptUnkept(uint64 v) external returns (bytes32) {
        return _result(FHE.asEuint64(v));
    }

    function addInputs(externalEuint64 a, externalEuint64 b, bytes calldata proof) external returns (bytes32) {
        return _kept(FHE.add(FHE.fromExternal(a, proof), FHE.fromExternal(b, proof)));
    }

    function inputWithoutProof(externalEuint64 h) external returns (bytes32) {
        return _kept(FHE.fromExternal(h, ""));
    }

    function addOne(bytes32 h) external returns (bytes32) {
        return _kept(FHE.add(euint64.wrap(h), 1));
    }

    function allow(bytes32 h, address account) external {
        FHE.allow(euint64.wrap(h), account);
    }

    function allowTransient(bytes32 h, address account) external {
        FHE.allowTransient(euint64.wrap(h), account);
    }

    function makePubliclyDecryptable(bytes32 h) external {
        FHE.makePubliclyDecryptable(euint64.wrap(h));
    }

    function isAllowed(bytes32 h, address account) external view returns (bool) {
        return FHE.isAllowed(euint64.wrap(h), account);
    }

    function isSenderAllowed(bytes32 h) external view returns (bool) {
        return FHE.isSenderAllowed(euint64.wrap(h));
    }

    function isPubliclyDecryptable(bytes32 h) external view returns (bool) {
        return FHE.isPubliclyDecryptable(euint64.wrap(h));
    }

    function isUserDecryptable(bytes32 h, address user) external view returns (bool) {
        return FHE.isUserDecryptable(h, user, address(this));
    }

    function isAccountDenied(address account) external view returns (bool) {
        return FHE.isAccountDenied(account);
    }

    function isInitialized(bytes32 h) external pure returns (bool) {
        return FHE.isInitialized(euint64.wrap(h));
    }

    function delegate(address delegatee, address contractAddress, uint64 expiration) external {
        FHE.delegateUserDecryption(delegatee, contractAddress, expiration);
    }

    function revoke(address delegatee, address contractAddress) external {
        FHE.revokeUserDecryptionDelegation(delegatee, contractAddress);
    }

    function delegationExpiration(
        address delegator,
        address delegatee,
        address contractAddress
    ) external view returns (uint64) {
        return FHE.getDelegatedUserDecryptionExpirationDate(delegator, delegatee, contractAddress);
    }

    function isDelegated(
        address delegator,
        address delegatee,
        address contractAddress,
        bytes32 h
    ) external view returns (bool) {
        return FHE.isDelegatedForUserDecryption(delegator, delegatee, contractAddress, h);
    }

    function checkSignatures(bytes32[] calldata handles, bytes calldata cleartexts, bytes calldata proof) external {
        FHE.checkSignatures(handles, cleartexts, proof);
        lastVerified = keccak256(cleartexts);
    }

    function isPublicDecryptionResultValid(
        bytes32[] calldata handles,
        bytes calldata cleartexts,
        bytes calldata proof
    ) external view returns (bool) {
        return FHE.isPublicDecryptionResultValid(handles, cleartexts, proof);
    }

    function cleanTransientStorage() external {
        FHE.cleanTransientStorage();
    }
}
