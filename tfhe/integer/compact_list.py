"""Encrypted inputs: compact ciphertext lists under a compact public key, and their expansion.

A client encrypts a list of values of mixed types (up to 2048 bits, an ebool counting as 2,
as in Zama's SDK) under the network's compact public key: one shared mask for the whole
list and one 64-bit body per 2-bit block (see tfhe.core.compact_pke). The node checks the
list, then expands it: a casting keyswitch to the compute parameters' small key and one
sanitising bootstrap per block give fresh radix ciphertexts (nominal noise, degree <= 3,
<= 1 for an ebool) that the integer layer computes on.

Key generation (with the other keys, from the client key)::

    priv, pk, casting = generate_compact_keys(client_key)   # tfhe.ClientKey
    pk.to_bytes() / CompactPublicKey.from_bytes(blob)         # what clients download
    save_public_key(pk, path) / load_public_key(path)         # key files (tfhe.keys format)
    casting.save(path) / CastingKey.load(path)                # public, kept by the node;
                                                              # seeded: 64 KiB on file
    priv.save(path) / CompactPkePrivateKey.load(path)         # secret (tests, KMS side)

Client (the SDK)::

    b = CompactListBuilder(pk)
    b.add_bool(True).add8(7).add64(2**64 - 1).add_address("0x5015...755D")  # or push(v, code)
    lst = b.encrypt()                 # -> CompactCiphertextList
    blob = lst.to_bytes()             # upload; lst.types: type codes, in order (handle byte 30)

Node (the input verifier)::

    lst = CompactCiphertextList.from_bytes(blob, public_key=pk)   # strict; CompactListError
    cts = lst.expand(casting, server)    # server: IntegerServerKey, ShortintServerKey or
                                         # ServerKey -> list[RadixCiphertext], one per value
    types, cts = expand_bytes(blob, pk, casting, server)          # both steps at once

    The i-th ciphertext is the value at index i of the list (handle byte 21), of type
    lst.types[i] (handle byte 30). Expansion costs one bootstrap per 2-bit block (an ebool
    is one block, a euint64 32) plus a keyswitch; `server.pbs_count` counts them.

Type codes are those of handles (byte 30): Bool 0, Uint4 1, Uint8 2, Uint16 3, Uint32 4,
Uint64 5, Uint128 6, Uint160 (eaddress) 7, Uint256 8. Every error on untrusted bytes or
values is a `CompactListError` (a ValueError) that says what is wrong: oversize list
(> 2048 bits), unknown type code, truncated or trailing bytes, wrong version or magic,
list under another public key or parameter set, empty list, value out of range.

Security: there is no zero-knowledge proof of plaintext knowledge (tfhe-rs's ZKV2 is not
implemented), so a list proves nothing about who encrypted it. Anyone who sees a list (on
chain, in the mempool, at the relayer) can re-randomise it (add an encryption of zero under
the public key, or of a known offset, to the shared mask and the bodies), keep a subset of
its bodies, or relabel its blocks with other types (one euint64 as four euint16), and upload
the result as their own input: the node accepts it, since it cannot tell it from a fresh
encryption, and signs it as bound to the submitter's address and contract, although the
submitter does not know the plaintext. Any contract path that later lets the submitter
learn something computed from that input (a user decryption, a public decryption) then
leaks the victim's value. The expansion itself is robust: whatever the bytes, every
expanded block decrypts to a value within its public degree, so a malformed list cannot
corrupt other ciphertexts through hidden carries.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

from ..core import compact_pke as cpke
from ..core.compact_pke import (
    MAX_LIST_BITS,
    PKE_FOR,
    CompactPkeError,
    CompactPkeParameters,
    CompactPublicKey,
)
from ..core.csprng import Csprng
from ..keys import ClientKey, KeyFileError, ServerKey, _load, _save
from ..params import PARAMETER_SETS, Parameters
from ..shortint import Ciphertext, ShortintServerKey
from ..shortint.ciphertext import NOMINAL_NOISE
from .ciphertext import RadixCiphertext, blocks_for_bits

__all__ = [
    "MAX_LIST_BITS",
    "TYPE_BITS",
    "TYPE_NAMES",
    "CastingKey",
    "CompactCiphertextList",
    "CompactListBuilder",
    "CompactListError",
    "CompactPkePrivateKey",
    "CompactPublicKey",
    "expand",
    "expand_bytes",
    "generate_compact_keys",
    "load_public_key",
    "save_public_key",
]

# type code -> width in bits (the handle's type codes)
TYPE_BITS = {0: 1, 1: 4, 2: 8, 3: 16, 4: 32, 5: 64, 6: 128, 7: 160, 8: 256}
TYPE_NAMES = {0: "ebool", 1: "euint4", 2: "euint8", 3: "euint16", 4: "euint32",
              5: "euint64", 6: "euint128", 7: "eaddress", 8: "euint256"}
BOOL, ADDRESS = 0, 7


class CompactListError(CompactPkeError):
    """An input list (bytes or values) that is malformed, too large, or for another key."""


def counted_bits(code: int) -> int:
    """Bits a value of this type uses of the list's 2048 (an ebool counts as 2)."""
    return 2 if code == BOOL else TYPE_BITS[code]


