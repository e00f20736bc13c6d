"""Confidential voting: secret ballots, an encrypted tally, a result revealed after the deadline.

    python examples/confidential_voting.py      # against http://127.0.0.1:8545 (FHEVM_RPC_URL)

Alice opens a yes/no poll (contracts/apps/ConfidentialVoting.sol) for ten minutes. Five
voters each cast a ballot encrypted on their own machine; the contract adds it to encrypted
yes and no tallies, so nobody (Alice included) learns a vote or the running count. A second
vote from the same address is refused, and so is an early reveal. After the deadline (the
example moves the devnet's clock forward) anyone asks for the tallies to be made publicly
decryptable, the key-management service (KMS) decrypts and signs them, and `revealTally`
checks that signature on chain before it publishes the result.
"""

from __future__ import annotations

import time

from _common import advance_time_to, connect, deploy, revert_error, send

VOTING_TIME = 600  # seconds
QUESTION = "Ship the new release on Friday?"


def main() -> None:
    w3, client = connect()
    accounts = w3.eth.accounts
    names = dict(zip(accounts[:5], ["Alice", "Bob", "Carol", "Dave", "Erin"], strict=True))
    alice, bob = accounts[:2]
    t0 = time.perf_counter()

    poll = deploy(w3, "ConfidentialVoting", alice, QUESTION, VOTING_TIME)
    deadline = poll.functions.deadline().call()
    print(f"1. Alice opened the poll \"{poll.functions.question().call()}\" at {poll.address}; "
          f"voting closes in {VOTING_TIME} s")

    ballots = dict(zip(names, [True, False, True, True, False], strict=True))
    for who, support in ballots.items():
        enc = client.create_input(poll.address, who).add_bool(support).encrypt()
        send(w3, poll.functions.vote(enc.handles[0], enc.input_proof), who)
    print(f"2. {', '.join(names.values())} each cast a yes/no ballot encrypted on their machine; "
          f"the chain shows that {poll.functions.voterCount().call()} have voted, not what "
          "they voted")

    enc = client.create_input(poll.address, bob).add_bool(True).encrypt()
    twice = revert_error(poll, poll.functions.vote(enc.handles[0], enc.input_proof), bob)
    print(f"3. Bob tries to vote a second time: refused ({twice})")

    yes = poll.functions.yesTally().call()
    try:
        client.user_decrypt([(yes, poll.address)], alice)
        print("!! Alice could decrypt the running tally: this must not happen")
    except Exception as exc:  # DecryptionRefused
        print("4. The tallies stay encrypted: Alice, who created the poll, asking the KMS for "
              f"the running yes count is refused: {type(exc).__name__}")

    early = revert_error(poll, poll.functions.requestReveal(), bob)
    print(f"5. Asking to reveal the tally before the deadline: rejected ({early})")

    advance_time_to(w3, deadline)
    print("6. Time passes: the devnet mined a block at the deadline, voting is closed")

    send(w3, poll.functions.requestReveal(), bob)
    yes, no = poll.functions.yesTally().call(), poll.functions.noTally().call()
    result = client.public_decrypt([yes, no])
    print("7. Bob requested the reveal; the KMS decrypted both tallies for everyone, with a "
          f"signed proof of {len(result.proof)} bytes")

    forged = revert_error(poll, poll.functions.revealTally(0, 5, result.proof), bob)
    print(f"   Publishing a made-up result (0 yes, 5 no) with that proof is rejected ({forged})")

    send(w3, poll.functions.revealTally(*result.values, result.proof), bob)
    yes_votes, no_votes = poll.functions.yesVotes().call(), poll.functions.noVotes().call()
    verdict = "passes" if yes_votes > no_votes else "fails"
    print(f"8. revealTally checked the KMS signature on chain. Result: {yes_votes} yes, "
          f"{no_votes} no: the proposal {verdict}")
    print("   No single ballot was ever decrypted: only the totals")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
