"""Compact public-key encryption (Joye, "TFHE public-key encryption revisited", 2023).

Ring R = Z_q[X]/(X^N + 1), q = 2^64, N = `lwe_dimension` of the PKE parameters.

* Secret: a binary polynomial s (equivalently an LWE key s_0..s_{N-1}), dedicated to inputs
  (it is not the compute key; tfhe-rs calls this a dedicated compact public key).
* Public key: (a, b = a * s + e), a uniform in R and regenerated from a public 32-byte
  seed, e with TUniform coefficients. Stored as seed + b: N * 8 + 32 bytes.
* Encryption of up to N plaintext slots m_0..m_{k-1} (already scaled by delta): a fresh
  binary polynomial r and TUniform noises e1 (N coefficients), e2 (k coefficients);
      c1 = a * r + e1                   one mask shared by the whole list,
      c2_j = (b * r)_j + e2_j + m_j     one body per slot.
  Then c2 - c1 * s = e * r + e2 - e1 * s + m: slot j is the LWE ciphertext (A_j, c2_j) with
  A_j[i] = c1[j - i] for i <= j and -c1[N + j - i] for i > j (the coefficients of c1 that
  multiply s_i in coefficient j of c1 * s), under the LWE key s.
* Expansion (server side): a casting keyswitching key takes each slot from s to the small
  LWE key of the compute parameters (tfhe-rs's "PKE to small" casting: base 2^4, 4 levels,
  noise of the small key), keeping the top 32 bits as the engine does; its masks come from
  a public seed, so it is stored as seed + bodies (64 KiB instead of 29 MiB). A blind
  rotation (the "sanitising bootstrap") then lands it under the big compute key with
  nominal noise.
  `sanitize_table` builds a table whose output is a valid block for *any* input phase,
  the padding bit included, so a malformed slot can never claim a smaller degree than
  it has.

Reference parameters (tfhe-rs PARAM_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2
and PARAM_KEYSWITCH_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2): N = 2048,
TUniform(2^17), message and carry modulus 4, casting keyswitch base 2^4 x 4 levels.
Measured noise on DEFAULT: std about 2^21 for a slot, 2^53 after the casting keyswitch
(mostly the casting key's TUniform(2^45) noise), against half a box of 2^58.

No zero-knowledge proof of plaintext knowledge is produced or checked here. Without one,
anyone can take a ciphertext list they have seen (someone else's input, on chain or in the
mempool), re-randomise it homomorphically (add an encryption of zero under the public key,
which the node cannot tell apart from a fresh encryption) and submit it as their own input:
the node accepts it, and the contract then computes on a value the submitter does not know
but which is correlated with the victim's (equal to it, or shifted by a known amount). A
contract that decrypts or reveals anything derived from such an input to the submitter
becomes a decryption oracle for the victim's value. tfhe-rs closes this with a ZK proof
(ZKV2) bound to the list and to metadata (contract, user, chain); see the README.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

from . import bootstrap
from .csprng import Csprng
from .glwe import sample_extract_into
from .polynomial import mul_binary_accumulate

MAX_LIST_BITS = 2048  # the most plaintext bits one list carries (ebool counts as 2)


class CompactPkeError(ValueError):
    """A public key or ciphertext in compact form that is corrupt, truncated or foreign."""


@dataclass(frozen=True)
class CompactPkeParameters:
    """Input encryption parameters and the casting keyswitch that pairs them with a compute set.

    `compute_name` names the compute parameter set (tfhe.params) whose small key the casting
    keyswitch targets; the casting key's noise is that set's LWE noise.
    """

    name: str
    compute_name: str
    lwe_dimension: int  # N: ring degree, PKE secret length, most slots per mask
    noise_log2: int  # TUniform bound of e (key) and e1, e2 (encryption)
    message_modulus: int
    carry_modulus: int
    ks_base_log: int  # casting keyswitch to the compute small key
    ks_level: int
    secure: bool = True

    def __post_init__(self) -> None:
        n = self.lwe_dimension
        if n & (n - 1) or n < 64:
            raise ValueError("the PKE dimension must be a power of two >= 64")
        if self.ks_base_log * self.ks_level > 32:
            raise ValueError("the casting keyswitch keeps 32 bits: base_log * level <= 32")
        if not self.secure and not self.name.startswith("INSECURE_"):
            raise ValueError("an insecure parameter set must have a name starting with INSECURE_")

    @property
    def delta_log2(self) -> int:
        """Scaling of a slot: one padding bit above message and carry (as the compute set)."""
        return 63 - ((self.message_modulus * self.carry_modulus).bit_length() - 1)


PKE_DEFAULT = CompactPkeParameters(
    name="PARAM_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2",
    compute_name="PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128",
    lwe_dimension=2048, noise_log2=17, message_modulus=4, carry_modulus=4,
    ks_base_log=4, ks_level=4,
)
# Paired with INSECURE_TEST_PARAMS: a 1024-dimensional ring with tiny noise. No security.
INSECURE_PKE_TEST_PARAMS = CompactPkeParameters(
    name="INSECURE_PKE_TEST_PARAMS",
    compute_name="INSECURE_TEST_PARAMS",
    lwe_dimension=1024, noise_log2=10, message_modulus=4, carry_modulus=4,
    ks_base_log=4, ks_level=4, secure=False,
)
PKE_PARAMETER_SETS = {p.name: p for p in (PKE_DEFAULT, INSECURE_PKE_TEST_PARAMS)}
PKE_FOR = {p.compute_name: p for p in (PKE_DEFAULT, INSECURE_PKE_TEST_PARAMS)}


# -- keys ----------------------------------------------------------------------------------

def generate_secret(params: CompactPkeParameters, rng: Csprng) -> np.ndarray:
    """The PKE secret: N uniform bits (uint64)."""
    return rng.binary(params.lwe_dimension)


def mask_from_seed(seed: bytes, n: int) -> np.ndarray:
    """The public polynomial a of a compact public key, regenerated from its seed."""
    return Csprng(seed).fork(b"compact-public-key-mask").uniform_u64(n)


def negacyclic_mul_binary(poly: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """poly * binary in Z_2^64[X]/(X^N + 1), exact (binary: 0/1 coefficients)."""
    out = np.zeros_like(poly, dtype=np.uint64)
    mul_binary_accumulate(out, np.ascontiguousarray(poly, dtype=np.uint64),
                          np.ascontiguousarray(binary, dtype=np.uint64))
    return out


_PK_MAGIC = b"FHEVMPY-CPK"
_PK_VERSION = 1
_SEED_BYTES = 32


@dataclass(frozen=True, eq=False)
class CompactPublicKey:
    """(seed of a, b = a * s + e). Public: clients encrypt inputs with it."""

    params: CompactPkeParameters
    seed: bytes
    body: np.ndarray  # (N,) uint64
    _mask: list = field(default_factory=list, repr=False)  # cache of a

    def __repr__(self) -> str:
        return f"CompactPublicKey({self.params.name}, {self.fingerprint.hex()})"

    @classmethod
    def generate(cls, params: CompactPkeParameters, secret: np.ndarray,
                 rng: Csprng) -> CompactPublicKey:
        if secret.shape != (params.lwe_dimension,):
            raise ValueError("secret of another dimension")
        seed = rng.fork(b"compact-public-key-seed").random_bytes(_SEED_BYTES)
        a = mask_from_seed(seed, params.lwe_dimension)
        e = rng.fork(b"compact-public-key-noise").tuniform(params.lwe_dimension,
                                                           params.noise_log2)
        return cls(params, seed, negacyclic_mul_binary(a, secret) + e)

    @property
    def mask(self) -> np.ndarray:
        if not self._mask:
            self._mask.append(mask_from_seed(self.seed, self.params.lwe_dimension))
        return self._mask[0]

    @property
    def fingerprint(self) -> bytes:
        """16 bytes naming this key; ciphertext lists carry it so a node can match them."""
        return hashlib.blake2b(self.to_bytes(), digest_size=16,
                               person=b"fhevm-py-cpk").digest()

    # -- compact form: MAGIC | u8 version | u8 name length | name | seed | b (u64 LE) -------
    def to_bytes(self) -> bytes:
        name = self.params.name.encode()
        return b"".join([_PK_MAGIC, struct.pack("<BB", _PK_VERSION, len(name)), name,
                         self.seed, self.body.astype("<u8").tobytes()])

    @classmethod
    def from_bytes(cls, blob: bytes) -> CompactPublicKey:
        blob = bytes(blob)
        if not blob.startswith(_PK_MAGIC):
            raise CompactPkeError("not a compact public key of this project")
        off = len(_PK_MAGIC)
        if len(blob) < off + 2:
            raise CompactPkeError("truncated compact public key")
        version, name_len = struct.unpack_from("<BB", blob, off)
        off += 2
        if version != _PK_VERSION:
            raise CompactPkeError(f"compact public key format version {version}, this build "
                                  f"reads {_PK_VERSION}")
        name = blob[off:off + name_len].decode(errors="replace")
        params = PKE_PARAMETER_SETS.get(name)
        if params is None:
            raise CompactPkeError(f"unknown compact public key parameters {name!r}")
        off += name_len
        expected = off + _SEED_BYTES + 8 * params.lwe_dimension
        if len(blob) != expected:
            raise CompactPkeError(f"compact public key of {len(blob)} bytes, expected "
                                  f"{expected} for {name}")
        seed = blob[off:off + _SEED_BYTES]
        body = np.frombuffer(blob, dtype="<u8", offset=off + _SEED_BYTES,
                             count=params.lwe_dimension).astype(np.uint64)
        return cls(params, seed, body)

    # -- encryption ---------------------------------------------------------------------------
    def encrypt(self, plaintexts: np.ndarray, rng: Csprng | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Encrypt scaled plaintexts (k <= N, uint64) -> (c1 (N,), c2 (k,))."""
        p = self.params
        pts = np.atleast_1d(np.asarray(plaintexts, dtype=np.uint64))
        k = pts.shape[0]
        if not 1 <= k <= p.lwe_dimension:
            raise ValueError(f"a list holds 1 to {p.lwe_dimension} slots, not {k}")
        rng = rng or Csprng.from_os()
        r = rng.binary(p.lwe_dimension)
        e1 = rng.tuniform(p.lwe_dimension, p.noise_log2)
        e2 = rng.tuniform(k, p.noise_log2)
        c1 = negacyclic_mul_binary(self.mask, r) + e1
        c2 = negacyclic_mul_binary(self.body, r)[:k] + e2 + pts
        return c1, c2