def _num_blocks(code: int) -> int:
    return blocks_for_bits(TYPE_BITS[code])


def _compute_params(pke: CompactPkeParameters) -> Parameters:
    p = PARAMETER_SETS.get(pke.compute_name)
    if p is None:
        raise ValueError(f"unknown compute parameters {pke.compute_name}")
    return p


# == keys ========================================================================================

@dataclass(frozen=True, eq=False)
class CompactPkePrivateKey:
    """The PKE secret (N bits). Secret: kept with the client key."""

    params: CompactPkeParameters
    secret: np.ndarray

    def __repr__(self) -> str:
        return f"CompactPkePrivateKey({self.params.name}, <secret>)"

    def decrypt(self, lst: CompactCiphertextList) -> list[int]:
        """The values of a list, without expanding it (the client's own check; tests)."""
        p = self.params
        if lst.params != p:
            raise CompactListError("list of another parameter set")
        ph = cpke.phases(self.secret, lst.c1, lst.bodies)
        total = p.message_modulus * p.carry_modulus
        digits = ((ph + (np.uint64(1) << np.uint64(p.delta_log2 - 1)))
                  >> np.uint64(p.delta_log2)) % np.uint64(total) % np.uint64(p.message_modulus)
        out, pos = [], 0
        for code in lst.types:
            n = _num_blocks(code)
            out.append(sum(int(d) << (2 * j) for j, d in enumerate(digits[pos:pos + n])))
            pos += n
        return out

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "compact-pke-private", _compute_params(self.params), {"secret": self.secret})

    @classmethod
    def load(cls, path: str | os.PathLike,
             params: Parameters | None = None) -> CompactPkePrivateKey:
        p, arrays = _load(path, "compact-pke-private", params)
        return cls(_pke_for(p, path), arrays["secret"])


@dataclass(frozen=True, eq=False)
class CastingKey:
    """Public: the keyswitching key from the PKE secret to the compute small key.

    Its masks come from `seed`, so files hold seed + bodies (64 KiB on DEFAULT); `ksk` is
    the full key (29 MiB on DEFAULT), rebuilt on load.
    """

    params: CompactPkeParameters
    compute_params: Parameters
    ksk: np.ndarray  # (N, level, n+1) uint32, top 32 bits
    public_key_fingerprint: bytes  # the compact public key whose lists it expands
    seed: bytes  # public seed of the masks
    bodies: np.ndarray  # (N, level) uint64

    def __repr__(self) -> str:
        return f"CastingKey({self.params.name}, {self.ksk.nbytes / 2**20:.1f} MiB)"

    @property
    def size_bytes(self) -> int:
        """In memory (the expanded key)."""
        return self.ksk.nbytes

    @property
    def stored_bytes(self) -> int:
        """In a key file (seed and bodies), headers aside."""
        return len(self.seed) + self.bodies.nbytes + len(self.public_key_fingerprint)

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "casting", self.compute_params,
              {"seed": np.frombuffer(self.seed, dtype=np.uint8), "bodies": self.bodies,
               "fingerprint": np.frombuffer(self.public_key_fingerprint, dtype=np.uint8)})

    @classmethod
    def load(cls, path: str | os.PathLike, params: Parameters | None = None) -> CastingKey:
        p, arrays = _load(path, "casting", params)
        pke = _pke_for(p, path)
        seed, bodies, fp = arrays["seed"], arrays["bodies"], arrays["fingerprint"]
        if (bodies.shape != (pke.lwe_dimension, pke.ks_level) or seed.shape != (32,)
                or fp.shape != (16,)):
            raise KeyFileError(f"{path}: casting key of the wrong shape")
        seed_b = seed.tobytes()
        ksk = cpke.casting_key_from_seed(seed_b, bodies, p.lwe_dimension)
        return cls(pke, p, ksk, fp.tobytes(), seed_b, bodies.astype(np.uint64))

    def expand(self, lst: CompactCiphertextList, server_key) -> list[RadixCiphertext]:
        return expand(lst, self, server_key)


