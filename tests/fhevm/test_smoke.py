import pytest
from eth_abi import decode

from fhevm.backends import BackendError
from fhevm.types import FheType
from tests.fhevm.harness import ACL, EXECUTOR, Devnet, call_data


def test_trivial_encrypt_through_probe(net: Devnet) -> None:
    h = net.trivial(7, FheType.Uint8)
    assert net.rt.decrypt(h) == 7
    assert h[21] == 0xFF and h[30] == FheType.Uint8
    assert net.is_allowed(h, net.probe)
    r = net.handle("fheAdd(bytes32,bytes32,bytes1)", h, h, b"\x00")
    assert net.rt.decrypt(r) == 14


def test_view_from_eoa(net: Devnet) -> None:
    out = net.call(EXECUTOR, call_data("getInputVerifierAddress()"))
    assert out.success
    assert (
        decode(["address"], out.output)[0].lower() == "0x36772142b74871f255cbd7a3e89b401d3e45825f"
    )
    out = net.call(ACL, call_data("isAllowed(bytes32,address)", b"\1" * 32, net.probe))
    assert out.success and decode(["bool"], out.output) == (False,)


def test_identical_operations_get_distinct_handles(net: Devnet) -> None:
    a = net.trivial(7, FheType.Uint8)
    b = net.trivial(7, FheType.Uint8)
    assert a != b and net.rt.decrypt(a) == net.rt.decrypt(b) == 7
    # The handle is no function of the value: equal values, unrelated prefixes.
    assert a[:21] != b[:21]


def test_uploaded_input_blobs_are_validated(net: Devnet) -> None:
    blob = net.rt.backend.serialize(net.rt.backend.encrypt(9, FheType.Uint16))
    (h,) = net.rt.upload_input_blobs([blob])
    assert h[21] == 0 and h[30] == FheType.Uint16 and net.rt.decrypt(h) == 9
    with pytest.raises(BackendError):
        net.rt.upload_input_blobs([b"\x03" + b"\xff" * 32])


def test_uploaded_inputs_may_bring_their_own_handles(net: Devnet) -> None:
    from fhevm import handles

    ct = net.rt.backend.encrypt(3, FheType.Uint32)
    mine = handles.pack(b"\x42" * 21, 0, 31337, FheType.Uint32)
    assert net.rt.upload_inputs([ct], [mine]) == [mine] and net.rt.decrypt(mine) == 3
    wrong_type = handles.pack(b"\x43" * 21, 0, 31337, FheType.Uint64)
    with pytest.raises(ValueError):
        net.rt.upload_inputs([ct], [wrong_type])


def test_service_addresses_have_code_and_signers_in_genesis(net: Devnet) -> None:
    from fhevm import addresses

    state = net.chain.get_vm().state
    for a in (addresses.ACL, addresses.EXECUTOR, addresses.KMS_VERIFIER, addresses.INPUT_VERIFIER):
        assert state.get_code(a) == addresses.PLACEHOLDER_CODE
    assert net.view(addresses.KMS_VERIFIER, "getThreshold()", returns="uint256") == 2
