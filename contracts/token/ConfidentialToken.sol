// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {FHE, ebool, euint64, externalEuint64} from "../lib/FHE.sol";
import {ZamaEthereumConfig} from "../config/ZamaConfig.sol";
import {IERC165, IERC7984, IERC7984Receiver} from "./IERC7984.sol";

/// @title  ConfidentialTokenBase
/// @notice An ERC-7984 confidential fungible token: balances and amounts are encrypted
///         `euint64` handles. Nothing reverts on a hidden value: a transfer beyond the
///         sender's balance succeeds and moves 0, a mint that would overflow the total supply
///         mints 0. Every balance is granted (ACL) to this contract and to its holder, so the
///         holder can user-decrypt it; the amount actually moved is granted to the sender,
///         the receiver and (for transferFrom) the operator.
///
///         Derived contracts create and destroy tokens with `_mint` / `_burn` and may hook
///         every balance change by overriding `_update`.
abstract contract ConfidentialTokenBase is IERC7984, ZamaEthereumConfig {
    mapping(address holder => euint64) private _balances;
    mapping(address holder => mapping(address operator => uint48 until)) private _operators;
    euint64 private _totalSupply;
    string private _name;
    string private _symbol;
    string private _contractURI;

    /// @notice `requester` asked for `encryptedAmount` to be made publicly decryptable.
    event AmountDiscloseRequested(euint64 indexed encryptedAmount, address indexed requester);

    error ERC7984InvalidReceiver(address receiver);
    error ERC7984InvalidSender(address sender);
    /// @notice `spender` is neither `holder` nor an unexpired operator of `holder`.
    error ERC7984UnauthorizedSpender(address holder, address spender);
    /// @notice `user` may not use the encrypted amount `amount` (ACL); pass an input proof instead.
    error ERC7984UnauthorizedUseOfEncryptedAmount(euint64 amount, address user);
    error ERC7984UnauthorizedCaller(address caller);
    /// @notice The receiver `to` returned an ebool that this token may not read (OpenZeppelin's
    ///         name for this error).
    error ERC7984UtilsUnauthorizedUseOfEncryptedAmount(ebool reply, address to);

    constructor(string memory name_, string memory symbol_, string memory contractURI_) {
        _name = name_;
        _symbol = symbol_;
        _contractURI = contractURI_;
    }

    // ---- metadata and views -------------------------------------------------------------

    function supportsInterface(bytes4 interfaceId) public view virtual returns (bool) {
        return interfaceId == type(IERC7984).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    function name() public view virtual returns (string memory) {
        return _name;
    }

    function symbol() public view virtual returns (string memory) {
        return _symbol;
    }

    /// @notice 6, as ERC-7984 recommends (amounts are uint64).
    function decimals() public view virtual returns (uint8) {
        return 6;
    }

    function contractURI() public view virtual returns (string memory) {
        return _contractURI;
    }

    function confidentialTotalSupply() public view virtual returns (euint64) {
        return _totalSupply;
    }

    function confidentialBalanceOf(address account) public view virtual returns (euint64) {
        return _balances[account];
    }

    function isOperator(address holder, address spender) public view virtual returns (bool) {
        return holder == spender || block.timestamp <= _operators[holder][spender];
    }

    // ---- operators ----------------------------------------------------------------------

    function setOperator(address operator, uint48 until) public virtual {
        _operators[msg.sender][operator] = until;
        emit OperatorSet(msg.sender, operator, until);
    }

    // ---- transfers ----------------------------------------------------------------------

    function confidentialTransfer(
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) public virtual returns (euint64) {
        return _transfer(msg.sender, to, FHE.fromExternal(encryptedAmount, inputProof));
    }

    function confidentialTransfer(address to, euint64 amount) public virtual returns (euint64) {
        _requireAllowed(amount);
        return _transfer(msg.sender, to, amount);
    }

    function confidentialTransferFrom(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) public virtual returns (euint64 transferred) {
        _requireOperator(from);
        transferred = _transfer(from, to, FHE.fromExternal(encryptedAmount, inputProof));
        FHE.allow(transferred, msg.sender);
    }

    function confidentialTransferFrom(address from, address to, euint64 amount)
        public
        virtual
        returns (euint64 transferred)
    {
        _requireAllowed(amount);
        _requireOperator(from);
        transferred = _transfer(from, to, amount);
        FHE.allow(transferred, msg.sender);
    }

    function confidentialTransferAndCall(
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof,
        bytes calldata data
    ) public virtual returns (euint64) {
        return _transferAndCall(msg.sender, to, FHE.fromExternal(encryptedAmount, inputProof), data);
    }

    function confidentialTransferAndCall(address to, euint64 amount, bytes calldata data)
        public
        virtual
        returns (euint64)
    {
        _requireAllowed(amount);
        return _transferAndCall(msg.sender, to, amount, data);
    }

    function confidentialTransferFromAndCall(
        address from,
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof,
        bytes calldata data
    ) public virtual returns (euint64 transferred) {
        _requireOperator(from);
        transferred = _transferAndCall(from, to, FHE.fromExternal(encryptedAmount, inputProof), data);
        FHE.allow(transferred, msg.sender);
    }

    function confidentialTransferFromAndCall(address from, address to, euint64 amount, bytes calldata data)
        public
        virtual
        returns (euint64 transferred)
    {
        _requireAllowed(amount);
        _requireOperator(from);
        transferred = _transferAndCall(from, to, amount, data);
        FHE.allow(transferred, msg.sender);
    }

    // ---- disclosure ---------------------------------------------------------------------

    /// @notice Makes `encryptedAmount` publicly decryptable. The caller and this contract must
    ///         both be allowed on it (a holder on their balance, a party on a transfer amount).
    function requestDiscloseEncryptedAmount(euint64 encryptedAmount) public virtual {
        _requireAllowed(encryptedAmount);
        FHE.makePubliclyDecryptable(encryptedAmount);
        emit AmountDiscloseRequested(encryptedAmount, msg.sender);
    }

    /// @notice Publishes the cleartext of a publicly decryptable amount, checked against the
    ///         KMS signatures of the public decryption (`decryptionProof`).
    function discloseEncryptedAmount(
        euint64 encryptedAmount,
        uint64 cleartextAmount,
        bytes calldata decryptionProof
    ) public virtual {
        bytes32[] memory handles = new bytes32[](1);
        handles[0] = euint64.unwrap(encryptedAmount);
        FHE.checkSignatures(handles, abi.encode(cleartextAmount), decryptionProof);
        emit AmountDisclosed(encryptedAmount, cleartextAmount);
    }

    // ---- internal hooks -----------------------------------------------------------------

    function _setOperator(address holder, address operator, uint48 until) internal virtual {
        _operators[holder][operator] = until;
        emit OperatorSet(holder, operator, until);
    }

    /// @notice Creates up to `amount` tokens for `to`; returns the amount minted (0 if the
    ///         total supply would overflow uint64).
    function _mint(address to, euint64 amount) internal virtual returns (euint64) {
        if (to == address(0)) revert ERC7984InvalidReceiver(address(0));
        return _update(address(0), to, amount);
    }

    /// @notice Destroys up to `amount` tokens of `from`; returns the amount burnt (0 if
    ///         `amount` exceeds the balance).
    function _burn(address from, euint64 amount) internal virtual returns (euint64) {
        if (from == address(0)) revert ERC7984InvalidSender(address(0));
        return _update(from, address(0), amount);
    }

    function _transfer(address from, address to, euint64 amount) internal virtual returns (euint64) {
        if (from == address(0)) revert ERC7984InvalidSender(address(0));
        if (to == address(0)) revert ERC7984InvalidReceiver(address(0));
        return _update(from, to, amount);
    }

    /// @notice Transfers, then calls `to`'s IERC7984Receiver hook (when `to` has code) and
    ///         sends the amount back if the hook answers false.
    function _transferAndCall(address from, address to, euint64 amount, bytes calldata data)
        internal
        virtual
        returns (euint64 transferred)
    {
        euint64 sent = _transfer(from, to, amount);
        ebool accepted = _checkOnTransferReceived(msg.sender, from, to, sent, data);
        euint64 refund = _update(to, from, FHE.select(accepted, FHE.asEuint64(0), sent));
        transferred = FHE.sub(sent, refund);
        FHE.allowThis(transferred);
        FHE.allow(transferred, from);
        FHE.allow(transferred, to);
    }

    function _checkOnTransferReceived(
        address operator,
        address from,
        address to,
        euint64 amount,
        bytes calldata data
    ) internal virtual returns (ebool) {
        if (to.code.length == 0) {
            return FHE.asEbool(true);
        }
        FHE.allowTransient(amount, to);
        try IERC7984Receiver(to).onConfidentialTransferReceived(operator, from, amount, data) returns (
            ebool reply
        ) {
            if (!FHE.isInitialized(reply)) {
                return FHE.asEbool(false);
            }
            if (!FHE.isAllowed(reply, address(this))) {
                revert ERC7984UtilsUnauthorizedUseOfEncryptedAmount(reply, to);
            }
            return reply;
        } catch (bytes memory reason) {
            if (reason.length == 0) {
                revert ERC7984InvalidReceiver(to);
            }
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    /// @notice Every balance change goes through here: `from` zero mints, `to` zero burns.
    ///         Moves `amount` if `from` has it (and, for a mint, if the supply does not
    ///         overflow), else 0; returns the amount moved and emits ConfidentialTransfer.
    function _update(address from, address to, euint64 amount) internal virtual returns (euint64 transferred) {
        euint64 zero = FHE.asEuint64(0);
        if (from == address(0)) {
            euint64 supply = _totalSupply;
            euint64 grown = FHE.add(supply, amount);
            ebool fits = FHE.ge(grown, supply);
            transferred = FHE.select(fits, amount, zero);
            _totalSupply = FHE.select(fits, grown, supply);
        } else {
            euint64 fromBalance = _balances[from];
            ebool enough = FHE.ge(fromBalance, amount);
            transferred = FHE.select(enough, amount, zero);
            euint64 newFrom = FHE.sub(fromBalance, transferred);
            _balances[from] = newFrom;
            FHE.allowThis(newFrom);
            FHE.allow(newFrom, from);
        }
        if (to == address(0)) {
            _totalSupply = FHE.sub(_totalSupply, transferred);
        } else {
            // Cannot overflow: every balance is at most the total supply, a uint64.
            euint64 newTo = FHE.add(_balances[to], transferred);
            _balances[to] = newTo;
            FHE.allowThis(newTo);
            FHE.allow(newTo, to);
        }
        if (from == address(0) || to == address(0)) FHE.allowThis(_totalSupply);
        FHE.allowThis(transferred);
        if (from != address(0)) FHE.allow(transferred, from);
        if (to != address(0)) FHE.allow(transferred, to);
        emit ConfidentialTransfer(from, to, transferred);
    }

    function _requireAllowed(euint64 amount) internal view {
        if (!FHE.isAllowed(amount, msg.sender)) {
            revert ERC7984UnauthorizedUseOfEncryptedAmount(amount, msg.sender);
        }
    }

    function _requireOperator(address from) internal view {
        if (!isOperator(from, msg.sender)) {
            revert ERC7984UnauthorizedSpender(from, msg.sender);
        }
    }
}

/// @title  ConfidentialToken
/// @notice A ConfidentialTokenBase with an owner (the deployer) who mints, in cleartext or
///         encrypted amounts, and may read the total supply. Any holder burns their own
///         tokens. Transfers, operators and disclosure are those of ERC-7984.
contract ConfidentialToken is ConfidentialTokenBase {
    address private _owner;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error OwnableUnauthorizedAccount(address account);
    error OwnableInvalidOwner(address owner);

    modifier onlyOwner() {
        if (msg.sender != _owner) revert OwnableUnauthorizedAccount(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_, string memory contractURI_)
        ConfidentialTokenBase(name_, symbol_, contractURI_)
    {
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function owner() public view returns (address) {
        return _owner;
    }

    function transferOwnership(address newOwner) public onlyOwner {
        if (newOwner == address(0)) revert OwnableInvalidOwner(address(0));
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
        FHE.allow(confidentialTotalSupply(), newOwner);
    }

    /// @notice Mints a cleartext amount (the amount is public; balances stay encrypted).
    function mint(address to, uint64 amount) public onlyOwner returns (euint64) {
        return _mint(to, FHE.asEuint64(amount));
    }

    /// @notice Mints an encrypted amount.
    function confidentialMint(address to, externalEuint64 encryptedAmount, bytes calldata inputProof)
        public
        onlyOwner
        returns (euint64)
    {
        return _mint(to, FHE.fromExternal(encryptedAmount, inputProof));
    }

    /// @notice Burns up to an encrypted amount of the caller's own tokens (0 if beyond the balance).
    function burn(externalEuint64 encryptedAmount, bytes calldata inputProof) public returns (euint64) {
        return _burn(msg.sender, FHE.fromExternal(encryptedAmount, inputProof));
    }

    function _update(address from, address to, euint64 amount) internal virtual override returns (euint64 moved) {
        moved = super._update(from, to, amount);
        if (from == address(0) || to == address(0)) FHE.allow(confidentialTotalSupply(), _owner);
    }
}
