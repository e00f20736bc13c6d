"""A confidential token (ERC-7984) from deployment to decrypted balances.

    python examples/confidential_token.py            # against http://127.0.0.1:8545 (FHEVM_RPC_URL)

Alice deploys the token and mints herself 1000. She sends 300 to Bob with the amount
encrypted on her machine; nobody watching the chain learns it. Each of them then asks
the key-management service to decrypt their own balance, which it does only because the
token granted them access on chain. Finally Alice tries to send more than she has: the
transfer goes through but moves nothing, because a contract must never revert on a
secret (that would reveal it).
"""

from __future__ import annotations

import time

from _common import connect, deploy, send


def main() -> None:
    w3, client = connect()
    alice, bob = w3.eth.accounts[:2]
    t0 = time.perf_counter()

    token = deploy(w3, "ConfidentialToken", alice, "Confidential Gold", "cGOLD", "")
    print(f"1. Alice deployed the confidential token at {token.address}")

    send(w3, token.functions.mint(alice, 1000), alice)
    print("2. Alice minted 1000 cGOLD to herself (the balance is stored encrypted)")

    enc = client.create_input(token.address, alice).add64(300).encrypt()
    transfer = token.get_function_by_signature("confidentialTransfer(address,bytes32,bytes)")
    send(w3, transfer(bob, enc.handles[0], enc.input_proof), alice)
    print("3. Alice sent Bob an encrypted amount; on chain it is only the handle "
          f"0x{enc.handles[0].hex()[:16]}...")

    a = token.functions.confidentialBalanceOf(alice).call()
    b = token.functions.confidentialBalanceOf(bob).call()
    (alice_balance,) = client.user_decrypt([(a, token.address)], alice)
    (bob_balance,) = client.user_decrypt([(b, token.address)], bob)
    print(f"4. Decrypted by their owners: Alice has {alice_balance}, Bob has {bob_balance}")

    enc = client.create_input(token.address, bob).add64(5000).encrypt()
    send(w3, transfer(alice, enc.handles[0], enc.input_proof), bob)
    b = token.functions.confidentialBalanceOf(bob).call()
    (bob_balance,) = client.user_decrypt([(b, token.address)], bob)
    print(f"5. Bob tried to send 5000 he does not have: the transaction succeeded, moved "
          f"nothing, and he still has {bob_balance}")

    try:
        client.user_decrypt([(a, token.address)], bob)
        print("!! Bob could decrypt Alice's balance: this must not happen")
    except Exception as exc:  # DecryptionRefused
        print(f"6. Bob asking for Alice's balance is refused: {type(exc).__name__}")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
