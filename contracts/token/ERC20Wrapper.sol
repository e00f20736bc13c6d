// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FHE, euint64, externalEuint64} from "../lib/FHE.sol";
import {IERC165, IERC7984} from "./IERC7984.sol";
import {ConfidentialTokenBase} from "./ConfidentialToken.sol";
import {IERC20} from "./PlainERC20.sol";

/// @title  IERC7984ERC20Wrapper
/// @notice A confidential token backed 1:1 (up to `rate`) by a public ERC-20; the function
///         signatures and events of OpenZeppelin's confidential contracts 0.5.3.
interface IERC7984ERC20Wrapper is IERC7984 {
    event UnwrapRequested(address indexed receiver, bytes32 indexed unwrapRequestId, euint64 amount);
    event UnwrapFinalized(
        address indexed receiver,
        bytes32 indexed unwrapRequestId,
        euint64 encryptedAmount,
        uint64 cleartextAmount
    );

    function wrap(address to, uint256 amount) external returns (euint64);

    function unwrap(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) external returns (bytes32);

    function underlying() external view returns (address);

    function finalizeUnwrap(
        bytes32 unwrapRequestId,
        uint64 unwrapAmountCleartext,
        bytes calldata decryptionProof
    ) external;

    function rate() external view returns (uint256);

    function unwrapAmount(bytes32 unwrapRequestId) external view returns (euint64);
}

/// @title  ERC20Wrapper
/// @notice Wraps a public ERC-20 into an ERC-7984 confidential token.
///
///         wrap: the caller approves this contract on the underlying token, then
///         `wrap(to, amount)` takes `amount` (rounded down to a multiple of `rate`) and mints
///         `amount / rate` confidential units to `to`.
///
///         unwrap, in two steps through a public decryption: `unwrap(from, to, amount)`
///         burns up to the encrypted amount from `from` (the caller or an operator of `from`;
///         0 if beyond the balance), marks the burnt amount publicly decryptable and returns
///         its handle as the request id; anyone then calls `finalizeUnwrap(id, cleartext,
///         proof)` with the KMS-signed cleartext, which is checked on chain before
///         `cleartext * rate` underlying tokens go to `to`.
///
///         `rate` is 10^(decimals of the underlying - 6) when the underlying has more than 6
///         decimals (the wrapper then has 6), else 1 (same decimals).
contract ERC20Wrapper is ConfidentialTokenBase, IERC7984ERC20Wrapper {
    IERC20 private immutable _underlying;
    uint8 private immutable _decimals;
    uint256 private immutable _rate;
    /// @dev Confidential units that wrapped tokens back, less the finalized unwraps: an upper
    ///      bound of the confidential total supply, kept within uint64.
    uint256 private _backedUnits;
    mapping(bytes32 unwrapRequestId => address receiver) private _unwrapRequests;

    error InvalidUnwrapRequest(bytes32 unwrapRequestId);
    error ERC7984TotalSupplyOverflow();
    error SafeERC20FailedOperation(address token);

    constructor(IERC20 underlying_, string memory name_, string memory symbol_, string memory contractURI_)
        ConfidentialTokenBase(name_, symbol_, contractURI_)
    {
        _underlying = underlying_;
        uint8 underlyingDecimals = _underlyingDecimals(underlying_);
        if (underlyingDecimals > 6) {
            _decimals = 6;
            _rate = 10 ** (underlyingDecimals - 6);
        } else {
            _decimals = underlyingDecimals;
            _rate = 1;
        }
    }

    function supportsInterface(bytes4 interfaceId) public view virtual override(IERC165, ConfidentialTokenBase) returns (bool) {
        return interfaceId == type(IERC7984ERC20Wrapper).interfaceId || super.supportsInterface(interfaceId);
    }

    function decimals() public view virtual override(IERC7984, ConfidentialTokenBase) returns (uint8) {
        return _decimals;
    }

    function underlying() public view returns (address) {
        return address(_underlying);
    }

    function rate() public view returns (uint256) {
        return _rate;
    }

    /// @notice The encrypted amount of a pending unwrap request (zero handle if none).
    function unwrapAmount(bytes32 unwrapRequestId) public view returns (euint64) {
        return _unwrapRequests[unwrapRequestId] == address(0) ? euint64.wrap(0) : euint64.wrap(unwrapRequestId);
    }

    /// @notice The receiver of a pending unwrap request (zero if none).
    function unwrapRequester(bytes32 unwrapRequestId) public view returns (address) {
        return _unwrapRequests[unwrapRequestId];
    }

    function wrap(address to, uint256 amount) public returns (euint64 minted) {
        uint256 units = amount / _rate;
        _backedUnits += units;
        if (_backedUnits > type(uint64).max) revert ERC7984TotalSupplyOverflow();
        _safeCall(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), units * _rate)));
        minted = _mint(to, FHE.asEuint64(uint64(units)));
        FHE.allowTransient(minted, msg.sender);
    }

    function unwrap(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) public returns (bytes32) {
        return _unwrap(from, to, FHE.fromExternal(encryptedAmount, inputProof));
    }

    /// @notice Unwrap an amount the caller is already allowed on (ACL).
    function unwrap(address from, address to, euint64 amount) public returns (bytes32) {
        _requireAllowed(amount);
        return _unwrap(from, to, amount);
    }

    function finalizeUnwrap(
        bytes32 unwrapRequestId,
        uint64 unwrapAmountCleartext,
        bytes calldata decryptionProof
    ) public {
        address to = _unwrapRequests[unwrapRequestId];
        if (to == address(0)) revert InvalidUnwrapRequest(unwrapRequestId);
        delete _unwrapRequests[unwrapRequestId];
        bytes32[] memory handles = new bytes32[](1);
        handles[0] = unwrapRequestId;
        FHE.checkSignatures(handles, abi.encode(unwrapAmountCleartext), decryptionProof);
        _backedUnits -= unwrapAmountCleartext;
        _safeCall(abi.encodeCall(IERC20.transfer, (to, uint256(unwrapAmountCleartext) * _rate)));
        emit UnwrapFinalized(to, unwrapRequestId, euint64.wrap(unwrapRequestId), unwrapAmountCleartext);
    }

    function _unwrap(address from, address to, euint64 amount) internal returns (bytes32 unwrapRequestId) {
        if (to == address(0)) revert ERC7984InvalidReceiver(address(0));
        _requireOperator(from);
        euint64 burnt = _burn(from, amount);
        FHE.makePubliclyDecryptable(burnt);
        // A computed handle is fresh (random prefix), never zero, so it names the request.
        unwrapRequestId = euint64.unwrap(burnt);
        _unwrapRequests[unwrapRequestId] = to;
        emit UnwrapRequested(to, unwrapRequestId, burnt);
    }

    /// @dev Calls the underlying token; accepts no return data or `true` (as SafeERC20) and
    ///      passes the token's revert reason on.
    function _safeCall(bytes memory data) private {
        address token = address(_underlying);
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok && ret.length > 0) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (!ok || (ret.length == 0 ? token.code.length == 0 : !abi.decode(ret, (bool)))) {
            revert SafeERC20FailedOperation(token);
        }
    }

    function _underlyingDecimals(IERC20 token) private view returns (uint8) {
        (bool ok, bytes memory ret) = address(token).staticcall(abi.encodeCall(IERC20.decimals, ()));
        if (ok && ret.length >= 32) {
            uint256 value = abi.decode(ret, (uint256));
            if (value <= type(uint8).max) return uint8(value);
        }
        return 18;
    }
}