def _pke_for(p: Parameters, path) -> CompactPkeParameters:
    pke = PKE_FOR.get(p.name)
    if pke is None:
        raise KeyFileError(f"{path}: no compact public key parameters for {p.name}")
    return pke


def generate_compact_keys(client_key: ClientKey, rng: Csprng | None = None,
                          params: CompactPkeParameters | None = None,
                          ) -> tuple[CompactPkePrivateKey, CompactPublicKey, CastingKey]:
    """PKE secret, compact public key and casting key for a client key."""
    p = client_key.params
    pke = params or PKE_FOR.get(p.name)
    if pke is None:
        raise ValueError(f"no compact public key parameters for {p.name}")
    if p.secure and not pke.secure:
        raise ValueError("insecure compact public key parameters for a secure key")
    if pke.compute_name != p.name:
        raise ValueError(f"{pke.name} pairs with {pke.compute_name}, not {p.name}")
    if (pke.message_modulus, pke.carry_modulus) != (p.message_modulus, p.carry_modulus):
        raise ValueError("message and carry moduli differ from the compute parameters")
    if 2 * pke.lwe_dimension < MAX_LIST_BITS:
        raise ValueError("the PKE dimension must hold a full list under one mask")
    rng = rng or Csprng.from_os()
    secret = cpke.generate_secret(pke, rng.fork(b"compact-pke-secret"))
    pk = CompactPublicKey.generate(pke, secret, rng.fork(b"compact-public-key"))
    seed = rng.fork(b"casting-key-seed").random_bytes(32)
    bodies = cpke.casting_key_bodies(secret, client_key.lwe_key, pke, p.lwe_noise_log2,
                                     rng.fork(b"casting-key-noise"), seed)
    ksk = cpke.casting_key_from_seed(seed, bodies, p.lwe_dimension)
    return (CompactPkePrivateKey(pke, secret), pk,
            CastingKey(pke, p, ksk, pk.fingerprint, seed, bodies))


def save_public_key(pk: CompactPublicKey, path: str | os.PathLike) -> None:
    """The compact public key as a key file (tfhe.keys format: header, checksum)."""
    _save(path, "compact-public", _compute_params(pk.params),
          {"seed": np.frombuffer(pk.seed, dtype=np.uint8), "body": pk.body})


def load_public_key(path: str | os.PathLike,
                    params: Parameters | None = None) -> CompactPublicKey:
    p, arrays = _load(path, "compact-public", params)
    pke = _pke_for(p, path)
    body = arrays["body"]
    if body.shape != (pke.lwe_dimension,) or arrays["seed"].shape != (32,):
        raise KeyFileError(f"{path}: compact public key of the wrong shape")
    return CompactPublicKey(pke, arrays["seed"].tobytes(), body.astype(np.uint64))


# == client: building and encrypting a list ======================================================

