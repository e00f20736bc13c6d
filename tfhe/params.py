"""TFHE parameter sets.

`DEFAULT` is the tfhe-rs 2-bit message / 2-bit carry KS-PBS set at 128-bit security and
p_fail <= 2^-128 (ciphertexts live under the big key; KS first, then PBS). Sets whose names
start with ``INSECURE_`` exist only to make unit tests fast: they offer no security at all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameters:
    """All the numbers that fix a TFHE instance (q = 2^64 everywhere)."""

    name: str
    lwe_dimension: int  # n: small LWE key (blind rotation input)
    glwe_dimension: int  # k
    polynomial_size: int  # N
    lwe_noise_log2: int  # TUniform bound 2^b for LWE (keyswitch key) noise
    glwe_noise_log2: int  # TUniform bound 2^b for GLWE (bootstrap key, fresh) noise
    pbs_base_log: int
    pbs_level: int
    ks_base_log: int
    ks_level: int
    message_modulus: int
    carry_modulus: int
    max_noise_level: int
    log2_p_fail: float
    secure: bool = True

    def __post_init__(self) -> None:
        n = self.polynomial_size
        if n & (n - 1) or n < 64:
            raise ValueError("polynomial_size must be a power of two >= 64")
        if self.pbs_base_log * self.pbs_level > 64 or self.ks_base_log * self.ks_level > 64:
            raise ValueError("decomposition deeper than the 64-bit torus")
        if not self.secure and not self.name.startswith("INSECURE_"):
            raise ValueError("an insecure parameter set must have a name starting with INSECURE_")

    @property
    def big_lwe_dimension(self) -> int:
        """Dimension of LWE ciphertexts under the GLWE key flattened (k * N)."""
        return self.glwe_dimension * self.polynomial_size

    @property
    def total_modulus(self) -> int:
        """message_modulus * carry_modulus: the plaintext space of one block."""
        return self.message_modulus * self.carry_modulus

    @property
    def delta_log2(self) -> int:
        """log2 of the scaling factor: one padding bit above message and carry."""
        return 64 - 1 - (self.total_modulus.bit_length() - 1)


DEFAULT = Parameters(
    name="PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128",
    lwe_dimension=918,
    glwe_dimension=1,
    polynomial_size=2048,
    lwe_noise_log2=45,
    glwe_noise_log2=17,
    pbs_base_log=23,
    pbs_level=1,
    ks_base_log=4,
    ks_level=4,
    message_modulus=4,
    carry_modulus=4,
    max_noise_level=5,
    log2_p_fail=-128.0,
)

# Small and fast for unit tests: a 256-dimensional LWE key offers no security.
INSECURE_TEST_PARAMS = Parameters(
    name="INSECURE_TEST_PARAMS",
    lwe_dimension=256,
    glwe_dimension=1,
    polynomial_size=1024,
    lwe_noise_log2=20,
    glwe_noise_log2=10,
    pbs_base_log=23,
    pbs_level=1,
    ks_base_log=4,
    ks_level=4,
    message_modulus=4,
    carry_modulus=4,
    max_noise_level=5,
    log2_p_fail=-128.0,
    secure=False,
)

PARAMETER_SETS = {p.name: p for p in (DEFAULT, INSECURE_TEST_PARAMS)}

# Lookup by the short names used on command lines.
PARAMETER_SETS_BY_NAME = {"DEFAULT": DEFAULT, **PARAMETER_SETS}
