"""The node's squash service (node.kms.squasher) and its wire format, on INSECURE_ test
keys: one batched squash shared by concurrent requests, a bounded cache, clear errors, and
parties that refuse squashed ciphertexts of the wrong shape."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets

import numpy as np
import pytest

from fhevm.backends.tfhe import TfheBackend
from fhevm.client import opening
from node.kms import squashing
from node.kms.params import INSECURE_SQUASH_TEST_PARAMS, load_squash_key, squash_parameters
from node.kms.party import NodeSource
from node.kms.squasher import SquashBusy, Squasher, SquashError
from tfhe import INSECURE_TEST_PARAMS, generate_keys
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng
from tfhe.integer import IntegerClientKey

CODES = {1: 0, 8: 2, 16: 3, 64: 5}


class Cfg:
    ks_base_log = INSECURE_TEST_PARAMS.ks_base_log
    ks_level = INSECURE_TEST_PARAMS.ks_level
    squash_params = "INSECURE_SQUASH_TEST_PARAMS"


@pytest.fixture(scope="module")
def keys():
    ck, sk = generate_keys(INSECURE_TEST_PARAMS)
    rng = Csprng.from_os()
    sec = sq.SquashSecretKey.generate(rng.fork(b"s"), INSECURE_SQUASH_TEST_PARAMS)
    return ck, sk, sec, sq.generate_squash_key(ck.lwe_key, sec, rng.fork(b"k"))


def _handle(bits: int) -> bytes:
    return secrets.token_bytes(30) + bytes([CODES[bits], 0])


def _blobs(ck, sk, values: dict[int, int]) -> tuple[dict[bytes, bytes], dict[bytes, int]]:
    backend, client = TfheBackend(sk, ck), IntegerClientKey(ck)
    blobs, truth = {}, {}
    for bits, v in values.items():
        h = _handle(bits)
        blobs[h] = backend.serialize(client.encrypt(v, bits))
        truth[h] = v
    return blobs, truth


def _decrypt(sec, groups, lwes, bits: int) -> int:
    pts = []
    for lwe in lwes:
        hi = np.array([x >> 64 for x in lwe], np.uint64)
        lo = np.array([x & (2**64 - 1) for x in lwe], np.uint64)
        pts.append(sq.decode128(sq.phase128(sec.lwe_key, hi, lo), sec.params))
    return opening.assemble(groups, pts, bits)


def test_concurrent_requests_share_one_batched_squash(keys) -> None:
    ck, sk, sec, key = keys
    blobs, truth = _blobs(ck, sk, {1: 1, 8: 0xA5, 64: 0x0123456789ABCDEF})
    s = Squasher("/nonexistent", Cfg(), blobs.get, keys=(sk.ksk, key))
    handles = list(blobs)
    absent = _handle(8)

    async def go():
        return await asyncio.gather(*(s.squashed(handles + [absent]) for _ in range(4)))

    answers = asyncio.run(go())
    assert s.squash_calls == 1  # 4 "parties", 3 handles: one batched call
    for ans in answers:
        assert ans[-1] is None
        assert all(a is b for a, b in zip(ans[:-1], answers[0][:-1], strict=True))
    for h, sc in zip(handles, answers[0], strict=False):
        bits = squashing.TYPE_BITS[h[30]]
        groups, lwes = squashing.decode_squashed(sc.to_json(), bits,
                                                 INSECURE_SQUASH_TEST_PARAMS.lwe_dimension)
        assert (groups, lwes) == sc.as_ints()
        assert _decrypt(sec, groups, lwes, bits) == truth[h]
    asyncio.run(s.squashed(handles))  # cached: no new squash
    assert s.squash_calls == 1


def test_cache_is_bounded_and_batches_are_split(keys) -> None:
    ck, sk, _, key = keys
    blobs, _ = _blobs(ck, sk, {16: 1, 64: 2})  # 4 + 16 squashed LWEs (packed pairs)
    s = Squasher("/nonexistent", Cfg(), blobs.get, max_cached_lwes=16, max_batch_lwes=8,
                 keys=(sk.ksk, key))
    h16, h64 = blobs
    asyncio.run(s.squashed([h16, h64]))
    assert s.squash_calls == 2  # 8 + 32 blocks: over the 8-block limit, two calls
    assert s.cached(h16) is None and s.cached(h64) is not None  # oldest evicted
    asyncio.run(s.squashed([h16]))
    assert s.squash_calls == 3


def test_backlog_is_bounded(keys) -> None:
    """Work queued for handles anyone may name is bounded: beyond it a request is refused at
    once (SquashBusy), a request for a handle already queued still waits for it, and the
    backlog frees up as squashes finish."""
    ck, sk, _, key = keys
    blobs, _ = _blobs(ck, sk, {64: 5, 16: 6})  # 32 + 8 blocks
    h64, h16 = blobs
    s = Squasher("/nonexistent", Cfg(), blobs.get, max_pending_blocks=32, keys=(sk.ksk, key))

    async def go():
        first = asyncio.create_task(s.squashed([h64]))
        await asyncio.sleep(0)  # the first request has queued its 32 blocks
        with pytest.raises(SquashBusy, match="32 blocks queued"):
            await s.squashed([h16])
        same = await s.squashed([h64])  # already queued: shares the task, no new work
        return (await first)[0], same[0]

    a, b = asyncio.run(go())
    assert a is b and s.squash_calls == 1
    assert asyncio.run(s.squashed([h16]))[0] is not None  # the backlog is free again


def test_bad_blob_and_failing_squash_are_errors_not_hangs(keys) -> None:
    ck, sk, _, key = keys
    blobs, _ = _blobs(ck, sk, {8: 7})
    [h] = blobs
    wrong_type = _handle(16)
    blobs[wrong_type] = blobs[h]
    garbage = _handle(8)
    blobs[garbage] = b"FHVT" + b"\x00" * 10
    s = Squasher("/nonexistent", Cfg(), blobs.get, keys=(sk.ksk, key))
    with pytest.raises(SquashError, match="not of the handle's type"):
        asyncio.run(s.squashed([wrong_type]))
    with pytest.raises(SquashError, match="not a tfhe ciphertext"):
        asyncio.run(s.squashed([garbage]))
    other = dataclasses.replace(key, bsk_hi=key.bsk_hi[:8], bsk_lo=key.bsk_lo[:8])
    broken = Squasher("/nonexistent", Cfg(), blobs.get, keys=(sk.ksk, other))

    async def two_waiters():
        return await asyncio.gather(broken.squashed([h]), broken.squashed([h]),
                                    return_exceptions=True)

    errs = asyncio.run(two_waiters())
    assert all(isinstance(e, SquashError) for e in errs)
    assert broken._pending == {}  # the next request tries again


def test_squash_key_file_and_parameter_names(keys, tmp_path) -> None:
    *_, key = keys
    key.save(tmp_path / "k.bsk")
    loaded = load_squash_key(tmp_path / "k.bsk", INSECURE_SQUASH_TEST_PARAMS)
    assert loaded.params == INSECURE_SQUASH_TEST_PARAMS
    with pytest.raises(ValueError, match="does not match"):
        load_squash_key(tmp_path / "k.bsk", squash_parameters("SQUASH"))
    with pytest.raises(ValueError, match="unknown squash parameter set"):
        squash_parameters("NOPE")


class _Rpc:
    def __init__(self, answer) -> None:
        self.answer = answer

    async def call(self, method, params, timeout=30.0):
        assert method == "fhevm_getSquashedCiphertext"
        return self.answer


def test_party_refuses_squashed_ciphertexts_of_the_wrong_shape(keys) -> None:
    from node.kms.acl import RpcError

    ck, sk, _, key = keys
    blobs, _ = _blobs(ck, sk, {8: 3})
    [h] = blobs
    s = Squasher("/nonexistent", Cfg(), blobs.get, keys=(sk.ksk, key))
    good = asyncio.run(s.squashed([h]))[0].to_json()
    dim = INSECURE_SQUASH_TEST_PARAMS.lwe_dimension
    assert asyncio.run(NodeSource(_Rpc([good]), dim).squashed([h]))[0][0] == [(0, 1), (2, 3)]
    bad = [
        {**good, "groups": [[0, 1], [3, 2]]},  # blocks out of order
        {**good, "groups": [[0, 1]], "lwes": good["lwes"][:1]},  # missing blocks
        {**good, "lwes": good["lwes"][:1]},  # one LWE short
        {**good, "lwes": [good["lwes"][0][:-32]] * 2},  # LWE one word short
        "nonsense",
    ]
    for obj in bad:
        with pytest.raises(RpcError):
            asyncio.run(NodeSource(_Rpc([obj]), dim).squashed([h]))
    with pytest.raises(KeyError):
        asyncio.run(NodeSource(_Rpc([None]), dim).squashed([h]))
    with pytest.raises(RpcError):
        asyncio.run(NodeSource(_Rpc([good, good]), dim).squashed([h]))
