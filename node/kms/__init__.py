"""The key-management service: threshold decryption of squashed ciphertexts.

n parties (n >= 3t + 1) hold Shamir shares of the squash LWE key over a prime field; each
answers with a partial decryption flooded by PRSS noise and signed with its secp256k1 key;
the combiner decodes with Reed-Solomon error correction. See docs/kms.md.

Modules: field (F_p arithmetic and polynomials), rs (Gao decoding), shamir, prss,
threshold (partial decryption and robust reconstruction), dealer (key generation into one
directory per party), params (squash parameter sets), squashing (radix ciphertext <->
squashed LWEs, wire format), squasher (the node's squash-once service behind
fhevm_getSquashedCiphertext), party (the aiohttp service), client (combiner and request
builders), launch (start the party processes).
"""
