// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FHE} from "../lib/FHE.sol";
import {CoprocessorConfig} from "../lib/Impl.sol";

/// @title  ZamaConfig
/// @notice Protocol addresses of this devnet (chain id 31337). They are the addresses of the
///         local configuration of the upstream Solidity library, so contracts built with that library find
///         our executor, ACL and KMS verifier without changes. Other chains are not served.
library ZamaConfig {
    uint256 internal constant DEVNET_CHAIN_ID = 31337;

    /// @notice Returned on a chain this configuration does not know.
    error ZamaProtocolUnsupported();

    function getCoprocessorConfig() internal view returns (CoprocessorConfig memory) {
        if (block.chainid != DEVNET_CHAIN_ID) {
            revert ZamaProtocolUnsupported();
        }
        return CoprocessorConfig({
            ACLAddress: 0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D,
            CoprocessorAddress: 0xe3a9105a3a932253A70F126eb1E3b589C643dD24,
            KMSVerifierAddress: 0x901F8942346f7AB3a01F6D7613119Bca447Bb030
        });
    }

    /// @dev Same names as upstream; on this devnet all give the one local config.
    function getEthereumCoprocessorConfig() internal view returns (CoprocessorConfig memory) {
        return getCoprocessorConfig();
    }

    function getPolygonCoprocessorConfig() internal view returns (CoprocessorConfig memory) {
        return getCoprocessorConfig();
    }

    /// @notice Protocol id of a local network (as upstream): type(uint256).max.
    function getConfidentialProtocolId() internal view returns (uint256) {
        return block.chainid == DEVNET_CHAIN_ID ? type(uint256).max : 0;
    }
}

/// @title  ZamaEthereumConfig
/// @notice Inherit it to use FHE: the constructor stores the devnet protocol addresses.
abstract contract ZamaEthereumConfig {
    constructor() {
        FHE.setCoprocessor(ZamaConfig.getEthereumCoprocessorConfig());
    }

    function confidentialProtocolId() public view returns (uint256) {
        return ZamaConfig.getConfidentialProtocolId();
    }
}

/// @title  ZamaMultiChainConfig
/// @notice Same as ZamaEthereumConfig (a name that the upstream library 0.13 also offers).
abstract contract ZamaMultiChainConfig {
    constructor() {
        FHE.setCoprocessor(ZamaConfig.getCoprocessorConfig());
    }

    function confidentialProtocolId() public view returns (uint256) {
        return ZamaConfig.getConfidentialProtocolId();
    }
}
