"""The key-management service: threshold decryption of squashed ciphertexts.

n parties (n >= 3t + 1) hold Shamir shares of the squash LWE key over a prime field; each
answers with a partial decryption flooded by PRSS noise and signed with its secp256k1 key;
the combiner decodes with Reed-Solomon error correction. See docs/kms.md.

Modules: shamir, prss, threshold (partial decryption with noise flooding), dealer (key
generation into one directory per party), params (squash parameter sets), squashing (radix
ciphertext -> squashed LWEs, wire format), squasher (the node's squash-once service behind
fhevm_getSquashedCiphertext), party (the aiohttp service), client (talks to the parties;
opening and combining are the SDK's), launch (start the party processes). The pieces the
client also needs live once in fhevm.client: field (F_p and polynomials), rs (Gao
decoding), opening (shares -> plaintexts -> integer), sealing (shares sealed to the user's
X25519 key), kms (EIP-712 types and digests).
"""
