"""ISIN (ISO 6166), LEI (ISO 17442), CFI, currency and MIC checks against real codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_common.identifiers import (
    is_valid_cfi,
    is_valid_currency,
    is_valid_isin,
    is_valid_lei,
    is_valid_mic,
    isin_check_digit,
    lei_check_digits,
)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@pytest.mark.parametrize(
    "isin", ["US0378331005", "US5949181045", "GB0002634946", "DE0007164600", "IE00B4L5Y983"]
)
def test_real_isins_are_valid(isin: str) -> None:
    assert is_valid_isin(isin)


@pytest.mark.parametrize("isin", ["US0378331006", "us0378331005", "US037833100", "1S0378331005"])
def test_bad_isins_are_rejected(isin: str) -> None:
    assert not is_valid_isin(isin)


@pytest.mark.parametrize(
    "lei", ["HWUPKR0MPOU8FGXBT394", "5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55"]
)
def test_real_leis_are_valid(lei: str) -> None:
    assert is_valid_lei(lei)


@settings(max_examples=50, database=None)
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(alphabet=ALNUM, min_size=9, max_size=9),
    st.integers(1, 9),
)
def test_isin_check_digit_detects_any_single_digit_change(
    country: str, body: str, delta: int
) -> None:
    digit = isin_check_digit(country + body)
    assert is_valid_isin(f"{country}{body}{digit}")
    assert not is_valid_isin(f"{country}{body}{(digit + delta) % 10}")


@settings(max_examples=50, database=None)
@given(st.text(alphabet=ALNUM, min_size=18, max_size=18))
def test_lei_check_digits_round_trip(prefix: str) -> None:
    check = lei_check_digits(prefix)
    assert is_valid_lei(prefix + check)
    assert not is_valid_lei(prefix + f"{(int(check) + 1) % 100:02d}")


def test_other_codes() -> None:
    assert is_valid_cfi("ESVUFR")
    assert not is_valid_cfi("ZSVUFR")
    assert is_valid_currency("EUR")
    assert not is_valid_currency("XXX")
    assert is_valid_mic("XETR")
    assert not is_valid_mic("XET")


def _reference_isin_check_digit(body: str) -> int:
    """ISO 6166 spelled out: letters to 10..35, Luhn from the right, doubling the first."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for index, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if index % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


@settings(max_examples=300, database=None)
@given(st.text(alphabet=ALNUM, min_size=11, max_size=11))
def test_fast_isin_check_digit_matches_the_definition(body: str) -> None:
    assert isin_check_digit(body) == _reference_isin_check_digit(body)
