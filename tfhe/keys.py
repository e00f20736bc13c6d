"""Client and server keys: generation (with a progress bar), save and load.

The client key holds the secrets: the small LWE key (dimension n) and the GLWE key
(k x N, flattened into the big LWE key under which ciphertexts live). The server key holds
what evaluation needs and nothing secret: the keyswitching key (big -> small) and the
bootstrapping key in the Fourier domain.

Key files start with a versioned header naming the kind and parameter set, and end with a
BLAKE2b checksum of everything before it, so a truncated, corrupt or mismatched file is
refused with a clear error instead of producing garbage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .core import fft_batch
from .core.csprng import Csprng
from .core.ggsw import bootstrap_key_bodies, bootstrap_key_from_bodies
from .core.lwe import keyswitch_key
from .params import PARAMETER_SETS, Parameters

MAGIC = b"FHEVMPY-TFHE-KEY"
FORMAT_VERSION = 2
_CHECKSUM_BYTES = 32


class KeyFileError(ValueError):
    """A key file is missing, truncated, corrupt, of another kind or another version."""


@dataclass(frozen=True, eq=False)
class ClientKey:
    params: Parameters
    lwe_key: np.ndarray  # (n,) uint64 bits
    glwe_key: np.ndarray  # (k, N) uint64 bits

    def __repr__(self) -> str:  # never print secrets
        return f"ClientKey({self.params.name}, <secret>)"

    @property
    def big_lwe_key(self) -> np.ndarray:
        return self.glwe_key.reshape(-1)

    @classmethod
    def generate(cls, params: Parameters, rng: Csprng | None = None) -> ClientKey:
        rng = rng or Csprng.from_os()
        return cls(
            params,
            rng.binary(params.lwe_dimension),
            rng.binary((params.glwe_dimension, params.polynomial_size)),
        )

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "client", self.params, {"lwe_key": self.lwe_key, "glwe_key": self.glwe_key})

    @classmethod
    def load(cls, path: str | os.PathLike, params: Parameters | None = None) -> ClientKey:
        p, arrays = _load(path, "client", params)
        return cls(p, arrays["lwe_key"], arrays["glwe_key"])


@dataclass(frozen=True, eq=False)
class ServerKey:
    params: Parameters
    ksk: np.ndarray  # (kN, ks_level, n+1) uint32: top 32 bits of each element
    bsk: np.ndarray  # (n, N/2, 2, (k+1)*pbs_level, k+1) float64, Fourier domain
    plan: np.ndarray  # FFT plan (twist and twiddles), derived from N

    def __repr__(self) -> str:
        return f"ServerKey({self.params.name}, {self.size_bytes / 2**20:.1f} MiB)"

    @property
    def size_bytes(self) -> int:
        return self.ksk.nbytes + self.bsk.nbytes

    @classmethod
    def generate(cls, client_key: ClientKey, rng: Csprng | None = None,
                 progress: bool = False) -> ServerKey:
        """Generate through the compressed form, so both describe the very same key."""
        bar = _progress_bar(client_key.params, progress, "server key", 2)
        try:
            compressed = CompressedServerKey.generate(client_key, rng, bar)
            return compressed.decompress(bar)
        finally:
            if bar is not None:
                bar.close()

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "server", self.params, {"ksk": self.ksk, "bsk": self.bsk})

    @classmethod
    def load(cls, path: str | os.PathLike, params: Parameters | None = None) -> ServerKey:
        p, arrays = _load(path, "server", params)
        return cls(p, arrays["ksk"], arrays["bsk"], fft_batch.make_plan(p.polynomial_size))


def _progress_bar(params: Parameters, progress: bool, desc: str, passes: int):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=passes * (params.lwe_dimension + 1), desc=desc, unit="key bit")


@dataclass(frozen=True, eq=False)
class CompressedServerKey:
    """The server key as bodies plus the public seed of its masks (about a third the size).

    Masks are the output of a ChaCha20 stream keyed by `mask_seed`: anyone can regenerate
    them, and they reveal nothing (they are uniform and independent of the secrets).
    """

    params: Parameters
    mask_seed: np.ndarray  # (32,) uint8, public
    ksk_bodies: np.ndarray  # (kN * ks_level,) uint64
    bsk_bodies: np.ndarray  # (n, (k+1) * pbs_level, N) uint64

    def __repr__(self) -> str:
        return f"CompressedServerKey({self.params.name}, {self.size_bytes / 2**20:.1f} MiB)"

    @property
    def size_bytes(self) -> int:
        return self.mask_seed.nbytes + self.ksk_bodies.nbytes + self.bsk_bodies.nbytes

    def _mask_streams(self) -> tuple[Csprng, Csprng]:
        seed = Csprng(self.mask_seed.tobytes())
        return seed.fork(b"ksk-mask"), seed.fork(b"bsk-mask")

    @classmethod
    def generate(cls, client_key: ClientKey, rng: Csprng | None = None,
                 bar=None) -> CompressedServerKey:
        p = client_key.params
        rng = rng or Csprng.from_os()
        compressed = cls(p, np.frombuffer(os.urandom(32), dtype=np.uint8).copy(),
                         np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64))
        ksk_masks, bsk_masks = compressed._mask_streams()
        ksk = keyswitch_key(client_key.big_lwe_key, client_key.lwe_key, p.ks_base_log,
                            p.ks_level, p.lwe_noise_log2, rng.fork(b"ksk-noise"), ksk_masks)
        if bar is not None:
            bar.update(1)
        bodies = bootstrap_key_bodies(client_key.lwe_key, client_key.glwe_key, p.pbs_base_log,
                                      p.pbs_level, p.glwe_noise_log2, rng.fork(b"bsk-noise"),
                                      bsk_masks, bar.update if bar is not None else None)
        return cls(p, compressed.mask_seed, np.ascontiguousarray(ksk[:, :, -1].reshape(-1)),
                   bodies)

    def decompress(self, bar=None) -> ServerKey:
        """Regenerate the masks and build the evaluation key (Fourier domain, 32-bit KSK)."""
        p = self.params
        ksk_masks, bsk_masks = self._mask_streams()
        n_in = p.big_lwe_dimension
        rows = n_in * p.ks_level
        ksk = np.empty((rows, p.lwe_dimension + 1), dtype=np.uint64)
        ksk[:, :-1] = ksk_masks.uniform_u64((rows, p.lwe_dimension))
        ksk[:, -1] = self.ksk_bodies
        # keep the top 32 bits, rounded: the rest is far below the TUniform(2^45) noise
        ksk32 = ((ksk + np.uint64(1 << 31)) >> np.uint64(32)).astype(np.uint32)
        if bar is not None:
            bar.update(1)
        plan = fft_batch.make_plan(p.polynomial_size)
        bsk = bootstrap_key_from_bodies(self.bsk_bodies, p.glwe_dimension, bsk_masks, plan,
                                        bar.update if bar is not None else None)
        return ServerKey(p, ksk32.reshape(n_in, p.ks_level, p.lwe_dimension + 1), bsk, plan)

    def save(self, path: str | os.PathLike) -> None:
        _save(path, "compressed-server", self.params, {
            "mask_seed": self.mask_seed, "ksk_bodies": self.ksk_bodies,
            "bsk_bodies": self.bsk_bodies})

    @classmethod
    def load(cls, path: str | os.PathLike,
             params: Parameters | None = None) -> CompressedServerKey:
        p, a = _load(path, "compressed-server", params)
        return cls(p, a["mask_seed"], a["ksk_bodies"], a["bsk_bodies"])


def generate_keys(params: Parameters, progress: bool = False) -> tuple[ClientKey, ServerKey]:
    """A fresh key pair from the operating system's entropy."""
    rng = Csprng.from_os()
    ck = ClientKey.generate(params, rng.fork(b"client"))
    return ck, ServerKey.generate(ck, rng.fork(b"server"), progress=progress)


