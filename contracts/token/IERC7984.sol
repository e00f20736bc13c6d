// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {ebool, euint64, externalEuint64} from "../lib/FHE.sol";

/// @title  IERC165
/// @notice ERC-165 interface detection.
interface IERC165 {
    function supportsInterface(bytes4 interfaceId) external view returns (bool);
}

/// @title  IERC7984
/// @notice The confidential fungible token interface (ERC-7984 draft), with the function
///         signatures, events and interface id of OpenZeppelin's confidential contracts 0.5.3.
///         Amounts and balances are `euint64` handles.
interface IERC7984 is IERC165 {
    /// @notice `operator` may move any amount of `holder`'s tokens until the timestamp `until`.
    event OperatorSet(address indexed holder, address indexed operator, uint48 until);

    /// @notice `amount` (the amount actually moved) went from `from` to `to`.
    event ConfidentialTransfer(address indexed from, address indexed to, euint64 indexed amount);

    /// @notice The encrypted amount `encryptedAmount` was publicly disclosed as `amount`.
    event AmountDisclosed(euint64 indexed encryptedAmount, uint64 amount);

    function name() external view returns (string memory);

    function symbol() external view returns (string memory);

    function decimals() external view returns (uint8);

    /// @notice ERC-7572 contract metadata URI.
    function contractURI() external view returns (string memory);

    function confidentialTotalSupply() external view returns (euint64);

    function confidentialBalanceOf(address account) external view returns (euint64);

    /// @notice Whether `spender` is `holder` or an unexpired operator of `holder`.
    function isOperator(address holder, address spender) external view returns (bool);

    /// @notice Makes `operator` an operator of the caller until the timestamp `until`.
    function setOperator(address operator, uint48 until) external;

    function confidentialTransfer(
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) external returns (euint64);

    /// @notice The caller must already be allowed (ACL) on `amount`.
    function confidentialTransfer(address to, euint64 amount) external returns (euint64 transferred);

    function confidentialTransferFrom(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) external returns (euint64);

    function confidentialTransferFrom(address from, address to, euint64 amount) external returns (euint64 transferred);

    function confidentialTransferAndCall(
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof,
        bytes calldata data
    ) external returns (euint64 transferred);

    function confidentialTransferAndCall(
        address to,
        euint64 amount,
        bytes calldata data
    ) external returns (euint64 transferred);

    function confidentialTransferFromAndCall(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof,
        bytes calldata data
    ) external returns (euint64 transferred);

    function confidentialTransferFromAndCall(
        address from,
        address to,
        euint64 amount,
        bytes calldata data
    ) external returns (euint64 transferred);
}

/// @title  IERC7984Receiver
/// @notice Contracts that accept `confidentialTransfer*AndCall`. The returned ebool says
///         whether the transfer is accepted; on false (or an unset handle) the token sends the
///         amount back. The receiver must let the token use the returned handle (ACL).
interface IERC7984Receiver {
    function onConfidentialTransferReceived(
        address operator,
        address from,
        euint64 amount,
        bytes calldata data
    ) external returns (ebool);
}
