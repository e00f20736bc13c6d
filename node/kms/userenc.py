"""Sealing shares to the user's key: fhevm.client.sealing (one implementation for the parties
that seal and the SDK that opens); this name stays for node.decryption's mock KMS."""

from fhevm.client.sealing import decrypt_share as decrypt_share
from fhevm.client.sealing import encrypt_share as encrypt_share
