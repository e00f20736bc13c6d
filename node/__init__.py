"""fhevm-node: a local fhEVM devnet speaking Ethereum JSON-RPC (like anvil / hardhat node)."""

import importlib.util
import os

# Keccak is hashed ~30 times per mined transaction: prefer the C implementation
# (safe-pysha3) over pycryptodome's, which eth-hash would otherwise pick first.
if "ETH_HASH_BACKEND" not in os.environ and importlib.util.find_spec("sha3") is not None:
    os.environ["ETH_HASH_BACKEND"] = "pysha3"

__version__ = "0.1.0"
CHAIN_ID = 31337
CLIENT_VERSION = f"fhevm-node/v{__version__}/python"
