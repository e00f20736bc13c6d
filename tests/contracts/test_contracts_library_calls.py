"""The FHE library's calls on the wire, checked on a plain py-evm chain.

MockProtocol (mocks/) is placed at the executor, ACL and KMS verifier addresses; it logs
every call it receives. We deploy the committed harness artifacts, call them, and check
the exact sequence of executor / ACL calls: selectors, handles, scalar byte, FheType codes.
The real executor is tested elsewhere (fhevm/); this tests our Solidity only.
"""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import function_abi_to_4byte_selector, keccak, to_canonical_address

from contracts import build, codegen, load_artifact
from tests.contracts.solc_cache import compile_sources, repo_sources

eth_chains = pytest.importorskip("eth.chains.base")
from eth.db.atomic import AtomicDB  # noqa: E402
from eth.vm.forks import PragueVM  # noqa: E402
from eth_keys import keys  # noqa: E402

CHAIN_ID = 31337
ACL = to_canonical_address("0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D")
EXECUTOR = to_canonical_address("0xe3a9105a3a932253A70F126eb1E3b589C643dD24")
KMS = to_canonical_address("0x901F8942346f7AB3a01F6D7613119Bca447Bb030")
SENDER_KEY = keys.PrivateKey(b"\x11" * 32)
SENDER = SENDER_KEY.public_key.to_canonical_address()
CALLED_TOPIC = keccak(text="Called(bytes)")
OPS = codegen.TEST_BINARY_OPS
UINT64 = 5  # FheType code


def _mock_runtime_code() -> bytes:
    name = "tests/contracts/mocks/MockProtocol.sol"
    sources = {name: (build.REPO_ROOT / name).read_text(), **repo_sources("lib")}
    output = compile_sources(sources)
    return bytes.fromhex(output["contracts"][name]["MockProtocol"]["evm"]["deployedBytecode"]
                         ["object"])


def _selectors(*artifacts: str) -> dict[bytes, tuple[str, list[str]]]:
    table = {}
    for name in artifacts:
        for entry in load_artifact(name)["abi"]:
            if entry["type"] == "function":
                types = [i["type"] for i in entry["inputs"]]
                table[function_abi_to_4byte_selector(entry)] = (entry["name"], types)
    return table


WIRE = _selectors("IFHEVMExecutor", "IACL", "IKMSVerifier", "IInputVerifier")


class Devnet:
    """A py-evm chain with the mocks in genesis and a funded sender."""

    def __init__(self) -> None:
        chain_class = eth_chains.MiningChain.configure(
            __name__="MockChain", vm_configuration=((0, PragueVM),), chain_id=CHAIN_ID)
        code = _mock_runtime_code()
        genesis = {
            "difficulty": 0, "gas_limit": 60_000_000, "timestamp": 1,
            "coinbase": b"\0" * 20, "extra_data": b"", "nonce": b"\0" * 8,
        }
        state = {SENDER: {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}}
        for address in (ACL, EXECUTOR, KMS):
            state[address] = {"balance": 0, "nonce": 0, "code": code, "storage": {}}
        self.chain = chain_class.from_genesis(AtomicDB(), genesis, state)
        self.nonce = 0

    def send(self, to: bytes | None, data: bytes):
        vm = self.chain.get_vm()
        tx = vm.create_unsigned_transaction(
            nonce=self.nonce, gas_price=10**10, gas=20_000_000, to=to or b"", value=0, data=data,
        ).as_signed_transaction(SENDER_KEY, chain_id=CHAIN_ID)
        self.nonce += 1
        _, receipt, computation = self.chain.apply_transaction(tx)
        self.chain.mine_block()
        return receipt, computation

    def deploy(self, name: str) -> Contract:
        _, computation = self.send(None, bytes.fromhex(load_artifact(name)["bytecode"][2:]))
        assert computation.is_success, computation.error
        return Contract(self, computation.msg.storage_address, load_artifact(name)["abi"])


