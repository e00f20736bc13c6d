"""Negacyclic polynomial products through a complex FFT of half size.

A real polynomial p of size N modulo X^N + 1 is folded into N/2 complex numbers
z_j = (p_j + i p_{j+N/2}) * w^j with w = exp(i pi / N) (the twist), then transformed by
a plain FFT of size N/2; pointwise products in that domain are negacyclic products.
Torus elements (uint64) enter as signed 64-bit integers converted to float64; results
come back rounded and wrapped modulo 2^64. The rounding error of float64 is part of the
bootstrap noise (as in tfhe-rs's 64-bit FFT backend).
"""

from __future__ import annotations

import numpy as np

_TWO64 = 18446744073709551616.0
_INV_TWO64 = 1.0 / _TWO64


def twisting_factors(polynomial_size: int) -> np.ndarray:
    half = polynomial_size // 2
    return np.exp(1j * np.pi * np.arange(half) / polynomial_size)


def forward(polys: np.ndarray) -> np.ndarray:
    """Fourier transform of real polynomials (..., N) float64 -> (..., N/2) complex128."""
    n = polys.shape[-1]
    half = n // 2
    return np.fft.fft((polys[..., :half] + 1j * polys[..., half:]) * twisting_factors(n),
                      axis=-1)


def backward(spectra: np.ndarray) -> np.ndarray:
    """Inverse of `forward`, unrounded: (..., N/2) complex128 -> (..., N) float64."""
    half = spectra.shape[-1]
    z = np.fft.ifft(spectra, axis=-1) * np.conj(twisting_factors(2 * half))
    return np.concatenate([z.real, z.imag], axis=-1)


def forward_u64(polys: np.ndarray) -> np.ndarray:
    """Fourier transform of torus polynomials (..., N) uint64 -> (..., N/2) complex128."""
    return forward(polys.view(np.int64).astype(np.float64))


def backward_u64(spectra: np.ndarray) -> np.ndarray:
    """Inverse of `forward_u64` (rounded, wrapped modulo 2^64)."""
    out = backward(spectra)
    out = out - np.round(out * _INV_TWO64) * _TWO64
    return np.round(out).astype(np.int64).view(np.uint64)
