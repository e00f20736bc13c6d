"""Events of the executor and the ACL, as indexers watching Zama's contracts expect them.

The expected ABIs below are written from the event declarations of @fhevm/host-contracts
0.10.0 (FHEEvents.sol, ACLEvents.sol), independently of fhevm/: topic0 is the keccak of
the canonical signature, indexed parameters are topics, the rest is ABI-encoded data.
Each kind of event is produced by a real Solidity call (the FHETest harnesses and the
FHE library) and decoded with eth-abi against these declarations.
"""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak

from fhevm.types import FheType
from tests.fhevm.harness import ACL, EXECUTOR, Devnet, call_data, deploy_artifact

# name -> [(type, name, indexed)]; FheType is an enum, uint8 in the ABI.
_BIN = [("bytes32", "lhs", 0), ("bytes32", "rhs", 0), ("bytes1", "scalarByte", 0),
        ("bytes32", "result", 0)]  # fmt: skip
_CALLER = [("address", "caller", 1)]
EXECUTOR_ABI: dict[str, list[tuple[str, str, int]]] = {
    **{
        n: _CALLER + _BIN
        for n in (
            "FheAdd", "FheSub", "FheMul", "FheDiv", "FheRem", "FheBitAnd", "FheBitOr",
            "FheBitXor", "FheShl", "FheShr", "FheRotl", "FheRotr", "FheEq", "FheNe", "FheGe",
            "FheGt", "FheLe", "FheLt", "FheMin", "FheMax",
        )
    },
    "FheNeg": _CALLER + [("bytes32", "ct", 0), ("bytes32", "result", 0)],
    "FheNot": _CALLER + [("bytes32", "ct", 0), ("bytes32", "result", 0)],
    "VerifyInput": _CALLER + [("bytes32", "inputHandle", 0), ("address", "userAddress", 0),
                              ("bytes", "inputProof", 0), ("uint8", "inputType", 0),
                              ("bytes32", "result", 0)],
    "Cast": _CALLER + [("bytes32", "ct", 0), ("uint8", "toType", 0), ("bytes32", "result", 0)],
    "TrivialEncrypt": _CALLER + [("uint256", "pt", 0), ("uint8", "toType", 0),
                                 ("bytes32", "result", 0)],
    "FheIfThenElse": _CALLER + [("bytes32", "control", 0), ("bytes32", "ifTrue", 0),
                                ("bytes32", "ifFalse", 0), ("bytes32", "result", 0)],
    "FheRand": _CALLER + [("uint8", "randType", 0), ("bytes16", "seed", 0),
                          ("bytes32", "result", 0)],
    "FheRandBounded": _CALLER + [("uint256", "upperBound", 0), ("uint8", "randType", 0),
                                 ("bytes16", "seed", 0), ("bytes32", "result", 0)],
    # our extensions (no Zama counterpart): arguments of the call, then the result
    "FheSum": _CALLER + [("bytes32[]", "values", 0), ("uint8", "resultType", 0),
                         ("bytes32", "result", 0)],
    "FheIsIn": _CALLER + [("bytes32", "value", 0), ("bytes32[]", "values", 0),
                          ("uint8", "valueType", 0), ("bytes32", "result", 0)],
}  # fmt: skip
ACL_ABI: dict[str, list[tuple[str, str, int]]] = {
    "Allowed": [("address", "caller", 1), ("address", "account", 1), ("bytes32", "handle", 0)],
    "AllowedForDecryption": [("address", "caller", 1), ("bytes32[]", "handlesList", 0)],
    "DelegatedForUserDecryption": [
        ("address", "delegator", 1), ("address", "delegate", 1),
        ("address", "contractAddress", 0), ("uint64", "delegationCounter", 0),
        ("uint64", "oldExpirationDate", 0), ("uint64", "newExpirationDate", 0),
    ],
    "RevokedDelegationForUserDecryption": [
        ("address", "delegator", 1), ("address", "delegate", 1),
        ("address", "contractAddress", 0), ("uint64", "delegationCounter", 0),
        ("uint64", "oldExpirationDate", 0),
    ],
    "BlockedAccount": [("address", "account", 1)],
    "UnblockedAccount": [("address", "account", 1)],
    # inherited from OpenZeppelin's PausableUpgradeable
    "Paused": [("address", "account", 0)],
    "Unpaused": [("address", "account", 0)],
}  # fmt: skip


def _topic0(name: str, params: list[tuple[str, str, int]]) -> int:
    return int.from_bytes(keccak(text=f"{name}({','.join(t for t, _, _ in params)})"), "big")


_BY_TOPIC = {
    (emitter, _topic0(n, p)): (n, p)
    for emitter, abi in ((EXECUTOR, EXECUTOR_ABI), (ACL, ACL_ABI))
    for n, p in abi.items()
}