class Contract:
    def __init__(self, net: Devnet, address: bytes, abi: list) -> None:
        self.net, self.address = net, address
        self.functions = {e["name"]: e for e in abi if e["type"] == "function"}

    def call(self, name: str, *args):
        """Run `name(*args)` in a transaction: (decoded outputs, [wire calls], computation)."""
        entry = self.functions[name]
        data = function_abi_to_4byte_selector(entry) + encode(
            [i["type"] for i in entry["inputs"]], list(args))
        receipt, computation = self.net.send(self.address, data)
        if not computation.is_success:
            return None, [], computation
        outputs = decode([o["type"] for o in entry["outputs"]], computation.output)
        calls = []
        for log in receipt.logs:
            if log.topics and log.topics[0] == int.from_bytes(CALLED_TOPIC, "big"):
                (raw,) = decode(["bytes"], log.data)
                fn, types = WIRE[raw[:4]]
                calls.append((log.address, fn, *_canonical(decode(types, raw[4:]))))
        return _canonical(outputs), calls, computation


def _canonical(values: tuple) -> tuple:
    """Decoded ABI values with addresses as 20 bytes (eth_abi gives hex strings)."""
    def fix(v):
        if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
            return to_canonical_address(v)
        if isinstance(v, tuple):
            return tuple(fix(x) for x in v)
        return v
    return tuple(fix(v) for v in values)


def handle(fn: str, *args) -> bytes:
    """The handle MockProtocol answers for executor call fn(*args)."""
    selector = next(s for s, (name, _) in WIRE.items() if name == fn)
    return keccak(selector + encode(WIRE[selector][1], list(args)))


def trivial(value: int, fhe_type: int = UINT64) -> bytes:
    return handle("trivialEncrypt", value, fhe_type)


def b32(value: int) -> bytes:
    return value.to_bytes(32, "big")


@pytest.fixture(scope="module")
def net() -> Devnet:
    return Devnet()


@pytest.fixture(scope="module")
def t64(net) -> Contract:
    return net.deploy("FHETestEuint64")


def kept(result: bytes, contract: Contract) -> list:
    """The ACL calls of a harness's _keep(result)."""
    return [(ACL, "allow", result, contract.address), (ACL, "allow", result, SENDER)]


def test_encrypted_encrypted(t64):
    (result,), calls, _ = t64.call("binary", OPS.index("add"), 5, 7)
    expected = handle("fheAdd", trivial(5), trivial(7), b"\x00")
    assert result == expected
    assert calls[-3:] == [(EXECUTOR, "fheAdd", trivial(5), trivial(7), b"\x00"),
                          *kept(expected, t64)]
    assert sorted(calls[:2]) == sorted([(EXECUTOR, "trivialEncrypt", 5, UINT64),
                                        (EXECUTOR, "trivialEncrypt", 7, UINT64)])


@pytest.mark.parametrize("op", [o for o in OPS])
def test_encrypted_plaintext(t64, op):
    (result,), calls, _ = t64.call("binaryScalar", OPS.index(op), 9, 3)
    fn = {"and": "fheBitAnd", "or": "fheBitOr", "xor": "fheBitXor"}.get(
        op, "fhe" + op[0].upper() + op[1:])
    assert calls == [(EXECUTOR, "trivialEncrypt", 9, UINT64),
                     (EXECUTOR, fn, trivial(9), b32(3), b"\x01"), *kept(result, t64)]


@pytest.mark.parametrize("op, fn, swapped", [
    ("add", "fheAdd", True), ("mul", "fheMul", True), ("min", "fheMin", True),
    ("and", "fheBitAnd", True), ("eq", "fheEq", True),
    ("ge", "fheLe", True), ("gt", "fheLt", True), ("le", "fheGe", True), ("lt", "fheGt", True),
    ("sub", "fheSub", False),
])
def test_plaintext_encrypted(t64, op, fn, swapped):
    (result,), calls, _ = t64.call("binaryScalarLeft", OPS.index(op), 9, 3)
    if swapped:  # op(9, enc 3) == mirrored op(enc 3, 9)
        assert calls == [(EXECUTOR, "trivialEncrypt", 3, UINT64),
                         (EXECUTOR, fn, trivial(3), b32(9), b"\x01"), *kept(result, t64)]
    else:  # the plaintext is encrypted first
        assert (EXECUTOR, fn, trivial(9), trivial(3), b"\x00") in calls


