"""`fhevm-node`: start the local fhEVM devnet, generate its keys, or wipe it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys

from node import CHAIN_ID, CLIENT_VERSION

DESCRIPTION = """\
fhevm-node runs a local fhEVM chain (chain id 31337) that web3.py, ethers, hardhat and
foundry scripts talk to over Ethereum JSON-RPC, like anvil or `hardhat node`: contracts
can compute on encrypted integers. Everything lives in one data directory.

  fhevm-node start                  start the devnet on http://127.0.0.1:8545 (and ws://)
  fhevm-node start --backend clear  fast plaintext FHE backend for iterating on contracts
  fhevm-node keygen                 generate the network FHE keys into the data directory
  fhevm-node reset                  delete the data directory (chain, ciphertexts, keys)

Keys: the tfhe backend generates the network TFHE keys, the compact public key that
clients encrypt inputs under (fhevm_getPublicKey), the input signer (coprocessor) key and
a threshold KMS (4 parties, t = 1, dealt once, about a minute); the parties start with the
node. The node keeps no full TFHE client key (--insecure-keep-client-key keeps one, for
development only). With --backend clear there are no FHE keys: the node is a "mock" KMS
(like Zama's hardhat mock) that decrypts itself and signs with generated devnet KMS keys,
so the same on-chain signature checks run. JSON-RPC: fhevm_nodeInfo, fhevm_getPublicKey,
fhevm_uploadInputs, fhevm_getCiphertext, fhevm_getSquashedCiphertext (the node squashes
once for the KMS parties, and squashes handles made publicly decryptable as soon as their
block is mined), fhevm_publicDecrypt, fhevm_userDecrypt, fhevm_getTransactionHcu,
fhevm_estimateHcu. The relayer (node.relayer) answers FHE.requestDecryption with callback
transactions (--no-relayer).
"""


def _port(text: str) -> int:
    n = int(text)
    if not 0 < n < 65536:
        raise argparse.ArgumentTypeError(f"{n} is not a TCP port (1-65535)")
    return n


def _count(text: str) -> int:
    n = int(text)
    if not 0 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"{n}: choose 0 to 1000 accounts")
    return n


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="fhevm-node", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=CLIENT_VERSION)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def data_dir(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data-dir", default="./.fhevm-devnet",
                        help="where the chain, ciphertexts, ACL and keys are kept "
                             "(default: %(default)s)")

    def keep_client_key(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--insecure-keep-client-key", action="store_true",
                        help="DEVELOPMENT ONLY: also store the full TFHE client key in the "
                             "data directory (by default only the KMS parties hold shares "
                             "of the decryption key)")

    s = sub.add_parser("start", help="start the devnet (generates keys on first start)",
                       description="Start the devnet. Blocks, state and ciphertexts persist "
                                   "in --data-dir; a restart continues the same chain.")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: "
                                                       "%(default)s)")
    s.add_argument("--port", type=_port, default=8545, help="HTTP and WebSocket port "
                                                           "(default: %(default)s)")
    data_dir(s)
    s.add_argument("--backend", choices=("tfhe", "clear"), default=None,
                   help="tfhe: real encryption; clear: plaintext with the same semantics, "
                        "fast (default: tfhe when this checkout can run it, else clear)")
    s.add_argument("--block-time", type=float, default=None, metavar="SECONDS",
                   help="mine a block every SECONDS from a transaction pool; default is "
                        "automine (one block per transaction, at once)")
    s.add_argument("--accounts", type=_count, default=10, metavar="N",
                   help="funded dev accounts from the standard test mnemonic (default: 10)")
    s.add_argument("--unlock", nargs="+", default=[], metavar="PRIVATE_KEY",
                   help="extra private keys to fund at genesis and sign for "
                        "(eth_sendTransaction, eth_sign)")
    s.add_argument("--quiet", action="store_true", help="only warnings and errors")
    s.add_argument("--no-relayer", action="store_true",
                   help="do not answer FHE.requestDecryption with callback transactions "
                        "(node.relayer; on by default)")
    keep_client_key(s)

    k = sub.add_parser("keygen", help="generate the network FHE keys now")
    data_dir(k)
    k.add_argument("--backend", choices=("tfhe", "clear"), default="tfhe",
                   help="keys for this backend (default: %(default)s)")
    k.add_argument("--force", action="store_true", help="replace existing keys")
    keep_client_key(k)

    r = sub.add_parser("reset", help="delete the data directory")
    data_dir(r)
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        sys.exit(2)
    return args


def ensure_keys(data_dir: str, backend: str, force: bool = False) -> None:
    """Generate keys when the data directory has none yet (or `force`)."""
    from node.devnet import DB_FILE
    from node.fhe import generate_keys
    from node.store import Store

    store = Store(os.path.join(data_dir, DB_FILE))
    try:
        if store.keys() and not force:
            print(f"FHE keys: loaded {len(store.keys())} key blob(s) from {data_dir}")
            return
        notes: list[str] = []

        def progress(fraction: float, label: str) -> None:
            notes.append(label)
            if fraction < 1.0:
                print(f"FHE keys: {label} ...", flush=True)

        keys = generate_keys(backend, progress)
        if not keys:
            print("FHE keys: none generated:", notes[-1])
            return
        with store.batch() as c:
            c.execute("DELETE FROM keys")
            c.executemany("INSERT INTO keys VALUES (?, ?)", list(keys.items()))
        print(f"FHE keys: generated {len(keys)} key blob(s) into {data_dir}")
    finally:
        store.close()


def start(args: argparse.Namespace) -> None:
    from aiohttp import web

    from node.devnet import Devnet
    from node.rpc.server import RpcServer

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    from node.fhe import BackendUnavailable, available_backends, default_backend

    if args.backend is None:
        args.backend = default_backend()
        print(f"backend: {args.backend} (default; pass --backend to choose)")
    elif args.backend not in available_backends():
        sys.exit(f"fhevm-node: backend {args.backend!r} is not available in this checkout "
                 f"(available: {', '.join(available_backends())}).\n"
                 "Try `fhevm-node start --backend clear`.")
    os.makedirs(args.data_dir, exist_ok=True)
    from node.kms_wiring import ensure_node_keys

    ensure_node_keys(args.data_dir, args.backend,
                     keep_client_key=args.insecure_keep_client_key)
    try:
        devnet = Devnet(args.data_dir, backend=args.backend, accounts=args.accounts,
                        unlock=tuple(args.unlock), block_time=args.block_time)
    except BackendUnavailable as exc:
        sys.exit(f"fhevm-node: {exc}\nTry `fhevm-node start --backend clear`.")
    server = RpcServer(devnet)
    head = devnet.chain.head
    fhe = ("FHE: " + args.backend + " backend" if devnet.runtime.fhe_enabled
           else "FHE: DISABLED (" + devnet.runtime.reason + ")")
    print(f"\n{CLIENT_VERSION}  chain id {CHAIN_ID}  {fhe}")
    print(f"data dir {os.path.abspath(args.data_dir)}  head block #{head.block_number}")
    print("\nAvailable accounts (10000 ETH each at genesis)\n==================")
    for i, a in enumerate(devnet.accounts):
        print(f"({i}) {a.address}  private key 0x{bytes(a.key).hex()}")
    mode = f"every {args.block_time}s" if args.block_time else "automine"
    print(f"\nMining: {mode}")
    print(f"Listening on http://{args.host}:{args.port} and ws://{args.host}:{args.port}",
          flush=True)

    async def run() -> None:
        runner = web.AppRunner(server.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        from node.kms_wiring import start_kms, stop_kms

        local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        parties = await start_kms(devnet, f"http://{local}:{args.port}")
        presquash = None
        if args.backend == "tfhe" and devnet.runtime.fhe_enabled:
            from node.kms.presquash import Presquasher

            presquash = Presquasher(server.fhevm.squasher, loop)
            devnet.listeners.append(presquash.on_block)
        relayer = None
        if not args.no_relayer and devnet.runtime.fhe_enabled:
            from node.relayer import Relayer

            relayer = Relayer(lambda m, p: server.dispatch(m, p, None), devnet.chain_id,
                              state=os.path.join(devnet.data_dir, "relayer.json"))
            relayer.start()
            devnet.listeners.append(relayer.on_block)
            print(f"Relayer: answers FHE.requestDecryption from {relayer.account.address}",
                  flush=True)
        try:
            await stop.wait()
        finally:
            if presquash is not None:
                devnet.listeners.remove(presquash.on_block)
            if relayer is not None:
                devnet.listeners.remove(relayer.on_block)
                await relayer.stop()
            await asyncio.to_thread(stop_kms, parties)
            await runner.cleanup()

    try:
        asyncio.run(run())
    finally:
        devnet.close()
        print("fhevm-node stopped", flush=True)


def reset(args: argparse.Namespace) -> None:
    path = os.path.abspath(args.data_dir)
    if not os.path.exists(path):
        print(f"nothing to reset: {path} does not exist")
        return
    if not args.yes:
        answer = input(f"delete {path} (chain, ciphertexts, keys)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return
    shutil.rmtree(path)
    print(f"deleted {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.command == "start":
        start(args)
    elif args.command == "keygen":
        from node.kms_wiring import ensure_node_keys

        ensure_node_keys(args.data_dir, args.backend, force=args.force,
                         keep_client_key=args.insecure_keep_client_key)
    elif args.command == "reset":
        reset(args)


if __name__ == "__main__":
    main()
