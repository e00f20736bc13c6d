"""Every integer operation on every width against Python's wrap-around semantics.

Property tests (hypothesis, few derandomised examples) run on the insecure fast set; a fixed
sample runs on DEFAULT for 8 and 64 bits. Bootstrap counts for FheUint64 are checked
against tfhe-rs's.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfhe.integer import IntegerServerKey
from tfhe.integer.compression import CompressedRadixList, CompressionError, CompressionKey

WIDTHS = [8, 16, 32, 64, 128, 160, 256]
POW2_WIDTHS = [8, 16, 32, 64, 128, 256]


def fast(n: int = 2):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def examples(width: int) -> int:
    return 3 if width <= 8 else 1


def rotl(x: int, k: int, w: int) -> int:
    k %= w
    return ((x << k) | (x >> (w - k))) & ((1 << w) - 1) if k else x


def rotr(x: int, k: int, w: int) -> int:
    return rotl(x, w - k % w, w)


def values(width: int):
    """Edge values as well as uniform ones."""
    m = (1 << width) - 1
    return st.one_of(st.sampled_from([0, 1, m, m - 1, 1 << (width - 1)]),
                     st.integers(0, m))


# -- binary operations, both operands encrypted ------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
def test_binary_ops(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width), values(width))
    def check(x, y):
        a, b = client.encrypt(x, width), client.encrypt(y, width)
        d = client.decrypt
        assert d(server.add(a, b)) == (x + y) & m
        assert d(server.sub(a, b)) == (x - y) & m
        assert d(server.bitand(a, b)) == x & y
        assert d(server.bitor(a, b)) == x | y
        assert d(server.bitxor(a, b)) == x ^ y
        assert d(server.eq(a, b)) == (x == y)
        assert d(server.ne(a, b)) == (x != y)
        assert d(server.lt(a, b)) == (x < y)
        assert d(server.le(a, b)) == (x <= y)
        assert d(server.gt(a, b)) == (x > y)
        assert d(server.ge(a, b)) == (x >= y)
        assert d(server.min(a, b)) == min(x, y)
        assert d(server.max(a, b)) == max(x, y)
        assert d(server.eq(a, a)) == 1
        c = client.encrypt(x & 1, 1)
        assert d(server.select(c, a, b)) == (x if x & 1 else y)

    check()


@pytest.mark.parametrize("width", WIDTHS)
def test_scalar_ops(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width), values(width))
    def check(x, k):
        a = client.encrypt(x, width)
        d = client.decrypt
        assert d(server.add(a, k)) == (x + k) & m
        assert d(server.sub(a, k)) == (x - k) & m
        assert d(server.bitand(a, k)) == x & k
        assert d(server.bitor(a, k)) == x | k
        assert d(server.bitxor(a, k)) == x ^ k
        assert d(server.eq(a, k)) == (x == k)
        assert d(server.ne(a, x)) == 0
        assert d(server.lt(a, k)) == (x < k)
        assert d(server.le(a, k)) == (x <= k)
        assert d(server.gt(a, k)) == (x > k)
        assert d(server.ge(a, k)) == (x >= k)
        assert d(server.min(a, k)) == min(x, k)
        assert d(server.max(a, k)) == max(x, k)
        assert d(server.lt(a, 1 << width)) == 1  # a scalar beyond the type
        assert d(server.eq(a, 1 << width)) == 0

    check()


@pytest.mark.parametrize("width", WIDTHS)
def test_unary_ops_and_casts(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width))
    def check(x):
        a = client.encrypt(x, width)
        d = client.decrypt
        assert d(server.neg(a)) == (-x) & m
        assert d(server.bitnot(a)) == m ^ x
        assert d(server.cast(a, 1)) == (x != 0)
        for w in (8, 16, 64, 160, 256):
            assert d(server.cast(a, w)) == x & ((1 << w) - 1)
        assert d(server.trivial(x, width)) == x
        assert d(server.add(server.trivial(x, width), a)) == (2 * x) & m

    check()


# -- shifts and rotations ---------------------------------------------------------------

@pytest.mark.parametrize("width", POW2_WIDTHS)
def test_shifts_plaintext_amount(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width), st.integers(0, 300))
    def check(x, k):
        a = client.encrypt(x, width)
        d = client.decrypt
        s = k % width
        assert d(server.shl(a, k)) == (x << s) & m
        assert d(server.shr(a, k)) == x >> s
        assert d(server.rotl(a, k)) == rotl(x, k, width)
        assert d(server.rotr(a, k)) == rotr(x, k, width)

    check()


@pytest.mark.parametrize("width", [8, 32, 64])
def test_shifts_encrypted_amount(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width), st.integers(0, 255))
    def check(x, k):
        a = client.encrypt(x, width)
        amount = client.encrypt(k, 8)  # the Solidity library shifts by a euint8
        d = client.decrypt
        s = k % width
        assert d(server.shl(a, amount)) == (x << s) & m
        assert d(server.shr(a, amount)) == x >> s
        assert d(server.rotl(a, amount)) == rotl(x, k, width)
        assert d(server.rotr(a, amount)) == rotr(x, k, width)

    check()


# -- multiplication, sums, membership ------------------------------------------------------

@pytest.mark.parametrize("width", [8, 16, 32])
def test_mul(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(examples(width))
    @given(values(width), values(width))
    def check(x, y):
        a, b = client.encrypt(x, width), client.encrypt(y, width)
        assert client.decrypt(server.mul(a, b)) == (x * y) & m
        assert client.decrypt(server.mul(a, y)) == (x * y) & m

    check()


@pytest.mark.parametrize("width", [64])
def test_scalar_mul_wide(insecure, width):
    client, server = insecure
    m = (1 << width) - 1
    x, k = 0x9E3779B97F4A7C15F39CC0605CEDC834 & m, 0xC2B2AE3D27D4EB4F & m
    a = client.encrypt(x, width)
    assert client.decrypt(server.mul(a, k)) == (x * k) & m
    assert client.decrypt(server.mul(a, 1 << 7)) == (x << 7) & m
    assert client.decrypt(server.mul(a, 0)) == 0


@pytest.mark.parametrize("width", [8, 64, 256])
def test_sum(insecure, width):
    client, server = insecure
    xs = [(0x1234567 * (i + 3) ** 41) % (1 << width) for i in range(5)]
    cts = [client.encrypt(x, width) for x in xs]
    assert client.decrypt(server.sum(cts)) == sum(xs) % (1 << width)
    assert client.decrypt(server.sum(cts[:1])) == xs[0]


@pytest.mark.parametrize("width", [8, 32, 160])
def test_is_in(insecure, width):
    client, server = insecure
    x = 0xB7 % (1 << width)
    a = client.encrypt(x, width)
    d = client.decrypt
    assert d(server.is_in(a, [3, x, 17])) == 1
    assert d(server.is_in(a, [3, 17, 1 << width])) == 0
    assert d(server.is_in(a, [client.encrypt(5, width), client.encrypt(x, width)])) == 1
    assert d(server.is_in(a, [client.encrypt(5, width), 9])) == 0
    assert d(server.is_in(a, [])) == 0


# -- division ------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [8, 16])
def test_div_rem_encrypted_divisor(insecure, width):
    client, server = insecure
    m = (1 << width) - 1

    @fast(3 if width == 8 else 1)
    @given(values(width), st.one_of(st.just(0), values(width)))
    def check(x, y):
        a, b = client.encrypt(x, width), client.encrypt(y, width)
        q, r = server.divmod(a, b)
        assert client.decrypt(q) == (x // y if y else m)
        assert client.decrypt(r) == (x % y if y else x)

    check()


@pytest.mark.parametrize("width", [8, 16, 64])
def test_div_rem_plaintext_divisor(insecure, width):
    client, server = insecure
    x = 0xF00DFACE12345678 % (1 << width)
    a = client.encrypt(x, width)
    divisors = [1, 2, 7, 16, (1 << width) - 1, 1 << width] if width <= 16 else [
        (1 << (width - 3)) + 5, 1 << 40]
    for k in divisors:
        assert client.decrypt(server.div(a, k)) == x // k
        assert client.decrypt(server.rem(a, k)) == x % k
    with pytest.raises(ZeroDivisionError):
        server.div(a, 0)


def test_mul_div(insecure):
    client, server = insecure
    x, y, z = 200, 150, 7
    a, b, c = (client.encrypt(v, 8) for v in (x, y, z))
    assert client.decrypt(server.mul_div(a, b, c)) == (x * y // z) & 0xFF
    assert client.decrypt(server.mul_div(a, y, 9)) == (x * y // 9) & 0xFF


# -- booleans ------------------------------------------------------------------------------

def test_bool_ops(insecure):
    client, server = insecure
    d = client.decrypt
    for x in (0, 1):
        for y in (0, 1):
            a, b = client.encrypt(x, 1), client.encrypt(y, 1)
            assert d(server.bitand(a, b)) == x & y
            assert d(server.bitor(a, b)) == x | y
            assert d(server.bitxor(a, b)) == x ^ y
            assert d(server.bitxor(a, y)) == x ^ y
            assert d(server.eq(a, b)) == (x == y)
            assert d(server.ne(a, b)) == (x != y)
            assert d(server.select(a, b, server.bitnot(b))) == (y if x else 1 - y)
        a = client.encrypt(x, 1)
        assert d(server.bitnot(a)) == 1 - x
        assert d(server.cast(a, 64)) == x
        assert d(server.cast(server.cast(a, 8), 1)) == x


# -- random --------------------------------------------------------------------------------

def test_random_is_reproducible_bounded_and_varied(insecure):
    client, server = insecure
    d = client.decrypt
    for width in (1, 8, 64, 256):
        # a bool needs more seeds: 6 equal coin flips happen 1 time in 32
        seen = {d(server.random(bytes([i]) * 4, width)) for i in range(24 if width == 1 else 6)}
        assert all(0 <= v < 1 << width for v in seen)
        assert len(seen) >= (2 if width == 1 else 5)
    assert d(server.random(b"seed", 64)) == d(server.random(b"seed", 64))
    bounded = [d(server.random(i.to_bytes(2, "little"), 16, 1 << 5)) for i in range(40)]
    assert all(0 <= v < 32 for v in bounded) and len(set(bounded)) > 15
    assert max(bounded) >= 16  # the odd top bit is random too
    before = server.pbs_count
    server.random(b"count", 64)
    assert server.pbs_count - before == 32
    with pytest.raises(ValueError):
        server.random(b"x", 8, 100)
    with pytest.raises(ValueError):
        server.random(b"x", 8, 1 << 9)


def test_random_is_uniform_over_one_block(insecure):
    client, server = insecure
    counts = [0] * 4
    for i in range(160):
        counts[client.decrypt(server.random(b"u" + i.to_bytes(2, "little"), 8, 4))] += 1
    assert min(counts) >= 20  # expected 40 each


# -- compression ---------------------------------------------------------------------------

def test_compression_round_trip(insecure):
    client, server = insecure
    values_ = [(1, 1), (0xAB, 8), (0xDEADBEEFCAFEBABE, 64), ((1 << 160) - 3, 160)]
    cts = [client.encrypt(v, w) for v, w in values_]
    blob = server.compress(cts).to_bytes()
    back = server.decompress(CompressedRadixList.from_bytes(blob))
    assert [client.decrypt(c) for c in back] == [v for v, _ in values_]
    assert [c.bits for c in back] == [w for _, w in values_]
    # results of operations (noisier blocks) compress too, and work after decompression
    s = server.select(cts[0], cts[2], cts[2])
    again = server.from_bytes(server.to_bytes(s))
    assert client.decrypt(server.add(again, 1)) == 0xDEADBEEFCAFEBABF


def test_compression_bad_input(insecure):
    client, server = insecure
    blob = server.to_bytes(client.encrypt(77, 8))
    with pytest.raises(CompressionError):
        CompressedRadixList.from_bytes(blob[:-3])
    with pytest.raises(CompressionError):
        CompressedRadixList.from_bytes(b"garbage" + blob)
    with pytest.raises(CompressionError):
        CompressedRadixList.from_bytes(blob + b"\0")
    _, other = CompressionKey.generate(client.key)
    with pytest.raises(CompressionError, match="another compression key"):
        IntegerServerKey(server.shortint, other).from_bytes(blob)
    with pytest.raises(ValueError, match="no compression key"):
        IntegerServerKey(server.shortint).to_bytes(client.encrypt(1, 8))


# -- bad input -----------------------------------------------------------------------------

def test_bad_input(insecure, default):
    client, server = insecure
    a8, a16 = client.encrypt(1, 8), client.encrypt(1, 16)
    for op in (server.add, server.sub, server.mul, server.bitand, server.eq, server.lt,
               server.div):
        with pytest.raises(ValueError, match="mismatched widths"):
            op(a8, a16)
    with pytest.raises(ValueError, match="ebool"):
        server.select(a8, a8, a8)
    with pytest.raises(ValueError):
        server.add(client.encrypt(1, 1), client.encrypt(0, 1))
    with pytest.raises(ValueError):
        client.encrypt(1, 7)
    with pytest.raises(ValueError):
        client.encrypt(2, 1)
    with pytest.raises(TypeError):
        server.add(a8, "1")  # type: ignore[arg-type]
    # a ciphertext of another parameter set (another key) is refused, both ways
    dclient, dserver = default
    with pytest.raises(ValueError, match="parameter set"):
        dserver.add(a8, a8)
    with pytest.raises(ValueError, match="parameter set"):
        dclient.decrypt(a8)
    with pytest.raises(CompressionError):
        dserver.from_bytes(server.to_bytes(a8))


# -- bootstrap counts (FheUint64), against tfhe-rs's ---------------------------------------

def test_pbs_counts_uint64(insecure):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry="parallel")
    a, b = client.encrypt(123456789, 64), client.encrypt(987654321, 64)
    c = client.encrypt(1, 1)

    def count(f) -> int:
        before = server.pbs_count
        f()
        return server.pbs_count - before

    assert count(lambda: server.bitand(a, b)) == 32
    assert count(lambda: server.eq(a, b)) <= 42
    assert count(lambda: server.add(a, b)) <= 110  # tfhe-rs ~100 parallel
    assert count(lambda: server.lt(a, b)) <= 70
    assert count(lambda: server.select(c, a, b)) <= 96
    assert count(lambda: server.random(b"s", 64)) == 32
    assert count(lambda: server.bitnot(a)) == 0
    sequential = IntegerServerKey(server.shortint, carry="sequential")
    assert count(lambda: sequential.add(a, b)) <= 63
    assert client.decrypt(sequential.add(a, b)) == 123456789 + 987654321
    assert client.decrypt(server.add(a, b)) == 123456789 + 987654321


@pytest.mark.parametrize("carry", ["parallel", "sequential"])
def test_both_carry_modes(insecure, carry):
    client, shared = insecure
    server = IntegerServerKey(shared.shortint, carry=carry)
    m = (1 << 32) - 1
    for x, y in [(m, 1), (0x89ABCDEF, 0x76543211), (0, m)]:
        a, b = client.encrypt(x, 32), client.encrypt(y, 32)
        assert client.decrypt(server.add(a, b)) == (x + y) & m
        assert client.decrypt(server.sub(a, b)) == (x - y) & m
    a, b = client.encrypt(201, 8), client.encrypt(13, 8)
    assert client.decrypt(server.mul(a, b)) == 201 * 13 & 0xFF
    assert client.decrypt(server.div(a, b)) == 201 // 13


# -- DEFAULT (128-bit) parameters: a fixed sample for 8 and 64 bits ------------------------

@pytest.mark.parametrize("width", [8, 64])
def test_default_parameters_sample(default, width):
    client, server = default
    m = (1 << width) - 1
    x, y = 0xC0FFEE1234567891 & m, 0x0123456789ABCDEF & m
    a, b = client.encrypt(x, width), client.encrypt(y, width)
    d = client.decrypt
    assert d(server.add(a, b)) == (x + y) & m
    assert d(server.sub(a, b)) == (x - y) & m
    assert d(server.bitxor(a, b)) == x ^ y
    assert d(server.eq(a, b)) == 0
    assert d(server.lt(a, b)) == (x < y)
    assert d(server.select(server.ge(a, b), a, b)) == max(x, y)
    assert d(server.shl(a, 5)) == (x << 5) & m
    assert d(server.add(a, 3)) == (x + 3) & m
    assert 0 <= d(server.random(b"default", width)) <= m
    if width == 8:
        assert d(server.mul(a, b)) == (x * y) & m
        assert d(server.rem(a, 10)) == x % 10
        assert d(server.shr(a, client.encrypt(3, 8))) == x >> 3
    blob = server.to_bytes(a)
    if width == 64:
        assert len(blob) <= 2048  # a stored euint64 is at most 2 KB
    assert d(server.from_bytes(blob)) == x


def test_default_comparisons_through_the_signed_tree(default):
    """The fan-in-four sign tree bootstraps negative sums with the padding bit set: on
    DEFAULT, pairs whose first difference is high, low, in the middle, or absent."""
    client, server = default
    top = 1 << 63
    pairs = [(5, 5), (top, top - 1), (top - 1, top), (0x1234 << 20, 0x1235 << 20), (2, 1)]
    for x, y in pairs:
        a, b = client.encrypt(x, 64), client.encrypt(y, 64)
        got = [client.decrypt(getattr(server, op)(a, b)) for op in ("lt", "le", "gt", "ge")]
        assert got == [x < y, x <= y, x > y, x >= y], (hex(x), hex(y))
    assert client.decrypt(server.ge(client.encrypt(top, 64), top + 1)) == 0  # scalar operand
