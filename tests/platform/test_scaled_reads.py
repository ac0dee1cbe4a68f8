"""Reading SQLite's scaled integers back (`exact_numbers.from_scaled`): the integer fast path
gives the Decimal the general path gives — the same digits and exponent — at every scale,
sign and size up to 64 bits; floats and text (legacy data, past 64 bits) still take the
general path."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from metabiz.platform.exact_numbers import INT64, _exact, from_scaled

INTEGERS = [0, 1, -1, 5, -5, 99, 100, 123456789, INT64, -INT64, 10**18, -(10**18),
            *(random.Random(18).randint(-INT64, INT64) for _ in range(300))]


def _general(value: object, scale: int) -> Decimal:
    return _exact(value).scaleb(-scale).quantize(Decimal(1).scaleb(-scale),
                                                 rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 6, 10, 18])
def test_an_integer_reads_as_the_general_path_reads_it(scale):
    for value in INTEGERS:
        fast = from_scaled(value, scale)
        assert fast.as_tuple() == _general(value, scale).as_tuple(), value
        assert fast.as_tuple().exponent == -scale


@pytest.mark.parametrize(("value", "scale", "expected"), [
    (1234.5, 2, "12.35"), ("1999", 2, "19.99"), (2**64, 2, "184467440737095516.16"),
    (-(2**64) - 1, 0, "-18446744073709551617")])
def test_what_is_not_a_64_bit_integer_takes_the_general_path(value, scale, expected):
    assert str(from_scaled(value, scale)) == expected
