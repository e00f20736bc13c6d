"""Random calldata to every precompile: only reverts or results, never a crash, and never
a ciphertext left behind by a call that failed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhevm.abi import decode_reason
from fhevm.types import FheType
from tests.fhevm.harness import Devnet, call_data, sel

NET = Devnet("clear")
POOL = [
    NET.trivial(v, t)
    for v, t in [(3, FheType.Uint8), (1, FheType.Bool), (9, FheType.Uint64), (2, FheType.Uint256)]
]
PRECOMPILES = {p.address: p for p in NET.rt.precompiles().values()}
ACCOUNTS = [NET.probe, NET.address(NET.alice), b"\0" * 20]

handle_like = st.builds(
    lambda h, t, c: h[:22] + c.to_bytes(8, "big") + bytes([t, 0]),
    st.sampled_from(POOL),
    st.integers(0, 10),
    st.sampled_from([31337, 1]),
)
b32 = st.one_of(st.sampled_from(POOL), handle_like, st.binary(min_size=32, max_size=32))
address = st.one_of(st.sampled_from(ACCOUNTS), st.binary(min_size=20, max_size=20))
uint256 = st.one_of(
    st.integers(0, 300), st.integers(0, 8).map(lambda k: 1 << (8 * k)), st.integers(0, 2**256 - 1)
)
ARG = {
    "bytes32": b32,
    "bytes1": st.one_of(st.sampled_from([b"\0", b"\1"]), st.binary(min_size=1, max_size=1)),
    "uint8": st.one_of(st.integers(0, 9), st.integers(0, 255)),
    "uint64": st.integers(0, 2**64 - 1),
    "uint256": uint256,
    "address": address,
    "bytes": st.binary(max_size=300),
    "bytes32[]": st.lists(b32, max_size=4),
    "address[]": st.lists(address, max_size=4),
    "bytes[]": st.lists(st.binary(max_size=120), max_size=3),
}


@st.composite
def calldata(draw: st.DrawFn) -> tuple[bytes, bytes]:
    target = draw(st.sampled_from(sorted(PRECOMPILES)))
    signature = draw(st.sampled_from(sorted(PRECOMPILES[target].signatures())))
    types = signature[signature.index("(") + 1 : -1]
    args = [draw(ARG[t]) for t in types.split(",")] if types else []
    data = call_data(signature, *args)
    mutation = draw(st.sampled_from(["none", "none", "truncate", "append", "random", "selector"]))
    if mutation == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif mutation == "append":
        data += draw(st.binary(max_size=64))
    elif mutation == "random":
        data = sel(signature) + draw(st.binary(max_size=200))
    elif mutation == "selector":
        data = draw(st.binary(max_size=80))
    return target, data


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(call=calldata(), via_probe=st.booleans())
def test_random_calldata_only_reverts(call: tuple[bytes, bytes], via_probe: bool) -> None:
    target, data = call
    blobs_before = dict(NET.blob_db)
    if via_probe:  # the probe holds permissions on POOL: deeper paths get exercised
        out = NET.send(NET.probe, call_data("exec(address,bytes)", target, data))
    else:
        out = NET.send(target, data)
    if not out.success:
        reason = decode_reason(out.output)
        assert reason, out.output  # a reason, not an empty failure
        assert "internal error" not in reason
        assert NET.blob_db == blobs_before
    assert NET.rt.store.pending_count() == 0
