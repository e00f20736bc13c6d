"""tfhe: a TFHE engine (core crypto, shortint blocks, keys) in Python and Numba.

Knows nothing of Ethereum. Layers follow tfhe-rs: `tfhe.core` (LWE, GLWE, GGSW, FFT,
keyswitch, bootstrap), `tfhe.shortint` (2-bit message + 2-bit carry blocks, lookup
tables), `tfhe.keys` (ClientKey, ServerKey, files).
"""

from .core.threads import concurrent_calls_safe
from .keys import (
    ClientKey,
    CompressedServerKey,
    KeyFileError,
    ServerKey,
    generate_keys,
    load_or_generate,
)
from .params import DEFAULT, INSECURE_TEST_PARAMS, PARAMETER_SETS_BY_NAME, Parameters

__all__ = [
    "DEFAULT",
    "INSECURE_TEST_PARAMS",
    "ClientKey",
    "CompressedServerKey",
    "KeyFileError",
    "PARAMETER_SETS_BY_NAME",
    "Parameters",
    "ServerKey",
    "concurrent_calls_safe",
    "generate_keys",
    "load_or_generate",
]
