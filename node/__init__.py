"""fhevm-node: a local fhEVM devnet speaking Ethereum JSON-RPC (like anvil / hardhat node)."""

__version__ = "0.1.0"
CHAIN_ID = 31337
CLIENT_VERSION = f"fhevm-node/v{__version__}/python"
