"""Encrypted-input benchmark: compact public-key encryption (client) and expansion (node).

    python benchmarks/inputs.py [--params DEFAULT] [--json PATH] [--cases euint64,full]

For one euint64 and for a full 2048-bit list (8 x euint256, 1024 blocks): client encryption
ms (build + encrypt + serialise), node expansion ms (parse + casting keyswitch + one
sanitising bootstrap per block; the keyswitch share is reported as cast_ms), list size in
bytes; plus the compact public key and casting key sizes. Every expanded value is decrypted
and checked. Keys come from .cache/test-keys/ when present (as the tests cache them), else
are generated; the compact keys are generated here (keygen_ms). A warm-up run compiles the
kernels first. With --json, writes {"params", "pke_params", "threads", "public_key_bytes",
"casting_key_bytes" (in memory), "casting_key_stored_bytes" (seed + bodies), "keygen_ms",
"results": [{"case", "values", "blocks", "list_bytes", "encrypt_ms", "expand_ms",
"cast_ms", "ms_per_block"}]}.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfhe import PARAMETER_SETS_BY_NAME, ClientKey, ServerKey, load_or_generate  # noqa: E402
from tfhe.core import compact_pke  # noqa: E402
from tfhe.integer import IntegerClientKey, IntegerServerKey  # noqa: E402
from tfhe.integer.compact_list import (  # noqa: E402
    CompactCiphertextList,
    CompactListBuilder,
    generate_compact_keys,
)

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "test-keys"
CASES = {
    "euint64": [5],
    "full": [8] * 8,  # 2048 bits, 1024 blocks
}
BITS = {5: 64, 8: 256}


def load_keys(params) -> tuple[ClientKey, ServerKey]:
    return load_or_generate(params, CACHE)


def run_case(name, codes, pk, casting, client, server, rnd) -> dict:
    values = [rnd.getrandbits(BITS[c]) for c in codes]
    t0 = time.perf_counter()
    b = CompactListBuilder(pk)
    for v, c in zip(values, codes, strict=True):
        b.push(v, c)
    blob = b.encrypt().to_bytes()
    t1 = time.perf_counter()
    lst = CompactCiphertextList.from_bytes(blob, public_key=pk)  # the node: parse, check
    cts = lst.expand(casting, server)  # casting keyswitch + sanitising bootstraps
    t2 = time.perf_counter()
    compact_pke.cast_to_small(lst.c1, lst.bodies, casting.ksk, lst.params)  # its share
    t3 = time.perf_counter()
    got = [client.decrypt(ct) for ct in cts]
    if got != values:
        raise SystemExit(f"{name}: expanded values do not decrypt to the inputs")
    expand_ms = (t2 - t1) * 1e3
    return {"case": name, "values": len(codes), "blocks": lst.num_blocks,
            "list_bytes": len(blob), "encrypt_ms": round((t1 - t0) * 1e3, 2),
            "expand_ms": round(expand_ms, 1), "cast_ms": round((t3 - t2) * 1e3, 1),
            "ms_per_block": round(expand_ms / lst.num_blocks, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="DEFAULT", choices=sorted(PARAMETER_SETS_BY_NAME))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    params = PARAMETER_SETS_BY_NAME[args.params]
    ck, sk = load_keys(params)
    t = time.perf_counter()
    _, pk, casting = generate_compact_keys(ck)
    keygen_ms = (time.perf_counter() - t) * 1e3
    client, server = IntegerClientKey(ck), IntegerServerKey(sk)
    rnd = random.Random()
    run_case("warmup", [5], pk, casting, client, server, rnd)
    results = []
    print(f"{params.name}: {numba.get_num_threads()} threads; public key "
          f"{len(pk.to_bytes())} B, casting key {casting.size_bytes / 2**20:.1f} MiB "
          f"({casting.stored_bytes / 2**10:.0f} KiB stored), "
          f"compact keygen {keygen_ms:.0f} ms")
    print(f"{'case':<10}{'blocks':>7}{'list B':>9}{'encrypt ms':>12}{'expand ms':>11}"
          f"{'(cast ms)':>11}{'ms/block':>10}")
    for name in args.cases.split(","):
        r = run_case(name, CASES[name], pk, casting, client, server, rnd)
        results.append(r)
        print(f"{name:<10}{r['blocks']:>7}{r['list_bytes']:>9}{r['encrypt_ms']:>12.2f}"
              f"{r['expand_ms']:>11.1f}{r['cast_ms']:>11.1f}{r['ms_per_block']:>10.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "params": params.name, "pke_params": pk.params.name,
            "threads": numba.get_num_threads(), "public_key_bytes": len(pk.to_bytes()),
            "casting_key_bytes": casting.size_bytes,
            "casting_key_stored_bytes": casting.stored_bytes, "keygen_ms": round(keygen_ms, 1),
            "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
