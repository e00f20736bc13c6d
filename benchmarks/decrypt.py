"""Threshold decryption of one euint64 on DEFAULT keys: n = 4 parties, t = 1, localhost.

Each party is its own process (`python -m node.kms.party`, started by node.kms.launch as
the devnet does), with its own port and key share; each fetches the squashed ciphertext
over JSON-RPC (`fhevm_getSquashedCiphertext`), which the node squashes once for all four
(node.kms.squasher, the node's own code, with the public squash key memory-mapped),
exactly as under `fhevm-node start --backend tfhe`. The "node" here is a small JSON-RPC
server in this process that serves the squashed ciphertexts and answers the ACL reads
(eth_call isAllowed / isAllowedForDecryption) from Python sets, so no chain runs.

Measured, each on a fresh handle (not squashed yet), after one warm-up decryption that
loads the squash key and compiles the kernels (reported separately):
  * user_decrypt_ms: signed request, 4 sealed shares, opened and combined (squash included);
  * public_decrypt_ms: both rounds (shares, then EIP-712 signatures), squash included;
  * public_decrypt_cached_ms: a public decryption of a handle the node already squashed
    (the user decryption's): the cost of the threshold protocol alone;
  * squash_ms per block: squashing.squash_radix on one euint64 (32 blocks, packed in
    pairs) in this process, divided by the 32 blocks (wall and process CPU time).

Keys: the DEFAULT engine keys and the squash key are those the KMS tests cache under
.cache/ (tests/kms/conftest.py; generated there on first use, ~40 s plus key generation).

    python benchmarks/decrypt.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from aiohttp import web  # noqa: E402
from eth_abi import decode, encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import function_signature_to_4byte_selector as selector  # noqa: E402
from eth_utils import to_checksum_address  # noqa: E402

from fhevm.backends.tfhe import TfheBackend  # noqa: E402
from fhevm.handles import fresh_computed  # noqa: E402
from fhevm.pytest_plugin import free_port_range  # noqa: E402
from fhevm.types import FheType  # noqa: E402
from node.kms import client, dealer, launch, squashing  # noqa: E402
from tfhe import DEFAULT  # noqa: E402
from tfhe.integer import IntegerClientKey  # noqa: E402

CONTRACT = to_checksum_address("0x" + "c0" * 20)


def _test_keys():
    """engine_keys / squash_keys of tests/kms/conftest.py (the cached DEFAULT keys)."""
    spec = importlib.util.spec_from_file_location("kms_test_keys",
                                                  ROOT / "tests" / "kms" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class FakeNode:
    """fhevm_getSquashedCiphertext (node.kms.squasher over a dictionary of blobs) and the
    ACL's eth_call reads, from dictionaries."""

    def __init__(self, kms: Path, cfg, serialize) -> None:
        from node.kms.squasher import Squasher

        self.serialize = serialize  # the tfhe backend's, as fhevm_getCiphertext returns

        self.blobs: dict[bytes, bytes] = {}
        self.squasher = Squasher(kms, cfg, self.blobs.get)
        self.last = b""  # the handle added last
        self.public: set[bytes] = set()
        self.allowed: set[tuple[bytes, str]] = set()

    def add(self, ct, user: str, public: bool) -> bytes:
        h = fresh_computed(FheType.Uint64, 31337)
        self.blobs[h] = self.serialize(ct)
        self.allowed.update({(h, user), (h, CONTRACT)})
        if public:
            self.public.add(h)
        return h

    def _call(self, data: bytes) -> bool:
        sel, args = data[:4], data[4:]
        if sel == selector("isAllowedForDecryption(bytes32)"):
            return decode(["bytes32"], args)[0] in self.public
        if sel == selector("isAllowed(bytes32,address)"):
            h, a = decode(["bytes32", "address"], args)
            return (h, to_checksum_address(a)) in self.allowed
        return False

    def app(self) -> web.Application:
        async def rpc(request: web.Request) -> web.Response:
            body = await request.json()
            method, params = body["method"], body.get("params") or []
            if method == "eth_call":
                out = encode(["bool"], [self._call(bytes.fromhex(params[0]["data"][2:]))])
                result = "0x" + out.hex()
            elif method == "fhevm_getSquashedCiphertext":
                got = await self.squasher.squashed([bytes.fromhex(h[2:]) for h in params[0]])
                result = [None if r is None else r.to_json() for r in got]
            else:
                return web.json_response({"jsonrpc": "2.0", "id": body.get("id"),
                                          "error": {"code": -32601, "message": method}})
            return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "result": result})

        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/", rpc)
        return app


