"""Wrapping a public ERC-20 into a confidential token, and back, with a public decryption.

    python examples/erc20_wrapper.py            # against http://127.0.0.1:8545 (FHEVM_RPC_URL)

Alice holds a plain, public ERC-20 (GOLD): everybody can read its balances. She locks some
of it in the wrapper (contracts/token/ERC20Wrapper.sol) and receives the same amount of
cGOLD, a confidential ERC-7984 token whose balances are encrypted. She sends Bob cGOLD
without anyone learning how much. Bob then unwraps part of his: the wrapper burns the
encrypted amount and marks it publicly decryptable; the key-management service (KMS)
decrypts it and signs the cleartext, and `finalizeUnwrap` checks that signature on chain
before it releases the public GOLD to Bob.
"""

from __future__ import annotations

import time

from _common import connect, deploy, revert_error, send
from web3.logs import DISCARD

DECIMALS = 6  # the wrapper keeps the decimals of an underlying with 6 or fewer (rate 1)
UNIT = 10**DECIMALS


def fmt(amount: int) -> str:
    return f"{amount / UNIT:g}"


def main() -> None:
    w3, client = connect()
    alice, bob = w3.eth.accounts[:2]
    t0 = time.perf_counter()

    gold = deploy(w3, "PlainERC20", alice, "Gold", "GOLD", DECIMALS)
    send(w3, gold.functions.mint(alice, 1000 * UNIT), alice)
    print(f"1. Alice deployed a plain ERC-20, GOLD, at {gold.address} and minted herself "
          "1000 GOLD (public: anyone can read it)")

    wrapper = deploy(w3, "ERC20Wrapper", alice, gold.address, "Confidential Gold", "cGOLD", "")
    print(f"2. Alice deployed the wrapper cGOLD at {wrapper.address} "
          f"(rate {wrapper.functions.rate().call()}: 1 GOLD wraps into 1 cGOLD)")

    def public_balances(step: str) -> None:
        a, b, w = (fmt(gold.functions.balanceOf(x).call()) for x in (alice, bob, wrapper.address))
        print(f"   {step} public GOLD balances: Alice {a}, Bob {b}, wrapper {w}")

    def decrypt_own(who: str) -> int:
        handle = wrapper.functions.confidentialBalanceOf(who).call()
        if not any(handle):  # the zero handle: no balance yet
            return 0
        (value,) = client.user_decrypt([(handle, wrapper.address)], who)
        return value

    def confidential_balances(step: str) -> None:
        a_value, b_value = (decrypt_own(who) for who in (alice, bob))
        print(f"   {step} cGOLD balances, each decrypted by its owner: Alice {fmt(a_value)}, "
              f"Bob {fmt(b_value)}")

    public_balances("before:")

    send(w3, gold.functions.approve(wrapper.address, 400 * UNIT), alice)
    send(w3, wrapper.functions.wrap(alice, 400 * UNIT), alice)
    print("3. Alice approved the wrapper and wrapped 400 GOLD: the wrapper now holds them and "
          "minted her 400 cGOLD")
    public_balances("after wrapping:")
    confidential_balances("after wrapping:")

    enc = client.create_input(wrapper.address, alice).add64(150 * UNIT).encrypt()
    transfer = wrapper.get_function_by_signature("confidentialTransfer(address,bytes32,bytes)")
    send(w3, transfer(bob, enc.handles[0], enc.input_proof), alice)
    print("4. Alice sent Bob cGOLD with the amount encrypted on her machine; on chain it is "
          f"only the handle 0x{enc.handles[0].hex()[:16]}...")
    public_balances("after the transfer (unchanged):")
    confidential_balances("after the transfer:")

    enc = client.create_input(wrapper.address, bob).add64(100 * UNIT).encrypt()
    unwrap = wrapper.get_function_by_signature("unwrap(address,address,bytes32,bytes)")
    receipt = send(w3, unwrap(bob, bob, enc.handles[0], enc.input_proof), bob)
    (event,) = wrapper.events.UnwrapRequested().process_receipt(receipt, errors=DISCARD)
    request = bytes(event["args"]["unwrapRequestId"])
    print("5. Bob asked to unwrap an encrypted amount: the wrapper burnt it from his cGOLD and "
          f"made it publicly decryptable (request 0x{request.hex()[:16]}...)")

    result = client.public_decrypt([request])
    (amount,) = result.values
    print(f"6. The KMS decrypted the burnt amount for everyone: {fmt(amount)} cGOLD, with a "
          f"signed proof of {len(result.proof)} bytes")

    forged = revert_error(wrapper, wrapper.functions.finalizeUnwrap(request, 400 * UNIT,
                                                                    result.proof), bob)
    print(f"7. Claiming 400 with that proof is rejected on chain ({forged or 'accepted!?'}): "
          "the signature covers the real cleartext")

    send(w3, wrapper.functions.finalizeUnwrap(request, amount, result.proof), bob)
    print(f"8. finalizeUnwrap checked the KMS signature and released {fmt(amount)} GOLD to Bob")
    public_balances("after:")
    confidential_balances("after:")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
