"""Noise-squashing benchmark (tfhe.core.squash on DEFAULT keys): ms per squashed LWE and
per block, for a batch of 16 packed LWEs (one euint64: 32 blocks) and for 1.

    python benchmarks/squash.py [--threads N] [--repeats 3] [--json PATH]

Keys: the DEFAULT engine keys and the squash key that the KMS tests cache under .cache/
(tests/kms/conftest.py; generated there on first use). Reported separately: the one-off
Fourier key conversion per process (`fourier_key`). Each figure is the median of
`repeats` runs, as CPU time of this process (time.process_time: all threads, so it
counts both cores) and wall time; the squashed noise of the batch is measured against
the exact plaintexts with the squash secret key (log2 of the largest |noise|).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tfhe import DEFAULT  # noqa: E402
from tfhe.core import squash as sq  # noqa: E402
from tfhe.shortint import ShortintClientKey  # noqa: E402

_Q = 1 << 128


def _test_keys():
    """engine_keys / squash_keys of tests/kms/conftest.py (the cached DEFAULT keys)."""
    spec = importlib.util.spec_from_file_location("kms_test_keys",
                                                  ROOT / "tests" / "kms" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ck, sk = mod.engine_keys()
    sec, key = mod.squash_keys(ck)
    return ck, sk, sec, key


def _timed(fn) -> tuple[float, float, object]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c0, time.perf_counter() - w0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="default: all usable CPUs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write results here")
    args = ap.parse_args()

    ck, sk, sec, key = _test_keys()
    client = ShortintClientKey(ck)
    pairs = [(secrets.randbelow(4), secrets.randbelow(4)) for _ in range(16)]
    cts = []
    for lo_m, hi_m in pairs:
        lo_ct, hi_ct = client.encrypt_batch([lo_m, hi_m])
        cts.append(lo_ct.data + np.uint64(4) * hi_ct.data)
    cts = np.stack(cts)

    def run(batch: np.ndarray):
        return sq.squash(batch, sk.ksk, DEFAULT.ks_base_log, DEFAULT.ks_level, key,
                         threads=args.threads)

    fourier_cpu, fourier_wall, _ = _timed(lambda: sq.fourier_key(key, args.threads))
    run(cts[:1])  # compile / load the kernels
    results = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               "load_average": os.getloadavg(), "threads": args.threads,
               "cpus": len(os.sched_getaffinity(0)),
               "fourier_key_cpu_s": round(fourier_cpu, 2),
               "fourier_key_wall_s": round(fourier_wall, 2)}
    for label, batch in (("batch16", cts), ("single", cts[:1])):
        cpu, wall = [], []
        for _ in range(args.repeats):
            c, w, (hi, lo) = _timed(lambda b=batch: run(b))
            cpu.append(c)
            wall.append(w)
        lwes = len(batch)
        noise = 0
        for b, (lo_m, hi_m) in enumerate(pairs[:lwes]):
            m = lo_m + 4 * hi_m
            phase = sq.phase128(sec.lwe_key, hi[b], lo[b])
            if sq.decode128(phase) != m:
                raise SystemExit(f"squashed LWE {b} decrypts wrong")
            e = (phase - (m << 124)) % _Q
            noise = max(noise, abs(e - _Q if e >= _Q // 2 else e))
        c, w = statistics.median(cpu), statistics.median(wall)
        results[label] = {
            "lwes": lwes, "blocks": 2 * lwes,
            "cpu_ms_per_lwe": round(1e3 * c / lwes, 1),
            "wall_ms_per_lwe": round(1e3 * w / lwes, 1),
            "cpu_ms_per_block": round(1e3 * c / (2 * lwes), 1),
            "wall_ms_per_block": round(1e3 * w / (2 * lwes), 1),
            "wall_s_total": round(w, 3), "cpu_s_total": round(c, 3),
            "max_noise_log2": round(math.log2(noise), 2)}
    results["load_average_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
