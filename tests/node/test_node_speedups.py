"""node.speedups replaces two py-trie functions; results must be identical."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node import speedups  # noqa: E402


@given(st.binary(max_size=80))
def test_bytes_to_nibbles_matches_py_trie(value: bytes) -> None:
    assert speedups.bytes_to_nibbles(value) == speedups._original_bytes_to_nibbles(value)


def _build(items: list[tuple[bytes, bytes]], deletes: list[bytes]) -> tuple[bytes, dict]:
    db: dict = {}
    t = HexaryTrie(db)
    for k, v in items:
        t[k] = v
    for k in deletes:
        if t.exists(k):
            del t[k]
    return t.root_hash, {k: t.get(k) for k, _ in items}


keys = st.binary(min_size=1, max_size=33)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(keys, st.binary(min_size=1, max_size=40)), max_size=40),
       st.lists(keys, max_size=10))
def test_trie_roots_and_reads_unchanged(items: list, deletes: list) -> None:
    speedups.install()
    patched = _build(items, deletes)
    import trie.hexary

    saved = trie.hexary.HexaryTrie.get_node, trie.hexary.bytes_to_nibbles
    trie.hexary.HexaryTrie.get_node = speedups._original_get_node
    trie.hexary.bytes_to_nibbles = speedups._original_bytes_to_nibbles
    try:
        original = _build(items, deletes)
    finally:
        trie.hexary.HexaryTrie.get_node, trie.hexary.bytes_to_nibbles = saved
    assert patched == original
