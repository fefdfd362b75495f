"""One declaration per voter (H 4 lid 5–6, I 2 lid 1 a), the count (I 1) and the outcome (I 5 c)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import registry.domain as domain
from registry.domain import (
    DECLARATIONS_ARE_IRREVOCABLE,
    Channel,
    ListStatus,
    Tally,
    is_void_for_multiple,
    list_status,
    tally,
    voters_with_multiple,
)


def test_H4_lid5_one_declaration_per_voter_finds_the_duplicates():
    keys = ["a", "b", "a", "c", "c", "c", "d"]
    assert voters_with_multiple(keys) == frozenset({"a", "c"})


def test_H4_lid5_no_duplicates():
    assert voters_with_multiple(["a", "b"]) == frozenset()
    assert voters_with_multiple([]) == frozenset()
    assert voters_with_multiple(iter(["x", "x"])) == frozenset({"x"})


@given(st.lists(st.sampled_from("abcdefgh")))
def test_property_H4_lid5_duplicates_are_exactly_keys_seen_twice(keys):
    assert voters_with_multiple(keys) == frozenset(k for k in keys if keys.count(k) > 1)


def test_I2_lid1a_more_than_one_declaration_voids_all():
    assert not is_void_for_multiple(0)
    assert not is_void_for_multiple(1)
    assert is_void_for_multiple(2)
    assert is_void_for_multiple(5)


def test_I2_lid1a_negative_count_is_an_error():
    with pytest.raises(ValueError):
        is_void_for_multiple(-1)


def test_H4_lid6_declarations_are_irrevocable():
    assert DECLARATIONS_ARE_IRREVOCABLE is True


def test_I1_tally_counts_valid_and_void():
    rows = [(1, False), (1, False), (2, False), (2, True), (3, False), (1, True)]
    assert tally(rows) == Tally(valid=2, void_multiple=3, void_other=1)


def test_I2_lid1a_tally_void_multiple_wins_over_ruled_invalid():
    assert tally([(2, True)]) == Tally(valid=0, void_multiple=1, void_other=0)


def test_I1_tally_of_nothing():
    assert tally([]) == Tally(0, 0, 0)


def test_I5c_list_meets_the_minimum():
    assert list_status(True, False, 30, 30) == (ListStatus.MEETS, 0)
    assert list_status(True, False, 31, 30) == (ListStatus.MEETS, 0)


def test_I5c_list_short_with_the_exact_shortage():
    assert list_status(True, False, 29, 30) == (ListStatus.SHORT, 1)
    assert list_status(True, False, 0, 10) == (ListStatus.SHORT, 10)


def test_H4_lid8_exempt_list_has_no_shortage():
    assert list_status(True, True, 0, 30) == (ListStatus.EXEMPT, 0)


def test_list_not_submitted_in_kieskring():
    assert list_status(False, False, 0, 30) == (ListStatus.NOT_SUBMITTED, 0)
    assert list_status(False, True, 0, 30) == (ListStatus.NOT_SUBMITTED, 0)


def test_list_status_rejects_negative_counts():
    with pytest.raises(ValueError):
        list_status(True, False, -1, 30)


def test_channel_values():
    assert [c.value for c in Channel] == ["counter", "online", "batch"]


def test_package_exports_everything_in_all():
    for name in domain.__all__:
        assert hasattr(domain, name), name
