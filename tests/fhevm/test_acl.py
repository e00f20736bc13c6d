"""ACL rules: permissions on operands, persistence, transience, public decryption,
the deny list, user-decryption delegation and multicall."""

from __future__ import annotations

from eth_abi import decode, encode

from fhevm.types import FheType
from tests.fhevm.harness import ACL, EXECUTOR, Devnet, call_data, sel

ADD = "fheAdd(bytes32,bytes32,bytes1)"


def probe_exec(net: Devnet, target: bytes, data: bytes, sender=None):  # noqa: ANN001, ANN201
    return net.send(net.probe, call_data("exec(address,bytes)", target, data), sender=sender)


def test_operand_without_permission_reverts(net: Devnet) -> None:
    h = net.trivial(3, FheType.Uint8)
    # Alice holds a persistent permission (the probe gave it to tx.origin); Bob does not.
    out = net.send(EXECUTOR, call_data(ADD, h, h, b"\x00"), sender=net.bob)
    assert not out.success and "ACLNotAllowed" in out.reason
    out = net.send(EXECUTOR, call_data(ADD, h, h, b"\x00"), sender=net.alice)
    assert out.success


def test_allow_requires_permission_and_persists(net: Devnet) -> None:
    h = net.trivial(3, FheType.Uint16)
    bob = net.address(net.bob)
    out = net.send(ACL, call_data("allow(bytes32,address)", h, bob), sender=net.bob)
    assert not out.success and "SenderNotAllowed" in out.reason
    assert not net.view(ACL, "persistAllowed(bytes32,address)", h, bob)
    out = probe_exec(net, ACL, call_data("allow(bytes32,address)", h, bob))
    assert out.success
    assert net.view(ACL, "persistAllowed(bytes32,address)", h, bob)
    assert net.is_allowed(h, bob)
    topics = out.logs[0][1]
    assert topics[1] == int.from_bytes(net.probe, "big") and topics[2] == int.from_bytes(bob, "big")


def test_transient_permission_lasts_one_transaction(net: Devnet) -> None:
    a = net.trivial(5, FheType.Uint32)
    out = net.send(net.probe, call_data("computeTransient(bytes)", call_data(ADD, a, a, b"\x00")))
    assert out.success
    r = decode(["bytes32"], out.output)[0]
    assert net.rt.decrypt(r) == 10  # the ciphertext exists ...
    assert not net.is_allowed(r, net.probe)  # ... but nobody kept a permission
    out = net.compute(ADD, r, r, b"\x00")
    assert not out.success and "ACLNotAllowed" in out.reason
    # Within one transaction the transient grant is enough to chain operations.
    out = net.send(net.probe, call_data("computeTwice(bytes4,bytes32,bytes32)", sel(ADD), a, a))
    assert out.success and net.rt.decrypt(decode(["bytes32"], out.output)[0]) == 20


def test_allow_transient_and_clean_transient_storage(net: Devnet) -> None:
    h = net.trivial(1, FheType.Bool)
    bob = net.address(net.bob)
    out = net.send(ACL, call_data("allowTransient(bytes32,address)", h, bob), sender=net.bob)
    assert not out.success and "SenderNotAllowed" in out.reason
    out = net.send(net.probe, call_data("grantTransientAndCheck(bytes32,address)", h, bob))
    assert out.success and decode(["bool"], out.output) == (True,)
    assert not net.is_allowed(h, bob)  # gone with the transaction
    # cleanTransientStorage wipes grants made earlier in the same transaction.
    a = net.trivial(5, FheType.Uint8)
    inner = call_data(ADD, a, a, b"\x00")
    out = net.send(net.probe, call_data("computeCleanUse(bytes,bytes4)", inner, sel(ADD)))
    assert not out.success and "ACLNotAllowed" in out.reason


def test_public_decryption_marks(net: Devnet) -> None:
    h = net.trivial(9, FheType.Uint64)
    out = probe_exec(net, ACL, call_data("allowForDecryption(bytes32[])", []))
    assert not out.success and "HandlesListIsEmpty" in out.reason
    out = net.send(ACL, call_data("allowForDecryption(bytes32[])", [h]), sender=net.bob)
    assert not out.success and "SenderNotAllowed" in out.reason
    assert not net.view(ACL, "isAllowedForDecryption(bytes32)", h)
    out = probe_exec(net, ACL, call_data("allowForDecryption(bytes32[])", [h]))
    assert out.success and net.view(ACL, "isAllowedForDecryption(bytes32)", h)


