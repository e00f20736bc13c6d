from eth_abi import decode

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