def load_or_generate(params: Parameters, directory: str | os.PathLike,
                     progress: bool = False) -> tuple[ClientKey, ServerKey]:
    """The key pair for `params` kept in `directory` (test and benchmark caches): loaded
    when both files are there and intact, otherwise generated and saved. Files are
    checksummed and written atomically, so a torn or foreign file is replaced, never used;
    the pair is replaced together so client and server key always match."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ck_path = directory / f"{params.name}.client"
    sk_path = directory / f"{params.name}.server"
    try:
        return ClientKey.load(ck_path, params), ServerKey.load(sk_path, params)
    except KeyFileError:
        ck, sk = generate_keys(params, progress=progress)
        sk.save(sk_path)
        ck.save(ck_path)
        return ck, sk


# -- file format ----------------------------------------------------------------------------
# MAGIC | u32 version | u32 header length | header JSON | arrays (raw, C order) | BLAKE2b-256


def _save(path: str | os.PathLike, kind: str, params: Parameters,
          arrays: dict[str, np.ndarray]) -> None:
    layout = [
        {"name": k, "dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()
    ]
    header = json.dumps(
        {"kind": kind, "params": dataclasses.asdict(params), "arrays": layout}
    ).encode()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    digest = hashlib.blake2b(digest_size=_CHECKSUM_BYTES)
    with open(tmp, "wb") as f:
        for chunk in (MAGIC, struct.pack("<II", FORMAT_VERSION, len(header)), header):
            f.write(chunk)
            digest.update(chunk)
        for v in arrays.values():
            data = memoryview(np.ascontiguousarray(v)).cast("B")
            f.write(data)
            digest.update(data)
        f.write(digest.digest())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: a crash never leaves half a key file behind


def _load(path: str | os.PathLike, kind: str,
          expected: Parameters | None) -> tuple[Parameters, dict[str, np.ndarray]]:
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    if len(blob) < len(MAGIC) + 8 + _CHECKSUM_BYTES or not blob.startswith(MAGIC):
        raise KeyFileError(f"{path}: not a key file of this project")
    body, checksum = memoryview(blob)[:-_CHECKSUM_BYTES], blob[-_CHECKSUM_BYTES:]
    if hashlib.blake2b(body, digest_size=_CHECKSUM_BYTES).digest() != checksum:
        raise KeyFileError(f"{path}: checksum mismatch (truncated or corrupt file)")
    version, header_len = struct.unpack_from("<II", blob, len(MAGIC))
    if version != FORMAT_VERSION:
        raise KeyFileError(f"{path}: key format version {version}, this build reads "
                           f"{FORMAT_VERSION}; regenerate the keys")
    start = len(MAGIC) + 8
    try:
        header = json.loads(bytes(body[start:start + header_len]))
        params = Parameters(**header["params"])
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyFileError(f"{path}: unreadable header ({exc})") from None
    if header.get("kind") != kind:
        raise KeyFileError(f"{path}: holds a {header.get('kind')} key, expected a {kind} key")
    known = PARAMETER_SETS.get(params.name)
    if known is not None and known != params:
        raise KeyFileError(f"{path}: parameters named {params.name} differ from this build's")
    if expected is not None and params != expected:
        raise KeyFileError(f"{path}: key for parameters {params.name}, expected {expected.name}")
    offset = start + header_len
    arrays: dict[str, np.ndarray] = {}
    for spec in header["arrays"]:
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"]))
        nbytes = count * dtype.itemsize
        if offset + nbytes > len(body):
            raise KeyFileError(f"{path}: truncated array {spec['name']}")
        arrays[spec["name"]] = np.frombuffer(blob, dtype=dtype, count=count,
                                             offset=offset).reshape(spec["shape"])
        offset += nbytes
    if offset != len(body):
        raise KeyFileError(f"{path}: trailing bytes after the arrays")
    return params, arrays