def test_deny_list(net: Devnet) -> None:
    h = net.trivial(2, FheType.Uint8)
    out = net.send(ACL, call_data("blockAccount(address)", net.probe), sender=net.bob)
    assert not out.success and "Unauthorized" in out.reason
    out = net.send(ACL, call_data("blockAccount(address)", net.probe), sender=net.owner_key)
    assert out.success and net.view(ACL, "isAccountDenied(address)", net.probe)
    out = probe_exec(net, ACL, call_data("allow(bytes32,address)", h, net.address(net.bob)))
    assert not out.success and "SenderDenied" in out.reason
    out = net.send(ACL, call_data("blockAccount(address)", net.probe), sender=net.owner_key)
    assert not out.success and "AlreadyBlocked" in out.reason
    out = net.send(ACL, call_data("unblockAccount(address)", net.probe), sender=net.owner_key)
    assert out.success and not net.view(ACL, "isAccountDenied(address)", net.probe)
    owner = net.view(ACL, "owner()", returns="address")
    assert bytes.fromhex(owner[2:]) == net.address(net.owner_key)


def test_user_decryption_delegation(net: Devnet) -> None:
    alice, bob = net.address(net.alice), net.address(net.bob)
    contract = net.probe
    now = net.chain.get_canonical_head().timestamp
    delegate = "delegateForUserDecryption(address,address,uint64)"
    out = net.send(ACL, call_data(delegate, bob, contract, now + 60))
    assert not out.success and "ExpirationDateBeforeOneHour" in out.reason
    out = net.send(ACL, call_data(delegate, alice, contract, now + 7200))
    assert not out.success and "SenderCannotBeDelegate" in out.reason
    out = net.send(ACL, call_data(delegate, bob, contract, now + 7200))
    assert out.success
    expiry = net.view(
        ACL,
        "getUserDecryptionDelegationExpirationDate(address,address,address)",
        alice,
        bob,
        contract,
        returns="uint64",
    )
    assert expiry == now + 7200
    h = net.trivial(4, FheType.Uint8)  # the probe allowed itself and alice (tx.origin)
    check = "isHandleDelegatedForUserDecryption(address,address,address,bytes32)"
    assert net.view(ACL, check, alice, bob, contract, h)
    assert not net.view(ACL, check, bob, alice, contract, h)
    revoke = "revokeDelegationForUserDecryption(address,address)"
    out = net.send(ACL, call_data(revoke, bob, contract))
    assert out.success and not net.view(ACL, check, alice, bob, contract, h)
    out = net.send(ACL, call_data(revoke, bob, contract))
    assert not out.success and "NotDelegatedYet" in out.reason


def test_multicall_is_atomic(net: Devnet) -> None:
    bob = net.address(net.bob)
    now = net.chain.get_canonical_head().timestamp
    c1, c2 = b"\xc1" * 20, b"\xc2" * 20
    delegate = "delegateForUserDecryption(address,address,uint64)"
    calls = [call_data(delegate, bob, c1, now + 7200), call_data(delegate, bob, c2, now + 7200)]
    out = net.send(ACL, call_data("multicall(bytes[])", calls))
    assert out.success
    assert len(decode(["bytes[]"], out.output)[0]) == 2
    get = "getUserDecryptionDelegationExpirationDate(address,address,address)"
    alice = net.address(net.alice)
    assert net.view(ACL, get, alice, bob, c2, returns="uint64") == now + 7200
    # A failing member reverts the whole batch, with its reason.
    c3 = b"\xc3" * 20
    calls = [call_data(delegate, bob, c3, now + 7200), call_data(delegate, bob, c3, now)]
    out = net.send(ACL, call_data("multicall(bytes[])", calls))
    assert not out.success and "ExpirationDateBeforeOneHour" in out.reason
    assert net.view(ACL, get, alice, bob, c3, returns="uint64") == 0


def test_call_context_rules(net: Devnet) -> None:
    h = net.trivial(6, FheType.Uint8)
    # Static calls may read, not write.
    out = net.send(
        net.probe,
        call_data(
            "execStatic(address,bytes)", ACL, call_data("isAllowed(bytes32,address)", h, net.probe)
        ),
    )
    assert out.success
    out = net.send(
        net.probe, call_data("execStatic(address,bytes)", EXECUTOR, call_data(ADD, h, h, b"\x00"))
    )
    assert not out.success and "static call" in out.reason
    # DELEGATECALL would let a contract act as its caller: refused.
    out = net.send(
        net.probe,
        call_data(
            "execDelegate(address,bytes)", ACL, call_data("allow(bytes32,address)", h, net.probe)
        ),
    )
    assert not out.success and "delegatecall" in out.reason
    # Value sent to a non-payable function reverts.
    out = net.send(EXECUTOR, call_data("getInputVerifierAddress()"), value=1)
    assert not out.success and "payable" in out.reason


