"""Bootstrap benchmark: the one number everything stands on.

    python benchmarks/pbs.py [--params DEFAULT] [--single 50] [--batch 64] [--json PATH]

Reports the median latency of one KS+PBS on one thread (wall clock, and CPU time of the
process, which a loaded machine distorts less), the throughput of a batch on all cores,
key generation time, server key size and load time. `--batch 0` skips the batch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfhe import PARAMETER_SETS_BY_NAME, ServerKey, generate_keys  # noqa: E402
from tfhe.core import bootstrap, lwe  # noqa: E402
from tfhe.core.csprng import Csprng  # noqa: E402
from tfhe.shortint import ShortintServerKey  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--params", default="DEFAULT", help="DEFAULT or INSECURE_TEST_PARAMS")
    ap.add_argument("--single", type=int, default=50, help="single KS+PBS runs (median)")
    ap.add_argument("--batch", type=int, default=64, help="blocks per batch")
    ap.add_argument("--batches", type=int, default=3, help="batches timed (best kept)")
    ap.add_argument("--json", type=Path, help="write results here")
    args = ap.parse_args()
    params = PARAMETER_SETS_BY_NAME[args.params]

    t0 = time.perf_counter()
    ck, sk = generate_keys(params, progress=True)
    keygen_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as d:
        sk.save(Path(d) / "server")
        t0 = time.perf_counter()
        ServerKey.load(Path(d) / "server", params)
        load_s = time.perf_counter() - t0

    p = params
    rng = Csprng.from_os()
    server = ShortintServerKey(sk)
    lut = server.lookup_table(lambda m: (m + 1) % p.total_modulus).poly
    msgs = np.arange(max(args.batch, 16), dtype=np.uint64) % np.uint64(p.message_modulus)
    cts = lwe.encrypt(ck.big_lwe_key, msgs << np.uint64(p.delta_log2), p.glwe_noise_log2, rng)
    out = np.empty_like(cts[:1])
    zero = np.zeros(1, dtype=np.int64)

    def single(ct: np.ndarray) -> None:
        bootstrap.ks_pbs_batch(ct[None, :], zero, lut[None, :], sk.ksk, p.ks_base_log,
                               p.ks_level, sk.bsk, sk.plan, p.pbs_base_log, p.pbs_level, 1, out)

    single(cts[0])  # compile / load the cached machine code
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    times, cpu_times = [], []
    for i in range(args.single):
        c0 = time.process_time()
        t0 = time.perf_counter()
        single(cts[i % len(cts)])
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    numba.set_num_threads(threads)
    res = np.empty_like(cts[:16])
    for i in range(len(res)):  # the single path must decrypt right too
        single(cts[i])
        res[i] = out[0]
    _check(ck, p, res, msgs[:len(res)], "single")

    best = float("inf")
    if args.batch:
        server.pbs_arrays(cts[:2], np.zeros(2, dtype=np.int64), lut[None, :])
        for _ in range(args.batches):
            t0 = time.perf_counter()
            res = server.pbs_arrays(cts[:args.batch], np.zeros(args.batch, dtype=np.int64),
                                    lut[None, :])
            best = min(best, time.perf_counter() - t0)
        _check(ck, p, res, msgs[:args.batch], "batch")

    results = {
        "params": p.name,
        "ks_pbs_ms_1core": statistics.median(times) * 1e3,
        "ks_pbs_cpu_ms_1core": statistics.median(cpu_times) * 1e3,
        "pbs_per_s_all_cores": args.batch / best if args.batch else 0.0,
        "threads": threads,
        "batch": args.batch,
        "keygen_s": keygen_s,
        "server_key_bytes": sk.size_bytes,
        "server_key_load_s": load_s,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
    }
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k:<{width}}  {v:.2f}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _check(ck, p, res: np.ndarray, msgs: np.ndarray, what: str) -> None:
    """Every result must decrypt to m + 1, or the figures are void."""
    got = lwe.phase(ck.big_lwe_key, res)
    decoded = ((got + (np.uint64(1) << np.uint64(p.delta_log2 - 1))) >> np.uint64(p.delta_log2))
    if not np.array_equal(decoded % np.uint64(p.total_modulus), msgs + np.uint64(1)):
        raise SystemExit(f"{what} PBS decrypted wrong: the benchmark is void")


if __name__ == "__main__":
    main()
