"""Addresses of the fhEVM services at chain id 31337 (local config of @fhevm/solidity)."""

from __future__ import annotations

from eth_utils import to_canonical_address

ACL = to_canonical_address("0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D")
EXECUTOR = to_canonical_address("0xe3a9105a3a932253A70F126eb1E3b589C643dD24")
KMS_VERIFIER = to_canonical_address("0x901F8942346f7AB3a01F6D7613119Bca447Bb030")
# Free choice in Zama's stack; this is the value their local tooling uses.
INPUT_VERIFIER = to_canonical_address("0x36772142b74871f255CbD7A3e89B401d3e45825f")

# EIP-712 domains of the two verifiers (the "source" contracts on Zama's gateway chain),
# as the relayer SDK expects them for a local network. A genesis config may override them.
GATEWAY_CHAIN_ID = 10901
DECRYPTION_VERIFYING_CONTRACT = to_canonical_address("0x5ffdaAB0373E62E2ea2944776209aEf29E631A64")
INPUT_VERIFYING_CONTRACT = to_canonical_address("0x812b06e1CDCE800494b79fFE4f925A504a9A9810")

# Code placed at each precompile address in genesis: never executed (the precompile runs
# first) but makes EXTCODESIZE non-zero, as Solidity checks before a call. It reverts.
PLACEHOLDER_CODE = bytes.fromhex("60006000fd")
