"""Squash parameter sets of the KMS, by name (the name is recorded in public/kms.json).

SQUASH is tfhe-rs's noise-squashing shape (k = 2, N = 2048: a 4096-dimension squashed LWE,
see docs/kms.md). INSECURE_SQUASH_TEST_PARAMS (k = 1, N = 1024) squashes about 4x faster
and gives 1024-dimension LWEs: it exists so that tests can run every width through real
squashing, and the dealer picks it only for an insecure engine parameter set (whose keys
protect nothing anyway). Plaintext scale and modulus are the same (2^124, 2^128), so the
threshold layer and the noise-flooding budget do not change.
"""

from __future__ import annotations

import dataclasses
import os

from tfhe.core.squash import SQUASH, SquashKey, SquashParameters

INSECURE_SQUASH_TEST_PARAMS = SquashParameters(glwe_dimension=1, polynomial_size=1024)

SQUASH_PARAMETER_SETS: dict[str, SquashParameters] = {
    "SQUASH": SQUASH,
    "INSECURE_SQUASH_TEST_PARAMS": INSECURE_SQUASH_TEST_PARAMS,
}


def squash_parameters(name: str) -> SquashParameters:
    """The parameter set called `name`; a clear error for an unknown one."""
    try:
        return SQUASH_PARAMETER_SETS[name]
    except KeyError:
        raise ValueError(f"unknown squash parameter set {name!r} (known: "
                         f"{', '.join(SQUASH_PARAMETER_SETS)})") from None


def squash_name_for(engine_params: object) -> str:
    """SQUASH for a secure engine parameter set, the insecure test set otherwise."""
    return "SQUASH" if getattr(engine_params, "secure", True) else "INSECURE_SQUASH_TEST_PARAMS"


def load_squash_key(path: str | os.PathLike, params: SquashParameters) -> SquashKey:
    """SquashKey.load (memory-mapped) tagged with `params`, which the key file does not
    record; refuses a key whose array shape is not that of `params`."""
    key = SquashKey.load(path)
    k, n, level = params.glwe_dimension, params.polynomial_size, params.level
    if tuple(key.bsk_hi.shape[1:]) != ((k + 1) * level, k + 1, n):
        raise ValueError(f"{path}: squash key shape {key.bsk_hi.shape} does not match the "
                         f"parameters (k={k}, N={n}, level={level})")
    if key.params != params:
        key = dataclasses.replace(key, params=params)
    return key
