"""Sealing a party's share to the user's ephemeral X25519 key (ECIES: X25519, HKDF-SHA256,
ChaCha20-Poly1305). Layout: ephemeral public key (32) | nonce (12) | ciphertext+tag.

Both directions live here so the format is written once: the KMS parties (node.kms.party)
and the node's mock KMS seal, the SDK (fhevm.client.kms) opens."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_INFO = b"fhevm-py/kms/user-decryption/v1"


def _raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=eph + recipient, info=_INFO).derive(shared)


def encrypt_share(recipient: X25519PublicKey, payload: bytes, aad: bytes) -> bytes:
    """Seal `payload` to `recipient` with a fresh ephemeral key and nonce (OS CSPRNG)."""
    eph = X25519PrivateKey.generate()
    eph_pub = _raw(eph.public_key())
    key = _key(eph.exchange(recipient), eph_pub, _raw(recipient))
    nonce = os.urandom(12)
    return eph_pub + nonce + ChaCha20Poly1305(key).encrypt(nonce, payload, aad)


def decrypt_share(secret: X25519PrivateKey, sealed: bytes, aad: bytes) -> bytes:
    """Raises cryptography.exceptions.InvalidTag on a tampered or misdirected share."""
    if len(sealed) < 32 + 12 + 16:
        raise ValueError("sealed share too short")
    eph_pub = X25519PublicKey.from_public_bytes(sealed[:32])
    key = _key(secret.exchange(eph_pub), sealed[:32], _raw(secret.public_key()))
    return ChaCha20Poly1305(key).decrypt(sealed[32:44], sealed[44:], aad)