def decoded(logs: list, emitter: bytes) -> list[tuple[str, dict]]:
    """(event name, {param: value}) of every log of `emitter`, decoded with the ABI above;
    a log that matches no declaration fails the test."""
    out = []
    for address, topics, data in logs:
        if address != emitter:
            continue
        assert (emitter, topics[0]) in _BY_TOPIC, f"undeclared event topic {topics[0]:#x}"
        name, params = _BY_TOPIC[(emitter, topics[0])]
        indexed = [(t, n) for t, n, i in params if i]
        plain = [(t, n) for t, n, i in params if not i]
        assert len(topics) == 1 + len(indexed), name
        values = {
            n: decode([t], v.to_bytes(32, "big"))[0]
            for (t, n), v in zip(indexed, topics[1:], strict=True)
        }
        values.update(zip([n for _, n in plain], decode([t for t, _ in plain], data), strict=True))
        out.append((name, values))
    return out


def addr(b: bytes) -> str:
    return "0x" + b.hex()


class Harness:
    def __init__(self) -> None:
        self.net = Devnet("clear")
        self.u8 = deploy_artifact(self.net, "FHETestEuint8")
        self.acl = deploy_artifact(self.net, "FHETestACL")

    def run(self, contract: bytes, signature: str, *args: object) -> tuple[bytes, list]:
        out = self.net.send(contract, call_data(signature, *args))
        assert out.success, out.reason
        return decode(["bytes32"], out.output)[0] if out.output else b"", out.logs


@pytest.fixture(scope="module")
def hx() -> Harness:
    return Harness()


def test_executor_declares_every_event_of_the_abi() -> None:
    from fhevm.executor import EVENTS

    assert set(EVENTS) == set(EXECUTOR_ABI)
    for name, params in EXECUTOR_ABI.items():
        assert EVENTS[name].topic0 == _topic0(name, params), name


def _trivials(events: list) -> list[bytes]:
    return [v["result"] for n, v in events if n == "TrivialEncrypt"]


def test_binary_events_encrypted_and_plaintext_operand(hx: Harness) -> None:
    me = addr(hx.u8)
    r, logs = hx.run(hx.u8, "binary(uint8,uint8,uint8)", 0, 200, 100)
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt", "TrivialEncrypt", "FheAdd"]
    (a, b) = _trivials(ev)
    assert ev[0][1] == {"caller": me, "pt": 200, "toType": int(FheType.Uint8), "result": a}
    assert ev[1][1]["pt"] == 100
    assert ev[2][1] == {"caller": me, "lhs": a, "rhs": b, "scalarByte": b"\x00", "result": r}
    assert hx.net.rt.decrypt(r) == 44
    # a plaintext right operand: rhs carries the value itself, scalarByte is 0x01
    r, logs = hx.run(hx.u8, "binaryScalar(uint8,uint8,uint8)", 11, 9, 3)  # lt
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt", "FheLt"]
    want = {"caller": me, "lhs": ev[0][1]["result"], "rhs": (3).to_bytes(32, "big"),
            "scalarByte": b"\x01", "result": r}  # fmt: skip
    assert ev[1][1] == want


@pytest.mark.parametrize("op,event", [(0, "FheNeg"), (1, "FheNot")])
def test_unary_events(hx: Harness, op: int, event: str) -> None:
    r, logs = hx.run(hx.u8, "unary(uint8,uint8)", op, 5)
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt", event]
    assert ev[1][1] == {"caller": addr(hx.u8), "ct": ev[0][1]["result"], "result": r}


def test_cast_select_events(hx: Harness) -> None:
    me = addr(hx.u8)
    r, logs = hx.run(hx.u8, "cast(uint8,uint8)", int(FheType.Uint32), 250)
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt", "Cast"]
    want = {"caller": me, "ct": ev[0][1]["result"], "toType": int(FheType.Uint32), "result": r}
    assert ev[1][1] == want
    r, logs = hx.run(hx.u8, "select(bool,uint8,uint8)", True, 1, 2)
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt"] * 3 + ["FheIfThenElse"]
    assert ev[0][1]["toType"] == int(FheType.Bool) and ev[0][1]["pt"] == 1
    c, a, b = _trivials(ev)
    assert ev[3][1] == {"caller": me, "control": c, "ifTrue": a, "ifFalse": b, "result": r}


def test_rand_events_carry_a_fresh_public_seed(hx: Harness) -> None:
    me = addr(hx.u8)
    r1, logs = hx.run(hx.u8, "rand()")
    ((name, v1),) = decoded(logs, EXECUTOR)
    assert name == "FheRand"
    assert v1["caller"] == me and v1["randType"] == int(FheType.Uint8) and v1["result"] == r1
    r2, logs = hx.run(hx.u8, "randBounded(uint8)", 16)
    ((name, v2),) = decoded(logs, EXECUTOR)
    assert name == "FheRandBounded"
    assert (v2["upperBound"], v2["randType"], v2["result"]) == (16, int(FheType.Uint8), r2)
    assert len(v1["seed"]) == 16 and v1["seed"] != v2["seed"]  # a 2**-128 event otherwise


