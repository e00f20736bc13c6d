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


@given(st.binary(min_size=1, max_size=40))
def test_decode_nibbles_matches_py_trie(value: bytes) -> None:
    try:
        want = speedups._original_decode_nibbles(value)
    except Exception as exc:  # invalid hex-prefix flags raise; so must the cached one
        try:
            speedups.decode_nibbles(value)
        except type(exc):
            return
        raise AssertionError("accepted what py-trie refuses") from None
    assert speedups.decode_nibbles(value) == want
    assert speedups.decode_nibbles(value) == want  # from the cache


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
    import trie.utils.nibbles
    import trie.utils.nodes

    saved = (trie.hexary.HexaryTrie.get_node, trie.hexary.bytes_to_nibbles,
             trie.hexary.decode_nibbles, trie.utils.nodes.decode_nibbles,
             trie.utils.nibbles.bytes_to_nibbles)
    trie.hexary.HexaryTrie.get_node = speedups._original_get_node
    trie.hexary.bytes_to_nibbles = speedups._original_bytes_to_nibbles
    trie.hexary.decode_nibbles = speedups._original_decode_nibbles
    trie.utils.nodes.decode_nibbles = speedups._original_decode_nibbles
    trie.utils.nibbles.bytes_to_nibbles = speedups._original_bytes_to_nibbles
    try:
        original = _build(items, deletes)
    finally:
        (trie.hexary.HexaryTrie.get_node, trie.hexary.bytes_to_nibbles,
         trie.hexary.decode_nibbles, trie.utils.nodes.decode_nibbles,
         trie.utils.nibbles.bytes_to_nibbles) = saved
    assert patched == original