def _check_value(value, code: int) -> int:
    name = TYPE_NAMES[code]
    if code == ADDRESS and isinstance(value, str | bytes | bytearray):
        if isinstance(value, str):
            h = value[2:] if value[:2].lower() == "0x" else value
            if len(h) != 40:
                raise CompactListError(f"an eaddress is 20 bytes (40 hex digits), got {value!r}")
            try:
                return int(h, 16)
            except ValueError:
                raise CompactListError(f"not a hex address: {value!r}") from None
        if len(value) != 20:
            raise CompactListError(f"an eaddress is 20 bytes, got {len(value)}")
        return int.from_bytes(value, "big")
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | np.integer):
        raise CompactListError(f"{name} takes an int, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value < (1 << TYPE_BITS[code]):
        raise CompactListError(f"{value} is out of range for {name} "
                               f"(0 .. 2^{TYPE_BITS[code]} - 1)")
    return value


class CompactListBuilder:
    """Collects typed values, then encrypts them as one compact list."""

    def __init__(self, public_key: CompactPublicKey) -> None:
        self.public_key = public_key
        self._values: list[tuple[int, int]] = []  # (type code, value)

    def __repr__(self) -> str:
        return f"CompactListBuilder({len(self._values)} values, {self.total_bits} bits)"

    def __len__(self) -> int:
        return len(self._values)

    @property
    def total_bits(self) -> int:
        return sum(counted_bits(c) for c, _ in self._values)

    @property
    def types(self) -> list[int]:
        return [c for c, _ in self._values]

    def push(self, value, type_code: int) -> CompactListBuilder:
        """Add a value of a type code (0 bool .. 8 uint256); checks range and list size."""
        if isinstance(type_code, bool) or type_code not in TYPE_BITS:
            raise CompactListError(f"unknown type code {type_code!r} (known: 0 .. 8)")
        code = int(type_code)
        v = _check_value(value, code)
        total = self.total_bits + counted_bits(code)
        if total > MAX_LIST_BITS:
            raise CompactListError(f"a list holds at most {MAX_LIST_BITS} bits; adding "
                                   f"{TYPE_NAMES[code]} would make {total}")
        self._values.append((code, v))
        return self

    def add_bool(self, v) -> CompactListBuilder:
        return self.push(v, 0)

    def add4(self, v) -> CompactListBuilder:
        return self.push(v, 1)

    def add8(self, v) -> CompactListBuilder:
        return self.push(v, 2)

    def add16(self, v) -> CompactListBuilder:
        return self.push(v, 3)

    def add32(self, v) -> CompactListBuilder:
        return self.push(v, 4)

    def add64(self, v) -> CompactListBuilder:
        return self.push(v, 5)

    def add128(self, v) -> CompactListBuilder:
        return self.push(v, 6)

    def add_address(self, v) -> CompactListBuilder:
        return self.push(v, 7)

    def add256(self, v) -> CompactListBuilder:
        return self.push(v, 8)

    def encrypt(self, rng: Csprng | None = None) -> CompactCiphertextList:
        if not self._values:
            raise CompactListError("an empty list: add at least one value")
        pk = self.public_key
        p = pk.params
        digits = []
        for code, v in self._values:
            digits += [(v >> (2 * j)) & 3 for j in range(_num_blocks(code))]
        pts = np.array(digits, dtype=np.uint64) << np.uint64(p.delta_log2)
        c1, c2 = pk.encrypt(pts, rng)
        return CompactCiphertextList(p, pk.fingerprint, tuple(self.types), c1, c2)


# == the list and its wire format ================================================================
# MAGIC | u8 version | u8 name length | PKE params name | 16-byte public key fingerprint |
# u16 value count | value count x u8 type code | u16 block count | N x u64 mask | bodies u64
# (all little-endian)

_MAGIC = b"FHEVMPY-CCTLIST"
_VERSION = 1
_FP_BYTES = 16


@dataclass(eq=False)
class CompactCiphertextList:
    params: CompactPkeParameters
    key_fingerprint: bytes
    types: tuple[int, ...]
    c1: np.ndarray  # (N,) uint64: the shared mask
    bodies: np.ndarray  # (blocks,) uint64

    def __repr__(self) -> str:
        names = ", ".join(TYPE_NAMES[c] for c in self.types)
        return f"CompactCiphertextList([{names}], {self.size_bytes} bytes)"

    def __len__(self) -> int:
        return len(self.types)

    @property
    def bits(self) -> list[int]:
        return [TYPE_BITS[c] for c in self.types]

    @property
    def total_bits(self) -> int:
        return sum(counted_bits(c) for c in self.types)

    @property
    def num_blocks(self) -> int:
        return int(self.bodies.shape[0])

    @property
    def size_bytes(self) -> int:
        return (len(_MAGIC) + 2 + len(self.params.name) + _FP_BYTES + 2 + len(self.types) + 2
                + 8 * (self.c1.shape[0] + self.bodies.shape[0]))

    def to_bytes(self) -> bytes:
        name = self.params.name.encode()
        return b"".join([
            _MAGIC, struct.pack("<BB", _VERSION, len(name)), name, self.key_fingerprint,
            struct.pack("<H", len(self.types)), bytes(self.types),
            struct.pack("<H", self.num_blocks),
            self.c1.astype("<u8").tobytes(), self.bodies.astype("<u8").tobytes()])

    @classmethod
    def from_bytes(cls, blob: bytes, public_key: CompactPublicKey | None = None,
                   params: CompactPkeParameters | None = None) -> CompactCiphertextList:
        """Parse and check a list; with `public_key`, it must be encrypted under that key."""
        blob = bytes(blob)
        if not blob.startswith(_MAGIC):
            raise CompactListError("not a compact ciphertext list (bad magic)")
        off = len(_MAGIC)
        try:
            version, name_len = struct.unpack_from("<BB", blob, off)
            off += 2
            if version != _VERSION:
                raise CompactListError(f"compact list format version {version}, this node "
                                       f"reads {_VERSION}")
            if off + name_len + _FP_BYTES > len(blob):
                raise struct.error
            name = blob[off:off + name_len].decode(errors="replace")
            off += name_len
            p = cpke.PKE_PARAMETER_SETS.get(name)
            if p is None:
                raise CompactListError(f"list for unknown parameters {name!r}")
            expected = public_key.params if public_key is not None else params
            if expected is not None and p != expected:
                raise CompactListError(f"list for parameters {name}, expected {expected.name}")
            fp = blob[off:off + _FP_BYTES]
            off += _FP_BYTES
            if public_key is not None and fp != public_key.fingerprint:
                raise CompactListError("list encrypted under another public key")
            (count,) = struct.unpack_from("<H", blob, off)
            off += 2
            if count == 0:
                raise CompactListError("an empty list")
            if count > MAX_LIST_BITS // 2:
                raise CompactListError(f"{count} values: a list holds at most "
                                       f"{MAX_LIST_BITS} bits")
            if off + count > len(blob):
                raise struct.error
            types = tuple(blob[off:off + count])
            off += count
            for i, code in enumerate(types):
                if code not in TYPE_BITS:
                    raise CompactListError(f"unknown type code {code} at index {i} "
                                           f"(known: 0 .. 8)")
            total = sum(counted_bits(c) for c in types)
            if total > MAX_LIST_BITS:
                raise CompactListError(f"list of {total} bits exceeds the {MAX_LIST_BITS}-bit "
                                       f"limit")
            (nblocks,) = struct.unpack_from("<H", blob, off)
            off += 2
            want = sum(_num_blocks(c) for c in types)
            if nblocks != want:
                raise CompactListError(f"{nblocks} blocks, but the types need {want}")
        except struct.error:
            raise CompactListError("truncated compact list (header)") from None
        size = off + 8 * (p.lwe_dimension + nblocks)
        if len(blob) < size:
            raise CompactListError(f"truncated compact list: {len(blob)} bytes, expected {size}")
        if len(blob) > size:
            raise CompactListError(f"{len(blob) - size} trailing bytes after the compact list")
        c1 = np.frombuffer(blob, dtype="<u8", count=p.lwe_dimension, offset=off)
        bodies = np.frombuffer(blob, dtype="<u8", count=nblocks, offset=off + 8 * p.lwe_dimension)
        return cls(p, fp, types, c1.astype(np.uint64), bodies.astype(np.uint64))

    def expand(self, casting_key: CastingKey, server_key) -> list[RadixCiphertext]:
        return expand(self, casting_key, server_key)

    def validate(self) -> None:
        """The checks of `from_bytes`, for a list built in memory."""
        if not self.types:
            raise CompactListError("an empty list")
        for i, code in enumerate(self.types):
            if code not in TYPE_BITS:
                raise CompactListError(f"unknown type code {code} at index {i} (known: 0 .. 8)")
        if self.total_bits > MAX_LIST_BITS:
            raise CompactListError(f"list of {self.total_bits} bits exceeds the "
                                   f"{MAX_LIST_BITS}-bit limit")
        want = sum(_num_blocks(c) for c in self.types)
        if self.bodies.shape != (want,) or self.c1.shape != (self.params.lwe_dimension,):
            raise CompactListError(f"{self.bodies.shape[0]} blocks, but the types need {want}")
        if len(self.key_fingerprint) != _FP_BYTES:
            raise CompactListError("malformed public key fingerprint")


# == node: expansion =============================================================================

_TABLES: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _tables(p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """(luts (2, N): [integer block, ebool], offsets (2,))."""
    key = (p.polynomial_size, p.delta_log2, p.total_modulus, p.message_modulus)
    if key not in _TABLES:
        t_int, o_int = cpke.sanitize_table(p.polynomial_size, p.delta_log2, p.total_modulus,
                                           p.message_modulus)
        t_bool, o_bool = cpke.sanitize_table(p.polynomial_size, p.delta_log2, p.total_modulus, 2)
        _TABLES[key] = (np.stack([t_int, t_bool]), np.array([o_int, o_bool], dtype=np.uint64))
    return _TABLES[key]


def _raw_server_key(server_key) -> tuple[ServerKey, ShortintServerKey | None]:
    shortint = getattr(server_key, "shortint", None)
    if isinstance(shortint, ShortintServerKey):
        return shortint.key, shortint
    if isinstance(server_key, ShortintServerKey):
        return server_key.key, server_key
    if isinstance(server_key, ServerKey):
        return server_key, None
    raise TypeError(f"expected a server key, got {type(server_key).__name__}")


def expand(lst: CompactCiphertextList, casting_key: CastingKey,
           server_key) -> list[RadixCiphertext]:
    """Fresh radix ciphertexts of a list: casting keyswitch, then one bootstrap per block.

    Every block comes out with nominal noise and degree 3 (1 for an ebool) whatever the
    list's bytes held: the sanitising table maps any phase into the block's range.
    """
    raw, counter = _raw_server_key(server_key)
    p = raw.params
    lst.validate()
    if lst.params != casting_key.params:
        raise CompactListError(f"list for {lst.params.name}, casting key for "
                               f"{casting_key.params.name}")
    if lst.key_fingerprint != casting_key.public_key_fingerprint:
        raise CompactListError("list encrypted under another public key")
    if p != casting_key.compute_params:
        raise CompactListError(f"server key for {p.name}, casting key for "
                               f"{casting_key.compute_params.name}")
    smalls = cpke.cast_to_small(lst.c1, lst.bodies, casting_key.ksk, lst.params)
    is_bool = np.concatenate([np.full(_num_blocks(c), c == BOOL) for c in lst.types])
    index = is_bool.astype(np.int64)
    luts, offsets = _tables(p)
    data = cpke.sanitize(smalls, index, luts, offsets[index], raw)
    if counter is not None:
        counter.count_bootstraps(data.shape[0])
    out, pos = [], 0
    for code in lst.types:
        n = _num_blocks(code)
        degree = 1 if code == BOOL else p.message_modulus - 1
        out.append(RadixCiphertext([Ciphertext(data[pos + j], degree, NOMINAL_NOISE)
                                    for j in range(n)], TYPE_BITS[code]))
        pos += n
    return out


def expand_bytes(blob: bytes, public_key: CompactPublicKey, casting_key: CastingKey,
                 server_key) -> tuple[list[int], list[RadixCiphertext]]:
    """The node's whole job on an uploaded list: check it, expand it -> (types, cts)."""
    lst = CompactCiphertextList.from_bytes(blob, public_key=public_key)
    return list(lst.types), expand(lst, casting_key, server_key)
