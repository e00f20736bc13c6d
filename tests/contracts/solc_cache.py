"""Compile with the pinned solc for tests, caching outputs under .cache/contracts-solc/.

The cache key is the whole standard-JSON input, the compiler version and the exact npm
packages of each include folder (their package-lock.json): everything the output depends
on, so a hit is what solc would answer again. Test fixtures therefore inline our own
sources (`repo_sources`) rather than have solc read them from the checkout.
The staleness test of the artifacts does not use this cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from contracts import build

CACHE_DIR = build.REPO_ROOT / ".cache" / "contracts-solc"
_VERSION: list[str] = []


def repo_sources(*folders: str) -> dict[str, str]:
    """{path relative to the repository: content} of the .sol files of contracts/<folder>."""
    out = {}
    for folder in folders:
        for path in sorted((build.CONTRACTS_DIR / folder).glob("*.sol")):
            out[path.relative_to(build.REPO_ROOT).as_posix()] = path.read_text()
    return out


def compile_sources(sources: dict[str, str], include_dirs=(), settings=None) -> dict:
    """solc's standard-JSON output for `sources` (raises build.CompileError on errors)."""
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": settings or build.SETTINGS,
    }
    if not _VERSION:
        _VERSION.append(build.solc_version())
    locks = []
    for folder in include_dirs:
        lock = Path(folder).parent / "package-lock.json"
        locks.append(lock.read_text() if lock.is_file() else str(folder))
    key = hashlib.sha256(json.dumps([standard_input, _VERSION[0], locks]).encode()).hexdigest()
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    output = build.run_solc(standard_input, list(include_dirs))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(output, f)
    os.replace(tmp, cached)  # atomic: concurrent sessions never read half a file
    return output
