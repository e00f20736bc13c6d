"""fhevm: the EVM extension. Encrypted-integer precompiles (executor, ACL, KMS and input
verifiers) for py-evm, a journaled ciphertext store, HCU metering, and FHE backends.

Entry point for the node: `fhevm.runtime.FhevmRuntime` (docs/node-fhevm-interface.md).
"""
