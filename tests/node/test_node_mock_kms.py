"""The clear backend's mock KMS answers open with the real KMS client code, for every type."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest
from eth_account import Account
from eth_keys import keys

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node.decryption import mock_user_answers, parse_user_request  # noqa: E402
from node.kms import client as kms_client  # noqa: E402
from node.kms.dealer import PublicConfig  # noqa: E402

TYPE_BITS = {0: 1, 1: 4, 2: 8, 3: 16, 4: 32, 5: 64, 6: 128, 7: 160, 8: 256}
CONTRACT = "0x" + "11" * 20


@pytest.fixture(scope="module")
def mock() -> tuple[PublicConfig, list]:
    ks = [keys.PrivateKey(secrets.token_bytes(32)) for _ in range(4)]
    cfg = PublicConfig(4, 1, tuple(Account.from_key(k.to_bytes()).address for k in ks), (), 0, 0)
    return cfg, ks


def handle(code: int, i: int) -> bytes:
    return secrets.token_bytes(21) + bytes([i]) + (31337).to_bytes(8, "big") + bytes([code, 0])


def test_every_type_round_trips(mock) -> None:
    cfg, ks = mock
    codes = list(TYPE_BITS)
    handles = [handle(c, i) for i, c in enumerate(codes)]
    values = [secrets.randbits(TYPE_BITS[c]) for c in codes]
    values[-1] = 2**256 - 1
    user = secrets.token_bytes(32)
    req, secret = kms_client.user_request(user, cfg, [(h, CONTRACT) for h in handles],
                                          [CONTRACT])
    answers = mock_user_answers(parse_user_request(req), cfg, ks, values)
    assert kms_client.open_user_answers(cfg, req, secret, answers) == values


def test_one_forged_answer_is_ignored_too_few_are_refused(mock) -> None:
    cfg, ks = mock
    h = handle(5, 0)
    req, secret = kms_client.user_request(secrets.token_bytes(32), cfg, [(h, CONTRACT)],
                                          [CONTRACT])
    answers = mock_user_answers(parse_user_request(req), cfg, ks, [12345])
    forged = dict(answers[0], signature=answers[1]["signature"])  # signed by another party
    assert kms_client.open_user_answers(cfg, req, secret, [forged, *answers[1:]]) == [12345]
    with pytest.raises(kms_client.KmsError):
        kms_client.open_user_answers(cfg, req, secret, answers[:1])