async def bench(kms: Path, cfg, node: FakeNode, node_port: int, cts: list, reps: int) -> dict:
    runner = web.AppRunner(node.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", node_port).start()
    procs = await asyncio.to_thread(launch.start_parties, kms.parent,
                                    f"http://127.0.0.1:{node_port}/", 4, 1)
    urls = launch.party_urls(cfg)
    user = Account.create()
    out: dict = {"user_decrypt_ms": [], "public_decrypt_ms": [],
                 "public_decrypt_cached_ms": []}
    try:
        async def user_once(ct, value, public: bool = False) -> float:
            h = node.add(ct, user.address, public=public)
            node.last = h
            t = time.perf_counter()
            req, sk = client.user_request(user.key, cfg, [(h, CONTRACT)], [CONTRACT])
            got = await client.user_decrypt(urls, cfg, req, sk)
            dt = time.perf_counter() - t
            if got != [value]:
                raise RuntimeError(f"user decryption gave {got}, expected {value}")
            return dt

        async def public_once(ct, value, h: bytes | None = None) -> float:
            h = h or node.add(ct, user.address, public=True)
            t = time.perf_counter()
            res = await client.public_decrypt(urls, cfg, [h])
            dt = time.perf_counter() - t
            if res.values != [value]:
                raise RuntimeError(f"public decryption gave {res.values}, expected {value}")
            return dt

        ct0, v0 = cts[0]
        out["warmup_user_decrypt_ms"] = 1000 * await user_once(ct0, v0)
        for i in range(reps):
            ct, v = cts[i % len(cts)]
            out["user_decrypt_ms"].append(1000 * await user_once(ct, v))
            out["public_decrypt_ms"].append(1000 * await public_once(ct, v))
            await user_once(ct, v, public=True)  # squashed now
            out["public_decrypt_cached_ms"].append(1000 * await public_once(ct, v, node.last))
        out["squash_calls"] = node.squasher.squash_calls
    finally:
        await asyncio.to_thread(launch.stop_parties, procs)
        await runner.cleanup()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=2, help="timed decryptions of each kind")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args()
    load_before = os.getloadavg()

    keys = _test_keys()
    t = time.perf_counter()
    ck, sk = keys.engine_keys()
    sec, squash_key = keys.squash_keys(ck)
    keys_s = time.perf_counter() - t
    integer = IntegerClientKey(ck)
    cts = []
    for _ in range(max(args.reps, 1)):
        v = secrets.randbelow(1 << 64)
        cts.append((integer.encrypt(v, 64), v))

    # squash cost in this process (first call compiles: not counted)
    squashing.squash_radix([cts[0][0]], sk.ksk, DEFAULT.ks_base_log, DEFAULT.ks_level,
                           squash_key)
    sq_times, sq_cpu = [], []
    for ct, _ in cts:
        t, c = time.perf_counter(), time.process_time()
        [(groups, _lwes)] = squashing.squash_radix([ct], sk.ksk, DEFAULT.ks_base_log,
                                                   DEFAULT.ks_level, squash_key)
        sq_times.append(time.perf_counter() - t)
        sq_cpu.append(time.process_time() - c)
    blocks = len(cts[0][0].blocks)

    with tempfile.TemporaryDirectory(prefix="fhevm-kms-bench-") as tmp:
        kms = launch.kms_dir(tmp)
        base = free_port_range(5)
        cfg = dealer.deal_shares(kms, sec.lwe_key, 4, 1, DEFAULT.ks_base_log, DEFAULT.ks_level,
                                 base_port=base)
        np.save(kms / "public" / "ksk.npy", sk.ksk)
        os.symlink(_squash_key_path(keys, ck), kms / "public" / "squash.bsk")
        node = FakeNode(kms, cfg, TfheBackend(sk).serialize)
        res = asyncio.run(bench(kms, cfg, node, base + 4, cts, args.reps))

    out = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "params": DEFAULT.name, "n": 4, "t": 1, "type": "euint64", "blocks": blocks,
        "squashed_lwes": len(groups),
        "user_decrypt_ms": statistics.median(res["user_decrypt_ms"]),
        "public_decrypt_ms": statistics.median(res["public_decrypt_ms"]),
        "user_decrypt_ms_all": res["user_decrypt_ms"],
        "public_decrypt_ms_all": res["public_decrypt_ms"],
        "public_decrypt_cached_ms": statistics.median(res["public_decrypt_cached_ms"]),
        "public_decrypt_cached_ms_all": res["public_decrypt_cached_ms"],
        "warmup_user_decrypt_ms": res["warmup_user_decrypt_ms"],
        "node_squash_calls": res["squash_calls"],
        "squash_ms_per_block": 1000 * statistics.median(sq_times) / blocks,
        "squash_ms_euint64": 1000 * statistics.median(sq_times),
        "squash_cpu_ms_euint64": 1000 * statistics.median(sq_cpu),
        "keys_load_s": keys_s,
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    target = 1000.0
    rows = [
        ("parameters", f"{out['params']}, n = 4, t = 1, euint64 ({blocks} blocks, "
                       f"{out['squashed_lwes']} squashed LWEs)"),
        ("user_decrypt_ms (median)", f"{out['user_decrypt_ms']:.0f} ms "
         f"(target <= {target:.0f}: {'met' if out['user_decrypt_ms'] <= target else 'MISSED'})"),
        ("public_decrypt_ms (median)", f"{out['public_decrypt_ms']:.0f} ms "
         f"(target <= {target:.0f}: {'met' if out['public_decrypt_ms'] <= target else 'MISSED'})"),
        ("public_decrypt_cached_ms (median)", f"{out['public_decrypt_cached_ms']:.0f} ms "
         "(handle already squashed by the node)"),
        ("squash_ms per block (one process)", f"{out['squash_ms_per_block']:.1f} ms "
         f"({out['squash_ms_euint64']:.0f} ms wall, {out['squash_cpu_ms_euint64']:.0f} ms "
         "CPU per euint64)"),
        ("node squash calls (all decryptions)", str(out["node_squash_calls"])),
        ("first decryption (key load, compile)", f"{out['warmup_user_decrypt_ms']:.0f} ms"),
        ("load average before / after", " / ".join(
            f"{a[0]:.2f}" for a in (out["loadavg_before"], out["loadavg_after"]))),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


def _squash_key_path(keys, ck) -> Path:
    import hashlib

    tag = hashlib.blake2b(ck.lwe_key.tobytes(), digest_size=8).hexdigest()
    return keys.CACHE / f"squash-{tag}.bsk"


if __name__ == "__main__":
    main()
