"""Integer benchmark: latency and bootstrap count of every operation on every type.

    python benchmarks/integer.py [--params DEFAULT] [--types euint8,euint64] [--ops add,lt]
                                 [--all] [--json PATH]

"transfer" is a confidential token transfer's chain (ge, select, sub, add); "transfer_batched"
runs its sub and add through add_sub_many (independent carry chains share batches).

Prints a table (wall ms, process-CPU ms, bootstraps; the best of --repeat runs by wall time)
and the load average, and with --json writes a list of {"op", "type", "ms", "cpu_ms", "pbs"}
plus {"op": "compressed_bytes", "type", "bytes"} per type. On a shared machine the wall time
is distorted by others' load; CPU time (all threads of this process) is not, and CPU time
divided by the thread count bounds the latency on an idle machine from below.
Every batch runs on all cores (numba threads). Quadratic operations (mul, div, rem, mulDiv
and their scalar forms) are skipped above --quadratic-max-bits (64; mulDiv above half of it)
unless --all.
Keys come from .cache/test-keys/ when present (as the tests cache them), else are generated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfhe import PARAMETER_SETS_BY_NAME, load_or_generate  # noqa: E402
from tfhe.integer import IntegerClientKey, IntegerServerKey  # noqa: E402
from tfhe.integer.compression import load_or_generate_compression  # noqa: E402

TYPES = {"ebool": 1, "euint8": 8, "euint16": 16, "euint32": 32, "euint64": 64,
         "euint128": 128, "eaddress": 160, "euint256": 256}
QUADRATIC = {"mul", "div", "rem", "mulDiv", "div_scalar", "rem_scalar"}
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "test-keys"


def load_keys(params) -> tuple[IntegerClientKey, IntegerServerKey]:
    ck, sk = load_or_generate(params, CACHE)
    return IntegerClientKey(ck), IntegerServerKey(sk, load_or_generate_compression(ck, sk, CACHE))


def operations(server: IntegerServerKey, client: IntegerClientKey, bits: int):
    """(name, thunk) for every operation on this type."""
    m = (1 << bits) - 1
    a = client.encrypt(0x9E3779B97F4A7C15F39CC0605CEDC834 & m, bits)
    b = client.encrypt(0x0123456789ABCDEF0123456789ABCDEF & m or 1, bits)
    k = 0x5DEECE66D & m or 1
    c = client.encrypt(1, 1)
    if bits == 1:
        return [("and", lambda: server.bitand(a, b)), ("or", lambda: server.bitor(a, b)),
                ("xor", lambda: server.bitxor(a, b)), ("not", lambda: server.bitnot(a)),
                ("eq", lambda: server.eq(a, b)), ("ne", lambda: server.ne(a, b)),
                ("select", lambda: server.select(c, a, b)),
                ("rand", lambda: server.random(b"bench", bits)),
                ("cast_to_euint64", lambda: server.cast(a, 64))]
    ops = [
        ("add", lambda: server.add(a, b)), ("add_scalar", lambda: server.add(a, k)),
        ("sub", lambda: server.sub(a, b)), ("sub_scalar", lambda: server.sub(a, k)),
        ("neg", lambda: server.neg(a)), ("not", lambda: server.bitnot(a)),
        ("and", lambda: server.bitand(a, b)), ("or", lambda: server.bitor(a, b)),
        ("xor", lambda: server.bitxor(a, b)), ("and_scalar", lambda: server.bitand(a, k)),
        ("eq", lambda: server.eq(a, b)), ("ne", lambda: server.ne(a, b)),
        ("eq_scalar", lambda: server.eq(a, k)),
        ("lt", lambda: server.lt(a, b)), ("le", lambda: server.le(a, b)),
        ("gt", lambda: server.gt(a, b)), ("ge", lambda: server.ge(a, b)),
        ("lt_scalar", lambda: server.lt(a, k)),
        ("min", lambda: server.min(a, b)), ("max", lambda: server.max(a, b)),
        ("select", lambda: server.select(c, a, b)),
        ("cast_to_bool", lambda: server.cast(a, 1)),
        ("sum4", lambda: server.sum([a, b, a, b])),
        ("isIn4_scalar", lambda: server.is_in(a, [1, 2, 3, k])),
        ("rand", lambda: server.random(b"bench", bits)),
        ("randBounded", lambda: server.random(b"bench", bits, 1 << (bits // 2))),
        ("mul_scalar", lambda: server.mul(a, k)),
        ("div_scalar", lambda: server.div(a, k)), ("rem_scalar", lambda: server.rem(a, k)),
        ("mul", lambda: server.mul(a, b)),
        ("div", lambda: server.div(a, b)), ("rem", lambda: server.rem(a, b)),
        ("mulDiv", lambda: server.mul_div(a, b, k)),
    ]
    def transfer(batched: bool):
        """A token transfer's chain: ok = bal >= amt; x = ok ? amt : 0; bal - x, to + x."""
        x = server.select(server.ge(a, b), b, 0)
        if batched:
            return server.add_sub_many([("sub", a, x), ("add", b, x)])
        return server.sub(a, x), server.add(b, x)

    ops.append(("transfer", lambda: transfer(False)))
    if hasattr(server, "add_sub_many"):
        ops.append(("transfer_batched", lambda: transfer(True)))
    if bits & (bits - 1) == 0:
        amount = client.encrypt(13, 8)
        ops += [("shl_scalar", lambda: server.shl(a, 13)),
                ("shr_scalar", lambda: server.shr(a, 13)),
                ("rotl_scalar", lambda: server.rotl(a, 13)),
                ("shl", lambda: server.shl(a, amount)), ("shr", lambda: server.shr(a, amount)),
                ("rotl", lambda: server.rotl(a, amount)), ("rotr", lambda: server.rotr(a, amount))]
    return ops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--params", default="DEFAULT", help="DEFAULT or INSECURE_TEST_PARAMS")
    ap.add_argument("--types", default=",".join(TYPES), help="comma-separated type names")
    ap.add_argument("--ops", default="", help="comma-separated operation names (default all)")
    ap.add_argument("--all", action="store_true", help="also quadratic ops above 64 bits")
    ap.add_argument("--quadratic-max-bits", type=int, default=64,
                    help="widest type for mul/div/rem (mulDiv: half of it)")
    ap.add_argument("--carry", default="auto",
                    choices=["auto", "grouped", "parallel", "sequential"])
    ap.add_argument("--repeat", type=int, default=1, help="runs per operation (best kept)")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    params = PARAMETER_SETS_BY_NAME[args.params]
    client, server = load_keys(params)
    if args.carry != "auto":
        server.carry_mode = args.carry
    wanted = set(filter(None, args.ops.split(",")))
    results: list[dict] = []
    # warm up the compiled kernels
    w = client.encrypt(3, 8)
    server.add(w, w)
    server.shl(w, w)
    server.from_bytes(server.to_bytes(w))
    server.random(b"warm", 8)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {params.name}, {numba.get_num_threads()} threads, carry={server.carry_mode}, "
          f"load average {load}")
    if args.carry == "auto" and hasattr(server, "cost_model"):
        model = server.cost_model
        print(f"# cost model: one bootstrap {model.single_s * 1e3:.1f} ms, a chunk of 8 per "
              f"thread {model.chunk8_s * 1e3:.1f} ms; euint64 carry: "
              f"{model.choose_carry(32)}, comparison: "
              f"{'chain' if server._compare_by_chain(32) else 'tree'}")
    print(f"{'type':<10} {'op':<16} {'ms':>10} {'cpu_ms':>10} {'pbs':>7}")
    for tname in args.types.split(","):
        bits = TYPES[tname]
        for op, thunk in operations(server, client, bits):
            if wanted and op not in wanted:
                continue
            limit = args.quadratic_max_bits // (2 if op == "mulDiv" else 1)
            if op in QUADRATIC and bits > limit and not args.all:
                continue
            runs = []
            for _ in range(max(1, args.repeat)):
                before = server.pbs_count
                t0, c0 = time.perf_counter(), time.process_time()
                thunk()
                runs.append(((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3,
                             server.pbs_count - before))
            ms, cpu, pbs = min(runs)
            results.append({"op": op, "type": tname, "ms": round(ms, 1), "cpu_ms": round(cpu, 1),
                            "pbs": pbs})
            print(f"{tname:<10} {op:<16} {ms:>10.1f} {cpu:>10.1f} {pbs:>7}", flush=True)
        if not wanted or "compressed_bytes" in wanted or "compress" in wanted:
            ct = client.encrypt(1, bits)
            t0 = time.perf_counter()
            blob = server.to_bytes(ct)
            comp_ms = (time.perf_counter() - t0) * 1e3
            before = server.pbs_count
            t0 = time.perf_counter()
            server.from_bytes(blob)
            dec_ms = (time.perf_counter() - t0) * 1e3
            raw = sum(bl.data.nbytes for bl in ct.blocks)
            results.append({"op": "compressed_bytes", "type": tname, "bytes": len(blob),
                            "raw_bytes": raw})
            results.append({"op": "compress", "type": tname, "ms": round(comp_ms, 1), "pbs": 0})
            results.append({"op": "decompress", "type": tname, "ms": round(dec_ms, 1),
                            "pbs": server.pbs_count - before})
            print(f"{tname:<10} {'compress':<16} {comp_ms:>10.1f} {0:>7}")
            print(f"{tname:<10} {'decompress':<16} {dec_ms:>10.1f} "
                  f"{server.pbs_count - before:>7}")
            print(f"{tname:<10} {'compressed_bytes':<16} {len(blob):>10} (raw {raw})")
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
