"""Dev accounts: the 10 funded accounts of the standard test mnemonic, plus `--unlock` keys."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

TEST_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_BALANCE = 10_000 * 10**18

Account.enable_unaudited_hdwallet_features()


def dev_accounts(n: int = 10, extra_keys: tuple[str, ...] = ()) -> list[LocalAccount]:
    """Same addresses as anvil / hardhat (m/44'/60'/0'/0/i), then the extra keys."""
    accts = [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
             for i in range(n)]
    for key in extra_keys:
        acct = Account.from_key(key)
        if acct.address not in {a.address for a in accts}:
            accts.append(acct)
    return accts
