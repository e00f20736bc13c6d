"""Compressed radix ciphertexts for storage (a stored euint64 is about 1.6 KB, raw 512 KiB).

The blocks of one or more integers are packed into GLWE ciphertexts of a small compression
key with a packing keyswitch, their coefficients rounded to the storage modulus and
bit-packed; decompression bootstraps each block back under the compute key (see
tfhe.core.packing). Before packing, each block is scaled by 4 and offset by 1.5 delta so
that its message sits in the carry bits: the noise of the keyswitch and of the rounding then
has two deltas of room on each side, and the decompression table maps the box [4m, 4m+3]
to m.

Parameters follow tfhe-rs's compression set for the 2_2 KS-PBS parameters: packing keyswitch
base 2^4 x 3 levels into k = 4, N = 256 with TUniform(2^43) noise, storage modulus 2^12
(= 2N of the compute set), 256 LWEs per GLWE, decompression bootstrap base 2^23 x 1.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core import fft_batch, oprf, packing
from ..core.csprng import Csprng
from ..core.ggsw import bootstrap_key
from ..keys import ClientKey, KeyFileError, ServerKey, _load, _save
from ..params import DEFAULT, INSECURE_TEST_PARAMS, Parameters
from ..shortint import Ciphertext
from ..shortint.lut import lookup_table
from .ciphertext import RadixCiphertext, blocks_for_bits

_MAGIC = b"FHEVMPY-CRADIX"
_VERSION = 1
_FINGERPRINT_BYTES = 8


class CompressionError(ValueError):
    """Compressed data that is corrupt, or belongs to another key or parameter set."""


@dataclass(frozen=True)
class CompressionParameters:
    name: str
    glwe_dimension: int  # k'
    polynomial_size: int  # N' (also the most LWEs per GLWE)
    noise_log2: int  # TUniform bound of the packing keyswitch key
    ks_base_log: int
    ks_level: int
    storage_log_modulus: int  # must be log2(2N) of the compute parameters
    lwe_per_glwe: int
    br_base_log: int
    br_level: int
    secure: bool = True


COMPRESSION_DEFAULT = CompressionParameters(
    name="COMP_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128",
    glwe_dimension=4, polynomial_size=256, noise_log2=43, ks_base_log=4, ks_level=3,
    storage_log_modulus=12, lwe_per_glwe=256, br_base_log=23, br_level=1,
)
# For INSECURE_TEST_PARAMS (N = 1024, so the storage modulus is 2^11). No security at all.
COMPRESSION_INSECURE = CompressionParameters(
    name="INSECURE_COMP_TEST_PARAMS",
    glwe_dimension=2, polynomial_size=256, noise_log2=20, ks_base_log=4, ks_level=3,
    storage_log_modulus=11, lwe_per_glwe=256, br_base_log=23, br_level=1, secure=False,
)
COMPRESSION_FOR = {DEFAULT.name: COMPRESSION_DEFAULT,
                   INSECURE_TEST_PARAMS.name: COMPRESSION_INSECURE}


@dataclass(frozen=True, eq=False)
class CompressionPrivateKey:
    """The compression GLWE key (secret; kept with the client key)."""

    params: CompressionParameters
    compute_params: Parameters
    glwe_key: np.ndarray  # (k', N') bits

    def __repr__(self) -> str:
        return f"CompressionPrivateKey({self.params.name}, <secret>)"

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "compression-private", self.compute_params, {"glwe_key": self.glwe_key})

    @classmethod
    def load(cls, path: str | os.PathLike,
             params: Parameters | None = None) -> CompressionPrivateKey:
        p, arrays = _load(path, "compression-private", params)
        return cls(COMPRESSION_FOR[p.name], p, arrays["glwe_key"])


@dataclass(frozen=True, eq=False)
class CompressionKey:
    """Public: the packing keyswitch key and the decompression bootstrapping key."""

    params: CompressionParameters
    compute_params: Parameters
    pksk: np.ndarray  # (kN, ks_level, k'+1, N') uint64
    bsk: np.ndarray  # one GGSW per compression key bit, engine's Fourier layout
    plan: np.ndarray  # FFT plan of the engine for N
    fingerprint: bytes
    _rotator: tuple | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"CompressionKey({self.params.name}, "
                f"{(self.pksk.nbytes + self.bsk.nbytes) / 2**20:.1f} MiB)")

    @classmethod
    def generate(cls, client_key: ClientKey, rng: Csprng | None = None,
                 params: CompressionParameters | None = None,
                 ) -> tuple[CompressionPrivateKey, CompressionKey]:
        """A compression key pair for the client key (secret part, public part)."""
        p = client_key.params
        cp = params or COMPRESSION_FOR.get(p.name)
        if cp is None:
            raise ValueError(f"no compression parameters for {p.name}")
        if 1 << cp.storage_log_modulus != 2 * p.polynomial_size:
            raise ValueError("the storage modulus must be 2N of the compute parameters")
        if p.secure and not cp.secure:
            raise ValueError("insecure compression parameters for a secure key")
        rng = rng or Csprng.from_os()
        key = rng.fork(b"compression-key").binary((cp.glwe_dimension, cp.polynomial_size))
        pksk = packing.packing_keyswitch_key(client_key.big_lwe_key, key, cp.ks_base_log,
                                             cp.ks_level, cp.noise_log2, rng.fork(b"pksk"))
        plan = fft_batch.make_plan(p.polynomial_size)
        bsk = bootstrap_key(key.reshape(-1), client_key.glwe_key, cp.br_base_log, cp.br_level,
                            p.glwe_noise_log2, rng.fork(b"decompression-bsk"), plan)
        return (CompressionPrivateKey(cp, p, key),
                cls(cp, p, pksk, bsk, plan, _fingerprint(pksk)))

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "compression", self.compute_params, {"pksk": self.pksk, "bsk": self.bsk})

    @classmethod
    def load(cls, path: str | os.PathLike, params: Parameters | None = None) -> CompressionKey:
        p, arrays = _load(path, "compression", params)
        cp = COMPRESSION_FOR.get(p.name)
        if cp is None:
            raise KeyFileError(f"{path}: no compression parameters for {p.name}")
        pksk = arrays["pksk"]
        return cls(cp, p, pksk, arrays["bsk"], fft_batch.make_plan(p.polynomial_size),
                   _fingerprint(pksk))

    # -- compression ------------------------------------------------------------------------
    def compress(self, cts: list[RadixCiphertext]) -> CompressedRadixList:
        """Pack the blocks of the integers (clean, degree <= 3) into stored GLWEs."""
        p, cp = self.compute_params, self.params
        dim = p.big_lwe_dimension + 1
        blocks = [b for ct in cts for b in ct.blocks]
        for b in blocks:
            if b.data.shape != (dim,):
                raise CompressionError("ciphertext is not from this key's parameter set")
            if b.degree > 3 or b.noise_level > p.max_noise_level:
                raise CompressionError("compress clean blocks (degree <= 3)")
        delta = np.uint64(1) << np.uint64(p.delta_log2)
        data = np.stack([b.data for b in blocks]) * np.uint64(4)
        data[:, -1] += np.uint64(3) * (delta >> np.uint64(1))  # + 1.5 delta
        glwes = []
        per = min(cp.lwe_per_glwe, cp.polynomial_size)
        for start in range(0, len(blocks), per):
            chunk = np.ascontiguousarray(data[start:start + per])
            consts = np.empty((chunk.shape[0], cp.glwe_dimension + 1, cp.polynomial_size),
                              dtype=np.uint64)
            packing.keyswitch_to_constants(chunk, self.pksk, cp.ks_base_log, cp.ks_level,
                                           consts)
            packed = np.empty(consts.shape[1:], dtype=np.uint64)
            packing.pack_constants(consts, packed)
            stored = packing.switch_to_storage(packed, cp.storage_log_modulus)
            glwes.append((stored[:-1].copy(), stored[-1, :chunk.shape[0]].copy()))
        return CompressedRadixList([ct.bits for ct in cts], glwes, cp, p.name,
                                   self.fingerprint)

    def decompress(self, compressed: CompressedRadixList,
                   server_key: ServerKey) -> list[RadixCiphertext]:
        """Bootstrap every stored block back under the compute key (one batch)."""
        p, cp = self.compute_params, self.params
        if compressed.params_name != p.name or compressed.fingerprint != self.fingerprint:
            raise CompressionError("compressed with another compression key")
        if server_key.params != p:
            raise CompressionError("server key of another parameter set")
        if self._rotator is None:
            rot = oprf.blind_rotator(server_key, self.bsk, cp.glwe_dimension * cp.polynomial_size,
                                     cp.br_base_log, cp.br_level)
            lut = lookup_table(p, lambda v: v // 4).poly[None, :]
            object.__setattr__(self, "_rotator", (rot, lut))
        rot, lut = self._rotator
        rows = []
        for masks, bodies in compressed.glwes:
            m, b = packing.extract_switched(np.asarray(masks, dtype=np.int64),
                                            np.asarray(bodies, dtype=np.int64), bodies.shape[0],
                                            cp.storage_log_modulus)
            rows.append(oprf.pad_small(m, b, p.big_lwe_dimension))
        data = np.concatenate(rows) if rows else np.zeros((0, p.big_lwe_dimension + 1),
                                                           dtype=np.uint64)
        out = rot.pbs_arrays(data, np.zeros(data.shape[0], dtype=np.int64), lut)
        blocks = [Ciphertext(row, 3, 1) for row in out]
        result, pos = [], 0
        for bits in compressed.bits:
            n = blocks_for_bits(bits)
            chunk = blocks[pos:pos + n]
            if bits == 1:
                chunk = [Ciphertext(chunk[0].data, 1, 1)]
            result.append(RadixCiphertext(chunk, bits))
            pos += n
        return result

    def bootstraps(self, compressed: CompressedRadixList) -> int:
        return sum(b.shape[0] for _, b in compressed.glwes)


def load_or_generate_compression(client_key: ClientKey, server_key: ServerKey,
                                 directory: str | os.PathLike) -> CompressionKey:
    """The compression key of `client_key` kept in `directory` (test and benchmark caches):
    loaded when the file is intact and belongs to this client key (checked by compressing
    and decompressing an encryption), otherwise generated and saved with its private half."""
    from .client import IntegerClientKey
    from .server import IntegerServerKey

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = client_key.params.name
    try:
        comp = CompressionKey.load(directory / f"{name}.compression", client_key.params)
        client = IntegerClientKey(client_key)
        server = IntegerServerKey(server_key, comp)
        if client.decrypt(server.from_bytes(server.to_bytes(client.encrypt(9, 8)))) != 9:
            raise KeyFileError("the cached compression key belongs to another client key")
        return comp
    except KeyFileError:
        priv, comp = CompressionKey.generate(client_key)
        priv.save(directory / f"{name}.compression-private")
        comp.save(directory / f"{name}.compression")
        return comp


def _fingerprint(pksk: np.ndarray) -> bytes:
    return hashlib.blake2b(memoryview(np.ascontiguousarray(pksk)).cast("B"),
                           digest_size=_FINGERPRINT_BYTES).digest()


@dataclass(eq=False)
class CompressedRadixList:
    """Stored form of a list of integers: 12-bit GLWE coefficients, bit-packed."""

    bits: list[int]
    glwes: list[tuple[np.ndarray, np.ndarray]]  # (masks (k', N'), bodies (count,)) in Z_2^s
    params: CompressionParameters
    params_name: str
    fingerprint: bytes

    def to_bytes(self) -> bytes:
        """MAGIC | version | compute-params name | fingerprint | widths | GLWEs."""
        cp = self.params
        s = cp.storage_log_modulus
        name = self.params_name.encode()
        head = [_MAGIC, struct.pack("<BB", _VERSION, len(name)), name, self.fingerprint,
                struct.pack("<H", len(self.bits)), struct.pack(f"<{len(self.bits)}H", *self.bits),
                struct.pack("<H", len(self.glwes))]
        body = []
        for masks, bodies in self.glwes:
            values = np.concatenate([masks.reshape(-1), bodies]).astype(np.uint16)
            body.append(struct.pack("<H", bodies.shape[0]))
            body.append(packing.pack_bits(values, s))
        return b"".join(head + body)

    @classmethod
    def from_bytes(cls, blob: bytes, params: CompressionParameters | None = None
                   ) -> CompressedRadixList:
        try:
            if not blob.startswith(_MAGIC):
                raise CompressionError("not a compressed ciphertext of this project")
            off = len(_MAGIC)
            version, name_len = struct.unpack_from("<BB", blob, off)
            off += 2
            if version != _VERSION:
                raise CompressionError(f"compressed format version {version} unknown")
            name = blob[off:off + name_len].decode()
            off += name_len
            cp = params or COMPRESSION_FOR.get(name)
            if cp is None:
                raise CompressionError(f"no compression parameters for {name}")
            fp = blob[off:off + _FINGERPRINT_BYTES]
            off += _FINGERPRINT_BYTES
            (count,) = struct.unpack_from("<H", blob, off)
            off += 2
            bits = list(struct.unpack_from(f"<{count}H", blob, off))
            off += 2 * count
            (nglwe,) = struct.unpack_from("<H", blob, off)
            off += 2
            glwes = []
            kn = cp.glwe_dimension * cp.polynomial_size
            s = cp.storage_log_modulus
            for _ in range(nglwe):
                (nb,) = struct.unpack_from("<H", blob, off)
                off += 2
                if nb > cp.polynomial_size:
                    raise CompressionError("corrupt compressed ciphertext")
                size = (s * (kn + nb) + 7) // 8
                if off + size > len(blob):
                    raise CompressionError("truncated compressed ciphertext")
                vals = packing.unpack_bits(blob[off:off + size], s, kn + nb)
                off += size
                glwes.append((vals[:kn].reshape(cp.glwe_dimension, cp.polynomial_size),
                              vals[kn:]))
            if off != len(blob):
                raise CompressionError("trailing bytes after the compressed ciphertext")
            if sum(blocks_for_bits(b) for b in bits) != sum(g[1].shape[0] for g in glwes):
                raise CompressionError("block count does not match the widths")
        except struct.error:
            raise CompressionError("truncated compressed ciphertext") from None
        return cls(bits, glwes, cp, name, fp)

    def __repr__(self) -> str:
        return f"CompressedRadixList({self.bits}, {len(self.to_bytes())} bytes)"

