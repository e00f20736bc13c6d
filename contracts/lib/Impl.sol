// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FheType} from "./FheType.sol";

/// @notice Addresses of the protocol contracts a confidential contract talks to. The devnet
///         serves them at the addresses of config/ZamaConfig.sol (chain id 31337).
struct CoprocessorConfig {
    address ACLAddress;
    address CoprocessorAddress;
    address KMSVerifierAddress;
}

/// @notice The FHE executor (precompile). Every function takes and returns handles; the
///         `scalarByte` of a binary operation is 0x01 when `rhs` is a plaintext value
///         (right-aligned in the bytes32) and 0x00 when it is a handle. The caller must be
///         allowed (ACL) to use every handle it passes; it gets transient access to the result.
interface IFHEVMExecutor {
    function fheAdd(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheSub(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheMul(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheDiv(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheRem(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheBitAnd(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheBitOr(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheBitXor(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheShl(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheShr(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheRotl(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheRotr(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheEq(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheNe(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheGe(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheGt(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheLe(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheLt(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheMin(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheMax(bytes32 lhs, bytes32 rhs, bytes1 scalarByte) external returns (bytes32 result);
    function fheNeg(bytes32 ct) external returns (bytes32 result);
    function fheNot(bytes32 ct) external returns (bytes32 result);
    function fheIfThenElse(bytes32 control, bytes32 ifTrue, bytes32 ifFalse) external returns (bytes32 result);

    /// @notice Checks an encrypted input against its proof (bound to `callerAddress`, the
    ///         calling contract and the chain) and returns the handle it may now use.
    function verifyInput(
        bytes32 inputHandle,
        address callerAddress,
        bytes memory inputProof,
        FheType inputType
    ) external returns (bytes32 result);

    function cast(bytes32 ct, FheType toType) external returns (bytes32 result);
    function trivialEncrypt(uint256 ct, FheType toType) external returns (bytes32 result);
    function fheRand(FheType randType) external returns (bytes32 result);
    function fheRandBounded(uint256 upperBound, FheType randType) external returns (bytes32 result);
    function fheSum(bytes32[] calldata values, FheType resultType) external returns (bytes32 result);
    function fheIsIn(bytes32 value, bytes32[] calldata values, FheType valueType) external returns (bytes32 result);
    function getInputVerifierAddress() external view returns (address);
}

/// @notice The access control list: who may use which handle, for this transaction
///         (transient) or for good, and which handles anyone may decrypt.
interface IACL {
    function multicall(bytes[] calldata data) external returns (bytes[] memory results);
    function allowTransient(bytes32 ciphertext, address account) external;
    function allow(bytes32 handle, address account) external;
    function cleanTransientStorage() external;
    function isAllowed(bytes32 handle, address account) external view returns (bool);
    function allowForDecryption(bytes32[] memory handlesList) external;
    function isAllowedForDecryption(bytes32 handle) external view returns (bool);
    function persistAllowed(bytes32 handle, address account) external view returns (bool);
    function isAccountDenied(address account) external view returns (bool);
    function delegateForUserDecryption(address delegate, address contractAddress, uint64 expirationDate) external;
    function revokeDelegationForUserDecryption(address delegate, address contractAddress) external;
    function getUserDecryptionDelegationExpirationDate(
        address delegator,
        address delegate,
        address contractAddress
    ) external view returns (uint64);
    function isHandleDelegatedForUserDecryption(
        address delegator,
        address delegate,
        address contractAddress,
        bytes32 handle
    ) external view returns (bool);
}

/// @notice The input verifier; the executor knows its address.
interface IInputVerifier {
    function cleanTransientStorage() external;
}

/// @title Impl
/// @notice Thin, type-agnostic layer between the FHE library and the protocol contracts:
///         every function forwards raw handles to the executor or the ACL whose addresses
///         the calling contract stored with `setCoprocessor`.
library Impl {
    // ERC-7201 slot of the CoprocessorConfig, namespace "confidential.storage.config", the
    // protocol's: contracts built with the upstream library keep their config there too.
    //   keccak256(abi.encode(uint256(keccak256("confidential.storage.config")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant CONFIG_SLOT = 0x9e7b61f58c47dc699ac88507c4f5bb9f121c03808c5676a8078fe583e4649700;

    function getCoprocessorConfig() internal pure returns (CoprocessorConfig storage config) {
        assembly {
            config.slot := CONFIG_SLOT
        }
    }

    function setCoprocessor(CoprocessorConfig memory config) internal {
        CoprocessorConfig storage stored = getCoprocessorConfig();
        stored.ACLAddress = config.ACLAddress;
        stored.CoprocessorAddress = config.CoprocessorAddress;
        stored.KMSVerifierAddress = config.KMSVerifierAddress;
    }

    function _executor() private view returns (IFHEVMExecutor) {
        return IFHEVMExecutor(getCoprocessorConfig().CoprocessorAddress);
    }

    function _acl() private view returns (IACL) {
        return IACL(getCoprocessorConfig().ACLAddress);
    }

    function _scalarByte(bool scalar) private pure returns (bytes1) {
        return scalar ? bytes1(0x01) : bytes1(0x00);
    }

    // ---- binary operations: `rhs` is a handle, or a plaintext value when `scalar` ----

    function add(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheAdd(lhs, rhs, _scalarByte(scalar));
    }

    function sub(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheSub(lhs, rhs, _scalarByte(scalar));
    }

    function mul(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheMul(lhs, rhs, _scalarByte(scalar));
    }

    /// @dev A plaintext divisor of zero reverts in the executor; an encrypted one gives
    ///      all ones as quotient (nothing may revert on a hidden value).
    function div(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheDiv(lhs, rhs, _scalarByte(scalar));
    }

    /// @dev See `div`; an encrypted zero divisor gives the dividend as remainder.
    function rem(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheRem(lhs, rhs, _scalarByte(scalar));
    }

    function and(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheBitAnd(lhs, rhs, _scalarByte(scalar));
    }

    function or(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheBitOr(lhs, rhs, _scalarByte(scalar));
    }

    function xor(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheBitXor(lhs, rhs, _scalarByte(scalar));
    }

    function shl(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheShl(lhs, rhs, _scalarByte(scalar));
    }

    function shr(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheShr(lhs, rhs, _scalarByte(scalar));
    }

    function rotl(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheRotl(lhs, rhs, _scalarByte(scalar));
    }

    function rotr(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheRotr(lhs, rhs, _scalarByte(scalar));
    }

    function eq(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheEq(lhs, rhs, _scalarByte(scalar));
    }

    function ne(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheNe(lhs, rhs, _scalarByte(scalar));
    }

    function ge(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheGe(lhs, rhs, _scalarByte(scalar));
    }

    function gt(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheGt(lhs, rhs, _scalarByte(scalar));
    }

    function le(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheLe(lhs, rhs, _scalarByte(scalar));
    }

    function lt(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheLt(lhs, rhs, _scalarByte(scalar));
    }

    function min(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheMin(lhs, rhs, _scalarByte(scalar));
    }

    function max(bytes32 lhs, bytes32 rhs, bool scalar) internal returns (bytes32) {
        return _executor().fheMax(lhs, rhs, _scalarByte(scalar));
    }

    // ---- unary operations, selection, casts, constants, randomness, n-ary ----

    function neg(bytes32 ct) internal returns (bytes32) {
        return _executor().fheNeg(ct);
    }

    function not(bytes32 ct) internal returns (bytes32) {
        return _executor().fheNot(ct);
    }

    /// @dev The result equals `ifTrue` where `control` is true, `ifFalse` otherwise.
    function select(bytes32 control, bytes32 ifTrue, bytes32 ifFalse) internal returns (bytes32) {
        return _executor().fheIfThenElse(control, ifTrue, ifFalse);
    }

    function cast(bytes32 ct, FheType toType) internal returns (bytes32) {
        return _executor().cast(ct, toType);
    }

    function trivialEncrypt(uint256 value, FheType toType) internal returns (bytes32) {
        return _executor().trivialEncrypt(value, toType);
    }

    function rand(FheType randType) internal returns (bytes32) {
        return _executor().fheRand(randType);
    }

    /// @dev `upperBound` must be a power of two within the type (the executor reverts otherwise).
    function randBounded(uint256 upperBound, FheType randType) internal returns (bytes32) {
        return _executor().fheRandBounded(upperBound, randType);
    }

    function sum(bytes32[] memory values, FheType resultType) internal returns (bytes32) {
        return _executor().fheSum(values, resultType);
    }

    function isIn(bytes32 value, bytes32[] memory values, FheType valueType) internal returns (bytes32) {
        return _executor().fheIsIn(value, values, valueType);
    }

    /// @notice Verifies an encrypted input of msg.sender and lets msg.sender use it for the
    ///         rest of the transaction, as the calling contract may.
    function verify(bytes32 inputHandle, bytes memory inputProof, FheType toType) internal returns (bytes32 result) {
        result = _executor().verifyInput(inputHandle, msg.sender, inputProof, toType);
        _acl().allowTransient(result, msg.sender);
    }

    // ---- access control ----

    function allowTransient(bytes32 handle, address account) internal {
        _acl().allowTransient(handle, account);
    }

    function allow(bytes32 handle, address account) internal {
        _acl().allow(handle, account);
    }

    function makePubliclyDecryptable(bytes32 handle) internal {
        bytes32[] memory handles = new bytes32[](1);
        handles[0] = handle;
        _acl().allowForDecryption(handles);
    }

    function makePubliclyDecryptable(bytes32[] memory handles) internal {
        _acl().allowForDecryption(handles);
    }

    function cleanTransientStorageACL() internal {
        _acl().cleanTransientStorage();
    }

    function cleanTransientStorageInputVerifier() internal {
        IInputVerifier(_executor().getInputVerifierAddress()).cleanTransientStorage();
    }

    function isAllowed(bytes32 handle, address account) internal view returns (bool) {
        return _acl().isAllowed(handle, account);
    }

    function isPubliclyDecryptable(bytes32 handle) internal view returns (bool) {
        return _acl().isAllowedForDecryption(handle);
    }

    function persistAllowed(bytes32 handle, address account) internal view returns (bool) {
        return _acl().persistAllowed(handle, account);
    }

    function isAccountDenied(address account) internal view returns (bool) {
        return _acl().isAccountDenied(account);
    }

    // ---- user decryption delegation ----

    function delegateForUserDecryption(address delegate, address contractAddress, uint64 expirationDate) internal {
        _acl().delegateForUserDecryption(delegate, contractAddress, expirationDate);
    }

    /// @dev One ACL call for the whole list (through the ACL's multicall when it has several).
    function delegateForUserDecryptions(
        address delegate,
        address[] memory contractAddresses,
        uint64 expirationDate
    ) internal {
        uint256 n = contractAddresses.length;
        if (n == 1) {
            _acl().delegateForUserDecryption(delegate, contractAddresses[0], expirationDate);
        } else if (n > 1) {
            bytes[] memory calls = new bytes[](n);
            for (uint256 i = 0; i < n; ++i) {
                calls[i] = abi.encodeCall(
                    IACL.delegateForUserDecryption,
                    (delegate, contractAddresses[i], expirationDate)
                );
            }
            _acl().multicall(calls);
        }
    }

    function revokeDelegationForUserDecryption(address delegate, address contractAddress) internal {
        _acl().revokeDelegationForUserDecryption(delegate, contractAddress);
    }

    function revokeDelegationsForUserDecryption(address delegate, address[] memory contractAddresses) internal {
        uint256 n = contractAddresses.length;
        if (n == 1) {
            _acl().revokeDelegationForUserDecryption(delegate, contractAddresses[0]);
        } else if (n > 1) {
            bytes[] memory calls = new bytes[](n);
            for (uint256 i = 0; i < n; ++i) {
                calls[i] = abi.encodeCall(IACL.revokeDelegationForUserDecryption, (delegate, contractAddresses[i]));
            }
            _acl().multicall(calls);
        }
    }

    function getUserDecryptionDelegationExpirationDate(
        address delegator,
        address delegate,
        address contractAddress
    ) internal view returns (uint64) {
        return _acl().getUserDecryptionDelegationExpirationDate(delegator, delegate, contractAddress);
    }

    function isDelegatedForUserDecryption(
        address delegator,
        address delegate,
        address contractAddress,
        bytes32 handle
    ) internal view returns (bool) {
        return _acl().isHandleDelegatedForUserDecryption(delegator, delegate, contractAddress, handle);
    }
}
