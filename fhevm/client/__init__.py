"""fhevm.client: the Python SDK of the fhEVM devnet, on web3.py.

    from fhevm.client import FhevmClient
    client = FhevmClient(w3)                                   # asks the node fhevm_nodeInfo
    enc = client.create_input(contract.address, alice.address).add64(42).add_bool(True).encrypt()
    contract.functions.store(enc.handles[0], enc.handles[1], enc.input_proof).transact(...)
    client.user_decrypt([(handle, contract.address)], alice)   # -> [42, ...] typed values
    client.public_decrypt([handle])                            # .values, .cleartexts, .proof

`AsyncFhevmClient` offers the same on `AsyncWeb3` (`await AsyncFhevmClient.connect(w3)`).
Typed results: ebool -> bool, eaddress -> checksummed address, others -> int.
Errors (fhevm.client.errors) say what to do: NodeNotRunning, NotAnFhevmNode, WrongChain,
InputRejected, DecryptionRefused (ACL), DecryptionError (bad or tampered answers).
"""

from fhevm.client.client import (
    AsyncFhevmClient,
    AsyncInputBuilder,
    EncryptedInput,
    FhevmClient,
    InputBuilder,
    NodeInfo,
    PublicDecryption,
)
from fhevm.client.errors import (
    DecryptionError,
    DecryptionRefused,
    FhevmClientError,
    InputRejected,
    NodeNotRunning,
    NotAnFhevmNode,
    RpcError,
    WrongChain,
)
from fhevm.client.kms import KmsInfo

__all__ = [
    "AsyncFhevmClient", "AsyncInputBuilder", "DecryptionError", "DecryptionRefused",
    "EncryptedInput", "FhevmClient", "FhevmClientError", "InputBuilder", "InputRejected",
    "KmsInfo", "NodeInfo", "NodeNotRunning", "NotAnFhevmNode", "PublicDecryption", "RpcError",
    "WrongChain",
]
