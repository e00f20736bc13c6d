#!/usr/bin/env bash
# Rebuild FhevmProbe.json with the project's pinned solc (npm install first).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
out="$(mktemp -d)"
"$root/node_modules/.bin/solcjs" --bin --abi --optimize -o "$out" "$here/FhevmProbe.sol" >/dev/null
python3 - "$out" "$here/FhevmProbe.json" <<'PY'
import glob, json, sys
out, dest = sys.argv[1], sys.argv[2]
abi = json.load(open(glob.glob(f"{out}/*FhevmProbe.abi")[0]))
bin_ = open(glob.glob(f"{out}/*FhevmProbe.bin")[0]).read().strip()
json.dump({"compiler": "solc 0.8.30 (solcjs, optimizer on)", "abi": abi, "bytecode": "0x" + bin_},
          open(dest, "w"), indent=1)
PY
rm -rf "$out"