def phases(secret: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """c2 - (c1 * s)[:k]: the scaled plaintexts plus noise (for tests and the client)."""
    return c2 - negacyclic_mul_binary(c1, secret)[:c2.shape[0]]


def slot_masks(c1: np.ndarray, count: int) -> np.ndarray:
    """The LWE masks A_j (count, N) of the first `count` slots (see the module docstring)."""
    n = c1.shape[0]
    v = np.concatenate([np.uint64(0) - c1, c1])  # v[N + t] = c1[t], v[t] = -c1[t]
    rv = np.ascontiguousarray(v[::-1])  # A_j[i] = v[N + j - i] = rv[N - 1 - j + i]
    windows = np.lib.stride_tricks.sliding_window_view(rv, n)
    return np.ascontiguousarray(windows[n - 1 - np.arange(count)])


# -- casting keyswitch ----------------------------------------------------------------------

def _casting_masks(seed: bytes, rows: int, n_small: int) -> np.ndarray:
    return Csprng(seed).fork(b"casting-key-mask").uniform_u64((rows, n_small))


def casting_key_bodies(secret: np.ndarray, small_key: np.ndarray,
                       params: CompactPkeParameters, noise_log2: int, rng: Csprng,
                       seed: bytes) -> np.ndarray:
    """Bodies (N, level) of the casting KSK whose masks come from the public `seed`.

    Row (i, j) encrypts secret[i] * q / B^(j+1) under the small key: body = <mask, s'> +
    noise + message, noise TUniform(2^noise_log2) from the secret stream `rng`.
    """
    n_in, level = secret.shape[0], params.ks_level
    masks = _casting_masks(seed, n_in * level, small_key.shape[0])
    shifts = np.array([64 - params.ks_base_log * (j + 1) for j in range(level)],
                      dtype=np.uint64)
    msgs = (secret.astype(np.uint64)[:, None] << shifts[None, :]).reshape(-1)
    bodies = masks @ small_key.astype(np.uint64) + rng.tuniform(n_in * level, noise_log2) + msgs
    return bodies.reshape(n_in, level)


def casting_key_from_seed(seed: bytes, bodies: np.ndarray, n_small: int) -> np.ndarray:
    """The casting KSK (N, level, n+1) uint32 (top 32 bits, rounded) from seed and bodies."""
    n_in, level = bodies.shape
    ksk = np.empty((n_in * level, n_small + 1), dtype=np.uint64)
    ksk[:, :n_small] = _casting_masks(seed, n_in * level, n_small)
    ksk[:, n_small] = bodies.reshape(-1)
    out = ((ksk + np.uint64(1 << 31)) >> np.uint64(32)).astype(np.uint32)
    return out.reshape(n_in, level, n_small + 1)


@njit(cache=True)
def _cast_chunk(c1: np.ndarray, bodies: np.ndarray, lo: int, hi: int, ksk: np.ndarray,
                base_log: int, level: int, out: np.ndarray) -> None:
    """Keyswitch slots lo..hi-1 into out (uint32 torus), reading each key row once.

    The mask of slot j is read straight from c1 (A_j[i] = +-c1[(j - i) mod N]); digits are
    balanced, of the top base_log * level bits rounded, as the engine's keyswitch.
    """
    n = c1.shape[0]
    nb = hi - lo
    width = out.shape[1]
    acc = np.zeros((nb, width), dtype=np.uint32)
    digits = np.empty((nb, level), dtype=np.uint32)
    total = base_log * level
    rshift = np.uint64(64 - total)
    rounding = np.uint64(1) << np.uint64(63 - total)
    mask = np.uint64((1 << base_log) - 1)
    half = np.uint64(1 << (base_log - 1))
    bl = np.uint64(base_log)
    for i in range(n):
        for b in range(nb):
            j = lo + b
            a = c1[j - i] if i <= j else np.uint64(0) - c1[n + j - i]
            v = (a + rounding) >> rshift
            for t in range(level - 1, -1, -1):
                d = v & mask
                carry = (d + half) >> bl
                digits[b, t] = np.uint32((d - (carry << bl)) & np.uint64(0xFFFFFFFF))
                v = (v >> bl) + carry
        for t in range(level):
            row = ksk[i, t]
            for b in range(nb):
                d = digits[b, t]
                if d != 0:
                    dst = acc[b]
                    for u in range(width):
                        dst[u] += d * row[u]
    w = width - 1
    for b in range(nb):
        body = (bodies[lo + b] + (np.uint64(1) << np.uint64(31))) >> np.uint64(32)
        for u in range(w):
            out[lo + b, u] = np.uint32(0) - acc[b, u]
        out[lo + b, w] = np.uint32(body & np.uint64(0xFFFFFFFF)) - acc[b, w]


@njit(cache=True, parallel=True)
def _cast_all(c1: np.ndarray, bodies: np.ndarray, ksk: np.ndarray, base_log: int, level: int,
              chunk: int, out: np.ndarray) -> None:
    total = bodies.shape[0]
    chunks = (total + chunk - 1) // chunk
    for k in prange(chunks):
        lo = k * chunk
        _cast_chunk(c1, bodies, lo, min(total, lo + chunk), ksk, base_log, level, out)


def cast_to_small(c1: np.ndarray, bodies: np.ndarray, ksk: np.ndarray,
                  params: CompactPkeParameters, chunk: int = 8) -> np.ndarray:
    """Every slot keyswitched to the compute small key: (k, n+1) uint32 (top 32 bits)."""
    n = params.lwe_dimension
    if c1.shape != (n,) or ksk.shape[:2] != (n, params.ks_level):
        raise ValueError("mask or casting key of another dimension")
    out = np.empty((bodies.shape[0], ksk.shape[2]), dtype=np.uint32)
    if bodies.shape[0]:
        _cast_all(np.ascontiguousarray(c1, dtype=np.uint64),
                  np.ascontiguousarray(bodies, dtype=np.uint64), ksk, params.ks_base_log,
                  params.ks_level, chunk, out)
    return out


# -- sanitising bootstrap -------------------------------------------------------------------

def sanitize_table(polynomial_size: int, delta_log2: int, total_modulus: int,
                   modulus: int) -> tuple[np.ndarray, np.uint64]:
    """Test polynomial and body offset that map any phase to a block in [0, modulus).

    Phases are read in boxes z = round(phase / delta) mod 2 * total_modulus; the negacyclic
    table gives T(z) for z < total_modulus and -T(z - total_modulus) above (padding bit
    set). With T(z) = (2 (z mod modulus) - (modulus - 1)) * delta / 2 and the offset
    (modulus - 1) * delta / 2 added to the body, the result is (z mod modulus) * delta below
    and (modulus - 1 - z mod modulus) * delta above: always in [0, modulus), the identity on
    honest inputs z < modulus.
    """
    n = polynomial_size
    box = n // total_modulus
    half_delta = np.uint64(1) << np.uint64(delta_log2 - 1)
    z = np.arange(total_modulus, dtype=np.int64)
    t = (2 * (z % modulus) - (modulus - 1)).astype(np.uint64) * half_delta  # wrapping
    values = np.repeat(t, box)
    half_box = box // 2
    poly = np.empty(n, dtype=np.uint64)  # rotated by half a box: boxes centred on z
    poly[:n - half_box] = values[half_box:]
    poly[n - half_box:] = np.uint64(0) - values[:half_box]
    return poly, np.uint64(modulus - 1) * half_delta


@njit(cache=True)
def _extract_rows(acc: np.ndarray, out: np.ndarray) -> None:
    for b in range(acc.shape[0]):
        sample_extract_into(acc[b], out[b])


def sanitize(smalls: np.ndarray, lut_index: np.ndarray, luts: np.ndarray,
             offsets: np.ndarray, server_key, piece: int = 256) -> np.ndarray:
    """Blind-rotate small-key LWEs (k, n+1) through their tables, extract, add the offsets.

    One call of the engine's batch API (`bootstrap.blind_rotate_batch`, every core busy)
    per `piece` slots, so memory stays bounded: rows (k, kN+1) uint64 under the big key.
    """
    p = server_key.params
    total = smalls.shape[0]
    out = np.empty((total, p.big_lwe_dimension + 1), dtype=np.uint64)
    threads = numba.get_num_threads()
    for start in range(0, total, piece):
        part = np.ascontiguousarray(smalls[start:start + piece])
        if part.dtype == np.uint32:  # the engine's other callers pass 64-bit torus values:
            part = part.astype(np.uint64) << np.uint64(32)  # share their compiled kernel
        acc = np.empty((part.shape[0], p.glwe_dimension + 1, p.polynomial_size),
                       dtype=np.uint64)
        bootstrap.blind_rotate_batch(
            part, np.ascontiguousarray(lut_index[start:start + piece], dtype=np.int64),
            np.ascontiguousarray(luts), server_key.bsk, server_key.plan, p.pbs_base_log,
            p.pbs_level, bootstrap.choose_chunk(part.shape[0], threads), acc)
        _extract_rows(acc, out[start:start + part.shape[0]])
    out[:, -1] += np.asarray(offsets, dtype=np.uint64)
    return out