def test_division_plaintext_left_is_unsupported(t64):
    _, _, computation = t64.call("binaryScalarLeft", OPS.index("div"), 9, 3)
    assert not computation.is_success


def test_encrypted_divisor_extension(t64):
    _, calls, _ = t64.call("binary", OPS.index("rem"), 9, 0)
    assert (EXECUTOR, "fheRem", trivial(9), trivial(0), b"\x00") in calls


def test_shift_amount_is_cast_to_the_operand_type(t64):
    _, calls, _ = t64.call("binary", OPS.index("rotr"), 1, 70)
    amount = handle("cast", trivial(70, 2), UINT64)
    assert (EXECUTOR, "trivialEncrypt", 70, 2) in calls
    assert (EXECUTOR, "cast", trivial(70, 2), UINT64) in calls
    assert (EXECUTOR, "fheRotr", trivial(1), amount, b"\x00") in calls
    _, calls, _ = t64.call("binaryScalar", OPS.index("shl"), 1, 300)  # uint8(300) = 44
    assert (EXECUTOR, "fheShl", trivial(1), b32(44), b"\x01") in calls


def test_uninitialised_handles_are_encrypted_zeros(t64):
    (result,), calls, _ = t64.call("binaryHandles", OPS.index("sub"), b"\0" * 32, b"\0" * 32)
    assert calls[:2] == [(EXECUTOR, "trivialEncrypt", 0, UINT64)] * 2
    assert calls[2] == (EXECUTOR, "fheSub", trivial(0), trivial(0), b"\x00")


def test_unary_cast_select_rand_sum_isin(t64):
    _, calls, _ = t64.call("unary", 0, 5)
    assert calls[1] == (EXECUTOR, "fheNeg", trivial(5))
    _, calls, _ = t64.call("cast", 0, 5)  # to ebool: a != 0
    assert calls[1] == (EXECUTOR, "fheNe", trivial(5), b32(0), b"\x01")
    _, calls, _ = t64.call("cast", 8, 5)
    assert calls[1] == (EXECUTOR, "cast", trivial(5), 8)
    _, calls, _ = t64.call("select", True, 1, 2)
    assert (EXECUTOR, "fheIfThenElse", trivial(1, 0), trivial(1), trivial(2)) in calls
    _, calls, _ = t64.call("rand")
    assert calls[0] == (EXECUTOR, "fheRand", UINT64)
    _, calls, _ = t64.call("randBounded", 1 << 20)
    assert calls[0] == (EXECUTOR, "fheRandBounded", 1 << 20, UINT64)
    _, calls, _ = t64.call("sum", [1, 2, 3])
    assert calls[3] == (EXECUTOR, "fheSum", (trivial(1), trivial(2), trivial(3)), UINT64)
    _, calls, _ = t64.call("isIn", 2, [1, 2])
    assert (EXECUTOR, "fheIsIn", trivial(2), (trivial(1), trivial(2)), UINT64) in calls


def test_every_type_harness_deploys_and_encrypts(net):
    for t in codegen.TYPES:
        contract = net.deploy(f"FHETest{t.cap}")
        value = "0x" + "ab" * 20 if t.name == "eaddress" else (True if t.name == "ebool" else 1)
        (result,), calls, _ = contract.call("encrypt", value)
        code = codegen.FHE_TYPE_CODES[t.name]
        assert calls[0][:2] == (EXECUTOR, "trivialEncrypt") and calls[0][3] == code, t.name
        assert calls[1:] == kept(result, contract)


def test_inputs(net, t64):
    proof = b"proof-bytes"
    (result,), calls, _ = t64.call("input", b"\x42" * 32, proof)
    verified = handle("verifyInput", b"\x42" * 32, SENDER, proof, UINT64)
    assert calls[:2] == [(EXECUTOR, "verifyInput", b"\x42" * 32, SENDER, proof, UINT64),
                         (ACL, "allowTransient", verified, SENDER)]
    assert result == verified
    (result,), calls, _ = t64.call("input", b"\x43" * 32, b"")  # no proof: ACL check only
    assert result == b"\x43" * 32 and calls == kept(result, t64)
    _, _, computation = t64.call("input", b32(0xBAD), b"")
    assert not computation.is_success  # SenderNotAllowedToUseHandle


