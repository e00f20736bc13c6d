"""Two drop-in accelerations of py-trie, the pure-Python trie behind every state root.

Each replaces a py-trie function by one with identical results (tests/node/
test_node_speedups.py checks them against the originals):

* `bytes_to_nibbles`: a generator step per nibble becomes one C-level chain.
* `decode_nibbles` (hex-prefix decoding of node keys): a pure function of a few bytes,
  memoized.
* `HexaryTrie.get_node`: trie nodes are addressed by their keccak hash, so a node read
  once never changes; decoded nodes are cached (and copied out, because py-trie edits
  nodes in place).

Installed once by `install()`, which the chain calls; nothing else changes behaviour.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import trie.fog
import trie.hexary
import trie.iter
import trie.utils.nibbles
import trie.utils.nodes
from lru import LRU

_NIBBLES = trie.utils.nibbles.NIBBLES_LOOKUPS
_chain = itertools.chain.from_iterable
_installed = False
_original_bytes_to_nibbles = trie.utils.nibbles.bytes_to_nibbles
_original_decode_nibbles = trie.utils.nibbles.decode_nibbles
_original_get_node = trie.hexary.HexaryTrie.get_node
_nodes: LRU = LRU(50_000)  # decoded nodes: a few tens of MB at most


def bytes_to_nibbles(value: bytes) -> tuple[int, ...]:
    return tuple(_chain(map(_NIBBLES.__getitem__, value)))


_decode_cached = functools.lru_cache(maxsize=65536)(_original_decode_nibbles)


def decode_nibbles(value: bytes) -> tuple[int, ...]:
    if type(value) is bytes:
        return _decode_cached(value)
    return _original_decode_nibbles(value)


def _copy(node: Any) -> Any:
    if isinstance(node, list):
        return [_copy(x) if isinstance(x, list) else x for x in node]
    return node


def get_node(self: Any, node_hash: Any) -> Any:
    if isinstance(node_hash, bytes) and len(node_hash) == 32:
        node = _nodes.get(node_hash)
        if node is None:
            node = _original_get_node(self, node_hash)
            _nodes[node_hash] = _copy(node)
            return node
        return _copy(node)
    return _original_get_node(self, node_hash)


def install() -> None:
    global _installed
    if _installed:
        return
    for module in (trie.utils.nibbles, trie.utils.nodes, trie.hexary, trie.iter, trie.fog):
        if hasattr(module, "bytes_to_nibbles"):
            module.bytes_to_nibbles = bytes_to_nibbles
        if hasattr(module, "decode_nibbles"):
            module.decode_nibbles = decode_nibbles
    trie.hexary.HexaryTrie.get_node = get_node
    _installed = True
