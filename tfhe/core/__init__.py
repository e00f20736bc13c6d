"""Core TFHE cryptography: torus arithmetic, LWE/GLWE/GGSW, FFT, keyswitch, bootstrap."""