def test_executor_operand_checks(net: Devnet) -> None:
    a = net.trivial(6, FheType.Uint8)
    b = net.trivial(6, FheType.Uint16)
    out = net.compute(ADD, a, b, b"\x00")
    assert not out.success and "IncompatibleTypes" in out.reason
    out = net.compute(ADD, a, a, b"\x02")
    assert not out.success and "ScalarByteIsNotBoolean" in out.reason
    foreign = a[:22] + (1).to_bytes(8, "big") + a[30:]
    out = net.compute(ADD, foreign, a, b"\x00")
    assert not out.success and "chain" in out.reason
    unknown = bytes(21) + a[21:]
    out = net.compute(ADD, unknown, a, b"\x00")
    assert not out.success and "unknown handle" in out.reason
    bad_type = a[:30] + b"\x63\x00"
    out = net.compute(ADD, bad_type, a, b"\x00")
    assert not out.success and "type" in out.reason
    out = net.compute("fheAdd(bytes32,bytes32,bytes1)", b, b, b"\x00")
    assert out.success
    e256 = net.trivial(1, FheType.Uint256)
    out = net.compute(ADD, e256, e256, b"\x00")
    assert not out.success and "UnsupportedType" in out.reason
    out = net.compute("cast(bytes32,uint8)", a, int(FheType.Uint8))
    assert not out.success and "InvalidType" in out.reason
    out = net.compute("cast(bytes32,uint8)", a, int(FheType.Bool))
    assert not out.success and "UnsupportedType" in out.reason
    out = net.compute("fheIfThenElse(bytes32,bytes32,bytes32)", a, a, a)
    assert not out.success and "control must be Bool" in out.reason
    out = net.compute("fheRandBounded(uint256,uint8)", 3, int(FheType.Uint8))
    assert not out.success and "NotPowerOfTwo" in out.reason
    out = net.compute("fheRandBounded(uint256,uint8)", 512, int(FheType.Uint8))
    assert not out.success and "UpperBoundAboveMaxTypeValue" in out.reason
    out = net.compute("trivialEncrypt(uint256,uint8)", 1, 200)
    assert not out.success and "malformed" in out.reason
    raw = sel(ADD) + encode(["bytes32"], [a])  # truncated calldata
    out = net.send(EXECUTOR, raw)
    assert not out.success and "malformed calldata" in out.reason
    out = net.send(EXECUTOR, b"\xde\xad\xbe\xef")
    assert not out.success and "unknown function" in out.reason


def test_multicall_nesting_is_bounded(net: Devnet) -> None:
    data = call_data("multicall(bytes[])", [])
    for _ in range(3):
        data = call_data("multicall(bytes[])", [data])
    assert net.send(ACL, data).success  # four levels
    out = net.send(ACL, call_data("multicall(bytes[])", [data]))
    assert not out.success and "nested too deep" in out.reason
    out = net.send(ACL, call_data("multicall(bytes[])", []), value=1)
    assert not out.success and "value" in out.reason


def test_pause_stops_grants_and_fhe_work(net: Devnet) -> None:
    h = net.trivial(2, FheType.Uint8)
    bob = net.address(net.bob)
    out = net.send(ACL, call_data("pause()"), sender=net.bob)
    assert not out.success and "NotPauser" in out.reason
    assert net.view(ACL, "isPauser(address)", net.address(net.owner_key))
    assert not net.view(ACL, "isPauser(address)", bob)
    assert net.send(ACL, call_data("pause()"), sender=net.owner_key).success
    assert net.view(ACL, "paused()")
    out = net.send(ACL, call_data("pause()"), sender=net.owner_key)
    assert not out.success and "EnforcedPause" in out.reason
    n_blobs = len(net.blob_db)
    for data in (
        call_data(ADD, h, h, b"\x00"),  # the result could not be granted: no FHE work
        call_data("trivialEncrypt(uint256,uint8)", 1, int(FheType.Uint8)),
    ):
        out = net.send(EXECUTOR, data)
        assert not out.success and "EnforcedPause" in out.reason
    out = probe_exec(net, ACL, call_data("allow(bytes32,address)", h, bob))
    assert not out.success and "EnforcedPause" in out.reason
    assert len(net.blob_db) == n_blobs
    assert net.is_allowed(h, net.probe)  # reads still work
    out = net.send(ACL, call_data("unpause()"), sender=net.bob)
    assert not out.success and "OwnableUnauthorizedAccount" in out.reason
    assert net.send(ACL, call_data("unpause()"), sender=net.owner_key).success
    out = net.send(ACL, call_data("unpause()"), sender=net.owner_key)
    assert not out.success and "ExpectedPause" in out.reason
    assert net.compute(ADD, h, h, b"\x00").success
