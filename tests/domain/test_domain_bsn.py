"""BSN normalisation and the 11-proof (the BSN identifies the kiezer, H 4 lid 2)."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.nl import bsn as stdnum_bsn

from registry.domain import InvalidBsn, normalize_bsn


def _reason(value: str) -> str:
    with pytest.raises(InvalidBsn) as info:
        normalize_bsn(value)
    return info.value.reason


def test_bsn_valid_11_proof_is_accepted():
    assert normalize_bsn("111222333") == "111222333"
    assert normalize_bsn("123456782") == "123456782"


def test_bsn_separators_are_removed():
    assert normalize_bsn("1112.22.333") == "111222333"
    assert normalize_bsn(" 1112-22-333 ") == "111222333"
    assert normalize_bsn("111 222 333") == "111222333"


def test_bsn_8_digits_get_a_leading_zero_like_stdnum():
    assert stdnum_bsn.is_valid("012345672")
    assert normalize_bsn("12345672") == "012345672"
    assert normalize_bsn("12345672") == stdnum_bsn.compact("12345672")


def test_bsn_failing_11_proof_is_checksum():
    assert _reason("111222334") == "checksum"
    assert _reason("123456789") == "checksum"


def test_bsn_all_zeros_is_zeros():
    assert _reason("000000000") == "zeros"
    assert _reason("0000.00.000") == "zeros"
    assert _reason("00000000") == "zeros"


@pytest.mark.parametrize(
    "value",
    ["", "   ", "12345678a", "abcdefghi", "1234567", "1234567890", "1112/22/333", "١١١٢٢٢٣٣٣", "+111222333"],
)
def test_bsn_letters_wrong_length_or_odd_characters_is_format(value):
    assert _reason(value) == "format"


def test_bsn_non_string_is_format():
    assert _reason(111222333) == "format"  # type: ignore[arg-type]


def test_bsn_error_message_does_not_contain_the_value():
    with pytest.raises(InvalidBsn) as info:
        normalize_bsn("111222334")
    assert "111222334" not in str(info.value)
    assert "111222334" not in repr(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_bsn_invalid_bsn_is_a_value_error():
    assert issubclass(InvalidBsn, ValueError)


_BSN_CHARS = st.text(alphabet="0123456789 .-", max_size=14)


@given(st.one_of(st.text(max_size=20), _BSN_CHARS))
def test_property_bsn_never_accepts_what_stdnum_rejects(value):
    try:
        result = normalize_bsn(value)
    except InvalidBsn as exc:
        assert exc.reason in {"format", "checksum", "zeros"}
    else:
        assert stdnum_bsn.is_valid(value)
        assert stdnum_bsn.is_valid(result)
        assert result == stdnum_bsn.compact(value)
        assert re.fullmatch(r"[0-9]{9}", result)


@given(st.one_of(st.text(max_size=20), _BSN_CHARS))
def test_property_bsn_exception_never_contains_input_digits(value):
    try:
        normalize_bsn(value)
    except InvalidBsn as exc:
        for text in (str(exc), repr(exc), *map(str, exc.args)):
            assert not re.search(r"[0-9]", text)  # the message carries no digits at all
        assert exc.__context__ is None


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=8, max_size=8))
def test_property_bsn_every_11_proof_number_is_accepted_and_one_digit_off_is_not(first8):
    check = sum((9 - i) * d for i, d in enumerate(first8)) % 11
    assume(check != 10)  # no check digit makes the 11-proof hold
    assume(any(first8) or check)
    number = "".join(map(str, first8)) + str(check)
    assert normalize_bsn(number) == number
    assert normalize_bsn(f"{number[:4]}.{number[4:6]}.{number[6:]}") == number
    wrong = number[:-1] + str((check + 1) % 10)
    with pytest.raises(InvalidBsn) as info:
        normalize_bsn(wrong)
    assert info.value.reason in {"checksum", "zeros"}