def test_acl_functions(net):
    acl = net.deploy("FHETestACL")
    h = b"\x07" * 32
    _, calls, _ = acl.call("makePubliclyDecryptable", h)
    assert calls == [(ACL, "allowForDecryption", (h,))]
    _, calls, _ = acl.call("allowTransient", h, SENDER)
    assert calls == [(ACL, "allowTransient", h, SENDER)]
    _, calls, _ = acl.call("delegate", SENDER, acl.address, 99)
    assert calls == [(ACL, "delegateForUserDecryption", SENDER, acl.address, 99)]
    _, calls, _ = acl.call("cleanTransientStorage")
    # The input verifier is wherever the executor says (the mock names itself).
    assert calls == [(ACL, "cleanTransientStorage"), (EXECUTOR, "cleanTransientStorage")]
    (allowed,), calls, _ = acl.call("isAllowed", b32(0xBAD), SENDER)
    assert allowed is False and calls == []  # views make static calls
    (expiry,), _, _ = acl.call("delegationExpiration", SENDER, SENDER, acl.address)
    assert expiry == 7
    (ok,), _, _ = acl.call("isUserDecryptable", h, acl.address)
    assert ok is False  # the user may not be the contract itself


def _decryption_proof(signers, handles, cleartexts, extra=b"\x00"):
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "PublicDecryptVerification": [
                {"name": "ctHandles", "type": "bytes32[]"},
                {"name": "decryptedResult", "type": "bytes"},
                {"name": "extraData", "type": "bytes"},
            ],
        },
        "primaryType": "PublicDecryptVerification",
        "domain": {"name": "Decryption", "version": "1", "chainId": CHAIN_ID,
                   "verifyingContract": "0x" + KMS.hex()},
        "message": {"ctHandles": handles, "decryptedResult": cleartexts, "extraData": extra},
    }
    signable = encode_typed_data(full_message=message)
    sigs = [Account.sign_message(signable, key).signature for key in signers]
    return bytes([len(sigs)]) + b"".join(sigs) + extra


def test_public_decryption_signatures(net):
    acl = net.deploy("FHETestACL")
    kms = Contract(net, KMS, [{
        "type": "function", "name": "setSigners", "stateMutability": "nonpayable",
        "inputs": [{"name": "s", "type": "address[]"}, {"name": "t", "type": "uint256"}],
        "outputs": [],
    }])
    accounts = [Account.from_key(bytes([i]) * 32) for i in (1, 2, 3, 4)]
    kms.call("setSigners", [a.address for a in accounts[:3]], 2)
    handles = [b"\x01" * 32, b"\x02" * 32]
    cleartexts = encode(["uint64", "bool"], [42, True])

    def valid(signers, data=cleartexts):
        proof = _decryption_proof([a.key for a in signers], handles, data)
        outputs, _, computation = acl.call("isPublicDecryptionResultValid", handles, data, proof)
        return outputs[0] if computation.is_success else "revert"

    assert valid(accounts[:2]) is True
    assert valid([accounts[2], accounts[0]]) is True
    assert valid([accounts[0], accounts[0]]) is False  # one signer counted once
    assert valid(accounts[:1]) == "revert"  # below threshold
    assert valid([accounts[3], accounts[0]]) == "revert"  # not a signer
    proof = _decryption_proof([a.key for a in accounts[:2]], handles, cleartexts)
    other = encode(["uint64", "bool"], [43, True])
    outputs, _, computation = acl.call("isPublicDecryptionResultValid", handles, other, proof)
    assert computation.is_success is False or outputs[0] is False  # signed another result

    # checkSignatures defers to the KMS verifier contract and emits the library's event.
    _, calls, computation = acl.call("checkSignatures", handles, cleartexts, proof)
    assert computation.is_success
    assert calls == [(KMS, "verifyDecryptionEIP712KMSSignatures", tuple(handles), cleartexts,
                      proof)]
