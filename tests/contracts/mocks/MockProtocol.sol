// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {IACL, IFHEVMExecutor} from "../../../contracts/lib/Impl.sol";
import {IKMSVerifier} from "../../../contracts/lib/FHE.sol";

/// Stands in for the executor, the ACL and the KMS verifier (one copy at each address) in
/// tests of the calls our FHE library makes. It records every call made outside a static
/// context (event Called(calldata)); an executor call answers keccak256(calldata) as the
/// result handle; ACL questions answer true, except isAllowed on the handle 0xbad.
/// At the KMS verifier address it answers the signer set given to setSigners.
contract MockProtocol {
    event Called(bytes data);

    address[] private _signers;
    uint256 private _threshold;

    function setSigners(address[] calldata signers, uint256 threshold) external {
        _signers = signers;
        _threshold = threshold;
    }

    function eip712Domain()
        external
        view
        returns (bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory)
    {
        return (hex"0f", "Decryption", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    function getContextSignersAndThresholdFromExtraData(bytes calldata) external view returns (address[] memory, uint256) {
        return (_signers, _threshold);
    }

    fallback(bytes calldata data) external returns (bytes memory) {
        if (data.length == 0) {
            // Probe of `_writable`: fails inside a static call.
            assembly {
                sstore(0xdead, 1)
            }
            return "";
        }
        (bool writable, ) = address(this).call("");
        if (writable) {
            emit Called(data);
        }
        bytes4 selector = bytes4(data[:4]);
        if (selector == IACL.isAllowed.selector) {
            return abi.encode(bytes32(data[4:36]) != bytes32(uint256(0xbad)));
        }
        if (
            selector == IACL.isAllowedForDecryption.selector ||
            selector == IACL.persistAllowed.selector ||
            selector == IACL.isAccountDenied.selector ||
            selector == IACL.isHandleDelegatedForUserDecryption.selector ||
            selector == IKMSVerifier.verifyDecryptionEIP712KMSSignatures.selector
        ) {
            return abi.encode(true);
        }
        if (selector == IACL.getUserDecryptionDelegationExpirationDate.selector) {
            return abi.encode(uint64(7));
        }
        if (selector == IFHEVMExecutor.getInputVerifierAddress.selector) {
            return abi.encode(address(this));
        }
        return abi.encode(keccak256(data));
    }
}
