"""Dealer key generation: one directory per party, no file with the whole key.

The dealer draws the squash GLWE key, publishes the squashing bootstrapping key (public),
Shamir-shares the flattened squash key bit by bit (degree t over F_p), deals PRSS keys
(one per set of n - t parties, to its members only) and a secp256k1 signing key per party.
The squash secret lives only in this process's memory and is dropped on return.

Layout under kms_dir:
  public/kms.json        n, t, signer addresses, ports, keyswitch parameters, the name of
                         the squash parameter set (node.kms.params)
  public/squash.bsk      squashing bootstrapping key (public; the node squashes with it)
  public/ksk.npy         the engine's keyswitching key (public, the squash's first step)
  party-<j>/party.json   index, n, t, address
  party-<j>/signing.key  secp256k1 private key (hex), mode 0600
  party-<j>/key_share.bin  a field element (32 bytes big-endian) per squash key bit
  party-<j>/prss.json    keys of the PRSS sets containing j, mode 0600
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eth_account import Account
from eth_utils import to_checksum_address

from fhevm import addresses
from tfhe.core import squash as sq
from tfhe.core.csprng import Csprng

from . import prss, shamir
from .params import squash_parameters
from .threshold import KeyShare, check_parameters

DEFAULT_BASE_PORT = 8650


@dataclass(frozen=True)
class PublicConfig:
    """What everybody may know about the KMS: parties, their addresses and ports, and the
    EIP-712 domains (host chain for user requests, gateway chain for KMS signatures)."""

    n: int
    t: int
    signers: tuple[str, ...]  # checksummed addresses, party 1..n
    ports: tuple[int, ...]
    ks_base_log: int
    ks_level: int
    chain_id: int = 31337
    gateway_chain_id: int = addresses.GATEWAY_CHAIN_ID
    decryption_contract: str = to_checksum_address(addresses.DECRYPTION_VERIFYING_CONTRACT)
    squash_params: str = "SQUASH"  # node.kms.params: the set the squash key was made for

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        d["signers"], d["ports"] = list(self.signers), list(self.ports)
        return json.dumps(d, indent=2)

    @classmethod
    def load(cls, kms_dir: str | os.PathLike) -> PublicConfig:
        d = json.loads((Path(kms_dir) / "public" / "kms.json").read_text())
        d["signers"], d["ports"] = tuple(d["signers"]), tuple(d["ports"])
        return cls(**d)


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_party(party_dir: Path, index: int, n: int, t: int, key_share: KeyShare,
                prss_keys: dict[tuple[int, ...], bytes], signing_key: bytes) -> str:
    """One party's directory; returns its address."""
    party_dir.mkdir(parents=True, exist_ok=True)
    address = Account.from_key(signing_key).address
    (party_dir / "party.json").write_text(
        json.dumps({"index": index, "n": n, "t": t, "address": address}))
    _write_secret(party_dir / "signing.key", signing_key.hex().encode())
    _write_secret(party_dir / "key_share.bin", key_share.to_bytes())
    _write_secret(party_dir / "prss.json", json.dumps(
        {",".join(map(str, a)): k.hex() for a, k in prss_keys.items() if index in a}).encode())
    return address


def share_key(lwe_key: np.ndarray, n: int, t: int) -> list[KeyShare]:
    per_party = shamir.share_vector([int(b) for b in lwe_key.tolist()], n, t)
    return [KeyShare(j + 1, n, t, tuple(v)) for j, v in enumerate(per_party)]


def deal(kms_dir: str | os.PathLike, small_lwe_key: np.ndarray, ksk: np.ndarray,
         ks_base_log: int, ks_level: int, n: int = 4, t: int = 1,
         base_port: int = DEFAULT_BASE_PORT, squash_params: str = "SQUASH",
         **domains: object) -> PublicConfig:
    """Generate and write all KMS key material (takes ~1 minute for the squash key).
    squash_params: a name of node.kms.params.SQUASH_PARAMETER_SETS."""
    check_parameters(n, t)
    params = squash_parameters(squash_params)
    kms_dir = Path(kms_dir)
    public = kms_dir / "public"
    public.mkdir(parents=True, exist_ok=True)
    rng = Csprng.from_os()
    secret = sq.SquashSecretKey.generate(rng.fork(b"squash secret"), params)
    sq.generate_squash_key(small_lwe_key, secret, rng.fork(b"squash bsk")).save(
        public / "squash.bsk")
    np.save(public / "ksk.npy", ksk)
    cfg = deal_shares(kms_dir, secret.lwe_key, n, t, ks_base_log, ks_level, base_port,
                      squash_params=squash_params, **domains)
    del secret
    return cfg


def deal_shares(kms_dir: str | os.PathLike, squash_lwe_key: np.ndarray, n: int, t: int,
                ks_base_log: int, ks_level: int,
                base_port: int = DEFAULT_BASE_PORT, squash_params: str = "SQUASH",
                **domains: object) -> PublicConfig:
    """Write the party directories and public/kms.json for an existing squash key.
    `domains`: chain_id, gateway_chain_id, decryption_contract when genesis overrides them."""
    check_parameters(n, t)
    if len(squash_lwe_key) != squash_parameters(squash_params).lwe_dimension:
        raise ValueError(f"squash key of dimension {len(squash_lwe_key)} is not a "
                         f"{squash_params} key")
    kms_dir = Path(kms_dir)
    (kms_dir / "public").mkdir(parents=True, exist_ok=True)
    shares = share_key(squash_lwe_key, n, t)
    prss_keys = prss.deal_keys(n, t)
    signers = tuple(
        write_party(kms_dir / f"party-{j}", j, n, t, shares[j - 1], prss_keys,
                    secrets.token_bytes(32))
        for j in range(1, n + 1)
    )
    cfg = PublicConfig(n, t, signers, tuple(base_port + j for j in range(n)), ks_base_log,
                       ks_level, squash_params=squash_params,
                       **domains)  # type: ignore[arg-type]
    (kms_dir / "public" / "kms.json").write_text(cfg.to_json())
    return cfg


@dataclass(frozen=True)
class PartyMaterial:
    """Everything a party process loads from its own directory."""

    index: int
    n: int
    t: int
    address: str
    signing_key: bytes
    key_share: KeyShare
    prss: prss.PrssParty

    def __repr__(self) -> str:
        return f"PartyMaterial({self.index}/{self.n}, {self.address}, <secret>)"


def load_party(party_dir: str | os.PathLike) -> PartyMaterial:
    d = Path(party_dir)
    meta = json.loads((d / "party.json").read_text())
    index, n, t = meta["index"], meta["n"], meta["t"]
    key = bytes.fromhex((d / "signing.key").read_text().strip())
    if Account.from_key(key).address != meta["address"]:
        raise ValueError(f"{d}: signing key does not match the party address")
    raw = json.loads((d / "prss.json").read_text())
    keys = {tuple(int(x) for x in a.split(",")): bytes.fromhex(k) for a, k in raw.items()}
    share = KeyShare.from_bytes(index, n, t, (d / "key_share.bin").read_bytes())
    return PartyMaterial(index, n, t, meta["address"], key, share,
                         prss.PrssParty(index, n, t, keys))