def test_sum_and_is_in_events(hx: Harness) -> None:
    me = addr(hx.u8)
    r, logs = hx.run(hx.u8, "sum(uint8[])", [1, 2, 3])
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt"] * 3 + ["FheSum"]
    want = {"caller": me, "values": tuple(_trivials(ev)), "resultType": int(FheType.Uint8),
            "result": r}  # fmt: skip
    assert ev[3][1] == want
    r, logs = hx.run(hx.u8, "isIn(uint8,uint8[])", 7, [1, 7])
    ev = decoded(logs, EXECUTOR)
    assert [n for n, _ in ev] == ["TrivialEncrypt"] * 3 + ["FheIsIn"]
    value, *members = _trivials(ev)
    want = {"caller": me, "value": value, "values": tuple(members),
            "valueType": int(FheType.Uint8), "result": r}  # fmt: skip
    assert ev[3][1] == want and hx.net.rt.decrypt(r) == 1


def test_verify_input_event(hx: Harness) -> None:
    net = hx.net
    user = net.address(net.alice)
    handles, proof = net.encrypt_inputs([(77, FheType.Uint8)], user, hx.u8)
    r, logs = hx.run(hx.u8, "input(bytes32,bytes)", handles[0], proof)
    ((name, v),) = decoded(logs, EXECUTOR)
    want = {"caller": addr(hx.u8), "inputHandle": handles[0], "userAddress": addr(user),
            "inputProof": proof, "inputType": int(FheType.Uint8), "result": handles[0]}  # fmt: skip
    assert name == "VerifyInput" and v == want and r == handles[0]


def test_acl_events(hx: Harness) -> None:
    net, me = hx.net, addr(hx.acl)
    alice, bob = net.address(net.alice), net.address(net.bob)
    h, logs = hx.run(hx.acl, "encryptPrivate(uint64)", 9)
    assert decoded(logs, ACL) == [("Allowed", {"caller": me, "account": me, "handle": h})]
    _, logs = hx.run(hx.acl, "allow(bytes32,address)", h, bob)
    assert decoded(logs, ACL) == [("Allowed", {"caller": me, "account": addr(bob), "handle": h})]
    _, logs = hx.run(hx.acl, "allowTransient(bytes32,address)", h, bob)
    assert decoded(logs, ACL) == []  # Zama's allowTransient emits nothing either
    _, logs = hx.run(hx.acl, "makePubliclyDecryptable(bytes32)", h)
    assert decoded(logs, ACL) == [("AllowedForDecryption", {"caller": me, "handlesList": (h,)})]

    now = net.chain.get_canonical_head().timestamp
    _, logs = hx.run(hx.acl, "delegate(address,address,uint64)", bob, hx.u8, now + 7200)
    want = {"delegator": me, "delegate": addr(bob), "contractAddress": addr(hx.u8),
            "delegationCounter": 1, "oldExpirationDate": 0,
            "newExpirationDate": now + 7200}  # fmt: skip
    assert decoded(logs, ACL) == [("DelegatedForUserDecryption", want)]
    _, logs = hx.run(hx.acl, "revoke(address,address)", bob, hx.u8)
    want = {"delegator": me, "delegate": addr(bob), "contractAddress": addr(hx.u8),
            "delegationCounter": 2, "oldExpirationDate": now + 7200}  # fmt: skip
    assert decoded(logs, ACL) == [("RevokedDelegationForUserDecryption", want)]

    # The deny list and the pause switch are the owner's (an account, not a contract).
    for fn, event in (("blockAccount", "BlockedAccount"), ("unblockAccount", "UnblockedAccount")):
        out = net.send(ACL, call_data(f"{fn}(address)", alice), sender=net.owner_key)
        assert out.success and decoded(out.logs, ACL) == [(event, {"account": addr(alice)})]
    owner = addr(net.address(net.owner_key))
    for fn, event in (("pause", "Paused"), ("unpause", "Unpaused")):
        out = net.send(ACL, call_data(f"{fn}()"), sender=net.owner_key)
        assert out.success and decoded(out.logs, ACL) == [(event, {"account": owner})]


def test_reverted_frames_emit_nothing(hx: Harness) -> None:
    net = hx.net
    inner = call_data("trivialEncrypt(uint256,uint8)", 42, int(FheType.Uint64))
    out = net.send(net.probe, call_data("compute(bytes)", inner))
    assert [n for n, _ in decoded(out.logs, EXECUTOR)] == ["TrivialEncrypt"]
    assert [n for n, _ in decoded(out.logs, ACL)] == ["Allowed", "Allowed"]
    # The inner frame computes, allows, then reverts; the outer frame succeeds.
    out = net.send(net.probe, call_data("tryComputeThenRevert(bytes)", inner))
    assert out.success and decode(["bool"], out.output) == (False,)
    assert out.logs == []
    # The whole transaction reverts.
    out = net.send(net.probe, call_data("computeThenRevert(bytes)", inner))
    assert not out.success and out.logs == []
    # A call the executor refuses emits nothing.
    out = hx.net.send(hx.u8, call_data("binaryScalar(uint8,uint8,uint8)", 14, 7, 0))  # x / 0
    assert not out.success and "DivisionByZero" in out.reason and out.logs == []
