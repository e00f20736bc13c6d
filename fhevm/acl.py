"""Access control list: who may use which handle, kept in the ACL address's storage.

Persistent permissions, public-decryption marks, the deny list and user-decryption
delegations live in EVM storage; per-transaction permissions live in transient storage
(EIP-1153), so py-evm's journal reverts both with the frame that wrote them. The function
set and its rules follow IACL of @fhevm/solidity; events and the pause switch follow the
ACL of @fhevm/host-contracts 0.10.0 (the owner is the one pauser here).
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from fhevm import addresses
from fhevm.abi import Revert
from fhevm.precompile import CallContext, Precompile, method, slot

ACL = addresses.ACL
_ALLOW = b"fhevm.acl.allow"
_TRANSIENT = b"fhevm.acl.transient"
_TLIST = slot(b"fhevm.acl.transient-list")
_DECRYPT = b"fhevm.acl.decrypt"
_DENY = b"fhevm.acl.deny"
_DELEGATION = b"fhevm.acl.delegation"
OWNER_SLOT = slot(b"fhevm.acl.owner")
PAUSED_SLOT = slot(b"fhevm.acl.paused")

GAS_PERSIST = 22_100
GAS_TRANSIENT = 200
GAS_READ = 2_100
ONE_HOUR = 3600
MAX_MULTICALL_DEPTH = 4
_U64 = (1 << 64) - 1
_MOD = 1 << 256


def _topic(signature: str) -> int:
    return int.from_bytes(keccak(text=signature), "big")


def _addr_topic(addr: bytes) -> int:
    return int.from_bytes(addr, "big")


EV_ALLOWED = _topic("Allowed(address,address,bytes32)")
EV_ALLOWED_FOR_DECRYPTION = _topic("AllowedForDecryption(address,bytes32[])")
EV_DELEGATED = _topic("DelegatedForUserDecryption(address,address,address,uint64,uint64,uint64)")
EV_REVOKED = _topic("RevokedDelegationForUserDecryption(address,address,address,uint64,uint64)")
EV_BLOCKED = _topic("BlockedAccount(address)")
EV_UNBLOCKED = _topic("UnblockedAccount(address)")
# OpenZeppelin's Pausable events, which Zama's ACL inherits: `account` is not indexed.
EV_PAUSED = _topic("Paused(address)")
EV_UNPAUSED = _topic("Unpaused(address)")


# --- rules shared with the executor -----------------------------------------------------


def persist_allowed(ctx: CallContext, handle: bytes, account: bytes) -> bool:
    return ctx.sload(ACL, slot(_ALLOW, handle, account)) != 0


def transient_allowed(ctx: CallContext, handle: bytes, account: bytes) -> bool:
    return ctx.tload(ACL, slot(_TRANSIENT, handle, account)) != 0


def is_allowed(ctx: CallContext, handle: bytes, account: bytes) -> bool:
    return transient_allowed(ctx, handle, account) or persist_allowed(ctx, handle, account)


def is_denied(ctx: CallContext, account: bytes) -> bool:
    return ctx.sload(ACL, slot(_DENY, account)) != 0


def is_paused(ctx: CallContext) -> bool:
    return ctx.sload(ACL, PAUSED_SLOT) != 0


def require_not_paused(ctx: CallContext) -> None:
    """While the ACL is paused nothing may be granted, so no FHE result can be made
    (Zama's executor calls the ACL's allowTransient, which is `whenNotPaused`)."""
    if is_paused(ctx):
        raise Revert("ACL: EnforcedPause: the ACL is paused")


def grant_transient(ctx: CallContext, handle: bytes, account: bytes, charge: bool = True) -> None:
    """Per-transaction permission; recorded in a list so cleanTransientStorage can wipe it.
    `charge=False` when the caller already paid GAS_TRANSIENT."""
    require_not_paused(ctx)
    if charge:
        ctx.charge(GAS_TRANSIENT, "acl transient")
    key = slot(_TRANSIENT, handle, account)
    if ctx.tload(ACL, key):
        return
    ctx.tstore(ACL, key, 1)
    n = ctx.tload(ACL, _TLIST) + 1
    ctx.tstore(ACL, (_TLIST + n) % _MOD, key)
    ctx.tstore(ACL, _TLIST, n)


def grant_persistent(ctx: CallContext, handle: bytes, account: bytes) -> None:
    require_not_paused(ctx)
    ctx.charge(GAS_PERSIST, "acl persist")
    ctx.sstore(ACL, slot(_ALLOW, handle, account), 1)


def is_public(ctx: CallContext, handle: bytes) -> bool:
    return ctx.sload(ACL, slot(_DECRYPT, handle)) != 0


def delegation(ctx: CallContext, delegator: bytes, delegate: bytes, contract: bytes) -> tuple:
    """(expiration date, last block delegated or revoked, counter) of one delegation."""
    packed = ctx.sload(ACL, slot(_DELEGATION, delegator, delegate, contract))
    return packed & _U64, (packed >> 64) & _U64, (packed >> 128) & _U64


def _set_delegation(
    ctx: CallContext, delegator: bytes, delegate: bytes, contract: bytes, d: tuple
) -> None:
    expiry, last_block, counter = d
    packed = expiry | (last_block << 64) | (counter << 128)
    ctx.sstore(ACL, slot(_DELEGATION, delegator, delegate, contract), packed)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


class AclPrecompile(Precompile):
    """The ACL at 0x5015...755D, with every function of IACL and the usual extras."""

    address = ACL
    name = "ACL"

    def _require_allowed(self, ctx: CallContext, handle: bytes) -> None:
        require_not_paused(ctx)
        if is_denied(ctx, ctx.sender):
            raise Revert(f"ACL: SenderDenied: {_hex(ctx.sender)} is on the deny list")
        if not is_allowed(ctx, handle, ctx.sender):
            raise Revert(
                f"ACL: SenderNotAllowed: {_hex(ctx.sender)} may not use handle {_hex(handle)}"
            )

    @method("allow(bytes32,address)")
    def allow(self, ctx: CallContext, handle: bytes, account: str) -> None:
        acct = bytes.fromhex(account[2:])
        self._require_allowed(ctx, handle)
        grant_persistent(ctx, handle, acct)
        ctx.computation.add_log_entry(
            ACL, (EV_ALLOWED, _addr_topic(ctx.sender), _addr_topic(acct)), handle
        )

    @method("allowTransient(bytes32,address)")
    def allowTransient(self, ctx: CallContext, handle: bytes, account: str) -> None:
        self._require_allowed(ctx, handle)
        grant_transient(ctx, handle, bytes.fromhex(account[2:]))

    @method("allowForDecryption(bytes32[])")
    def allowForDecryption(self, ctx: CallContext, handles: tuple) -> None:
        if not handles:
            raise Revert("ACL: HandlesListIsEmpty")
        for h in handles:
            self._require_allowed(ctx, h)
            ctx.charge(GAS_PERSIST, "acl public decryption")
            ctx.sstore(ACL, slot(_DECRYPT, h), 1)
        data = encode(["bytes32[]"], [list(handles)])
        ctx.computation.add_log_entry(
            ACL, (EV_ALLOWED_FOR_DECRYPTION, _addr_topic(ctx.sender)), data
        )

    @method("cleanTransientStorage()")
    def cleanTransientStorage(self, ctx: CallContext) -> None:
        n = ctx.tload(ACL, _TLIST)
        for i in range(1, n + 1):
            entry = (_TLIST + i) % _MOD
            key = ctx.tload(ACL, entry)
            ctx.tstore(ACL, entry, 0)
            ctx.tstore(ACL, key, 0)
        ctx.tstore(ACL, _TLIST, 0)
        ctx.charge(GAS_TRANSIENT * 2 * n, "acl clean")

    @method("isAllowed(bytes32,address)", ["bool"], mutates=False)
    def isAllowed(self, ctx: CallContext, handle: bytes, account: str) -> bool:
        ctx.charge(GAS_READ, "acl read")
        return is_allowed(ctx, handle, bytes.fromhex(account[2:]))

    @method("allowedTransient(bytes32,address)", ["bool"], mutates=False)
    def allowedTransient(self, ctx: CallContext, handle: bytes, account: str) -> bool:
        return transient_allowed(ctx, handle, bytes.fromhex(account[2:]))

    @method("persistAllowed(bytes32,address)", ["bool"], mutates=False)
    def persistAllowed(self, ctx: CallContext, handle: bytes, account: str) -> bool:
        ctx.charge(GAS_READ, "acl read")
        return persist_allowed(ctx, handle, bytes.fromhex(account[2:]))

    @method("isAllowedForDecryption(bytes32)", ["bool"], mutates=False)
    def isAllowedForDecryption(self, ctx: CallContext, handle: bytes) -> bool:
        ctx.charge(GAS_READ, "acl read")
        return is_public(ctx, handle)

    @method("isAccountDenied(address)", ["bool"], mutates=False)
    def isAccountDenied(self, ctx: CallContext, account: str) -> bool:
        ctx.charge(GAS_READ, "acl read")
        return is_denied(ctx, bytes.fromhex(account[2:]))

    @method("delegateForUserDecryption(address,address,uint64)")
    def delegateForUserDecryption(
        self, ctx: CallContext, delegate: str, contract: str, expiration: int
    ) -> None:
        dlg, con, me = bytes.fromhex(delegate[2:]), bytes.fromhex(contract[2:]), ctx.sender
        require_not_paused(ctx)
        if expiration < ctx.timestamp + ONE_HOUR:
            raise Revert("ACL: ExpirationDateBeforeOneHour")
        old, last_block, counter = delegation(ctx, me, dlg, con)
        if last_block == ctx.block_number:
            raise Revert("ACL: AlreadyDelegatedOrRevokedInSameBlock")
        if con == me:
            raise Revert("ACL: SenderCannotBeContractAddress")
        if dlg == me:
            raise Revert("ACL: SenderCannotBeDelegate")
        if dlg == con:
            raise Revert("ACL: DelegateCannotBeContractAddress")
        if old == expiration:
            raise Revert("ACL: ExpirationDateAlreadySetToSameValue")
        ctx.charge(GAS_PERSIST, "acl delegation")
        _set_delegation(ctx, me, dlg, con, (expiration, ctx.block_number, counter + 1))
        data = encode(
            ["address", "uint64", "uint64", "uint64"], [con, counter + 1, old, expiration]
        )
        ctx.computation.add_log_entry(ACL, (EV_DELEGATED, _addr_topic(me), _addr_topic(dlg)), data)

    @method("revokeDelegationForUserDecryption(address,address)")
    def revokeDelegationForUserDecryption(
        self, ctx: CallContext, delegate: str, contract: str
    ) -> None:
        dlg, con, me = bytes.fromhex(delegate[2:]), bytes.fromhex(contract[2:]), ctx.sender
        require_not_paused(ctx)
        old, last_block, counter = delegation(ctx, me, dlg, con)
        if last_block == ctx.block_number:
            raise Revert("ACL: AlreadyDelegatedOrRevokedInSameBlock")
        if old == 0:
            raise Revert("ACL: NotDelegatedYet")
        ctx.charge(GAS_PERSIST, "acl delegation")
        _set_delegation(ctx, me, dlg, con, (0, ctx.block_number, counter + 1))
        data = encode(["address", "uint64", "uint64"], [con, counter + 1, old])
        ctx.computation.add_log_entry(ACL, (EV_REVOKED, _addr_topic(me), _addr_topic(dlg)), data)

    @method(
        "getUserDecryptionDelegationExpirationDate(address,address,address)",
        ["uint64"],
        mutates=False,
    )
    def getUserDecryptionDelegationExpirationDate(
        self, ctx: CallContext, delegator: str, delegate: str, contract: str
    ) -> int:
        args = (bytes.fromhex(a[2:]) for a in (delegator, delegate, contract))
        return delegation(ctx, *args)[0]

    @method(
        "isHandleDelegatedForUserDecryption(address,address,address,bytes32)",
        ["bool"],
        mutates=False,
    )
    def isHandleDelegatedForUserDecryption(
        self, ctx: CallContext, delegator: str, delegate: str, contract: str, handle: bytes
    ) -> bool:
        d, g, c = (bytes.fromhex(a[2:]) for a in (delegator, delegate, contract))
        return (
            persist_allowed(ctx, handle, d)
            and persist_allowed(ctx, handle, c)
            and delegation(ctx, d, g, c)[0] >= ctx.timestamp
        )

    def _require_owner(self, ctx: CallContext) -> None:
        if ctx.sload(ACL, OWNER_SLOT) != int.from_bytes(ctx.sender, "big"):
            raise Revert(f"ACL: OwnableUnauthorizedAccount: {_hex(ctx.sender)}")

    @method("owner()", ["address"], mutates=False)
    def owner(self, ctx: CallContext) -> bytes:
        return ctx.sload(ACL, OWNER_SLOT).to_bytes(20, "big")

    @method("blockAccount(address)")
    def blockAccount(self, ctx: CallContext, account: str) -> None:
        self._require_owner(ctx)
        acct = bytes.fromhex(account[2:])
        if is_denied(ctx, acct):
            raise Revert("ACL: AccountAlreadyBlocked")
        ctx.sstore(ACL, slot(_DENY, acct), 1)
        ctx.computation.add_log_entry(ACL, (EV_BLOCKED, _addr_topic(acct)), b"")

    @method("unblockAccount(address)")
    def unblockAccount(self, ctx: CallContext, account: str) -> None:
        self._require_owner(ctx)
        acct = bytes.fromhex(account[2:])
        if not is_denied(ctx, acct):
            raise Revert("ACL: AccountNotBlocked")
        ctx.sstore(ACL, slot(_DENY, acct), 0)
        ctx.computation.add_log_entry(ACL, (EV_UNBLOCKED, _addr_topic(acct)), b"")

    @method("isPauser(address)", ["bool"], mutates=False)
    def isPauser(self, ctx: CallContext, account: str) -> bool:
        return ctx.sload(ACL, OWNER_SLOT) == int(account, 16) != 0

    @method("paused()", ["bool"], mutates=False)
    def paused(self, ctx: CallContext) -> bool:
        return is_paused(ctx)

    @method("pause()")
    def pause(self, ctx: CallContext) -> None:
        """Stop every grant (and so every FHE operation) until the owner unpauses."""
        if not self.isPauser(ctx, _hex(ctx.sender)):
            raise Revert(f"ACL: NotPauser: {_hex(ctx.sender)}")
        require_not_paused(ctx)
        ctx.sstore(ACL, PAUSED_SLOT, 1)
        ctx.computation.add_log_entry(ACL, (EV_PAUSED,), encode(["address"], [ctx.sender]))

    @method("unpause()")
    def unpause(self, ctx: CallContext) -> None:
        self._require_owner(ctx)
        if not is_paused(ctx):
            raise Revert("ACL: ExpectedPause: the ACL is not paused")
        ctx.sstore(ACL, PAUSED_SLOT, 0)
        ctx.computation.add_log_entry(ACL, (EV_UNPAUSED,), encode(["address"], [ctx.sender]))

    @method("getFHEVMExecutorAddress()", ["address"], mutates=False)
    def getFHEVMExecutorAddress(self, ctx: CallContext) -> bytes:
        return addresses.EXECUTOR

    @method("getVersion()", ["string"], mutates=False)
    def getVersion(self, ctx: CallContext) -> str:
        return "ACL v0.2.0 (fhevm-py)"

    @method("multicall(bytes[])", ["bytes[]"], payable=True)
    def multicall(self, ctx: CallContext, calls: tuple) -> list[bytes]:
        """Run each call as if made directly by the caller; any failure reverts them all."""
        if ctx.depth >= MAX_MULTICALL_DEPTH:
            raise Revert("ACL: multicall nested too deep")
        if ctx.computation.msg.value:
            raise Revert("ACL: multicall does not accept value")
        return [self.run(ctx.computation, data, ctx.depth + 1) for data in calls]
