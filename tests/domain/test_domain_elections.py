"""How many declarations a list needs (H 4 lid 1) and whether it needs them at all (H 4 lid 8)."""

import pytest

from registry.domain import REQUIRED_DECLARATIONS, ElectionType, needs_declarations, required_declarations


def test_H4_lid1_TK_kieskring_20_Bonaire_needs_10():
    assert required_declarations(ElectionType.TK, 20, None) == 10


def test_H4_lid1_TK_kieskring_19_needs_30():
    assert required_declarations(ElectionType.TK, 19, None) == 30
    assert required_declarations(ElectionType.TK, 1, None) == 30


def test_H4_lid1_TK_without_kieskring_uses_the_default_30():
    assert required_declarations(ElectionType.TK, None, None) == 30


@pytest.mark.parametrize("election_type", [ElectionType.EP, ElectionType.PS, ElectionType.AB])
def test_H4_lid1_EP_PS_AB_need_30(election_type):
    assert required_declarations(election_type, 1, None) == 30
    assert required_declarations(election_type, 20, None) == 30  # the Bonaire rule is TK only


def test_H4_lid1_ER_needs_10_open_default():
    assert required_declarations(ElectionType.ER, 1, 9) == 10
    assert REQUIRED_DECLARATIONS[ElectionType.ER].default == 10


@pytest.mark.parametrize(
    ("seats", "expected"),
    [(9, 10), (17, 10), (18, 10), (19, 20), (37, 20), (38, 20), (39, 30), (45, 30)],
)
def test_H4_lid1_GR_minimum_by_seats(seats, expected):
    assert required_declarations(ElectionType.GR, 1, seats) == expected


def test_H4_lid1_GR_without_seats_is_an_error():
    with pytest.raises(ValueError):
        required_declarations(ElectionType.GR, 1, None)


def test_H4_lid1_GR_with_zero_seats_is_an_error():
    with pytest.raises(ValueError):
        required_declarations(ElectionType.GR, 1, 0)


def test_H4_lid1_every_election_type_has_a_row_in_the_table():
    assert set(REQUIRED_DECLARATIONS) == set(ElectionType)


def test_H4_lid1_accepts_the_plain_string_of_the_type():
    assert required_declarations("TK", 20, None) == 10  # type: ignore[arg-type]


def test_election_type_values_are_the_EML_categories():
    assert [t.value for t in ElectionType] == ["TK", "EP", "PS", "AB", "GR", "ER"]


@pytest.mark.parametrize("designation", [None, "", "   "])
@pytest.mark.parametrize("won", [True, False])
def test_H4_lid8_blanco_list_always_needs_declarations(designation, won):
    assert needs_declarations(designation, won) is True


def test_H4_lid8_designation_that_won_a_seat_is_exempt():
    assert needs_declarations("Partij A", True) is False


def test_H4_lid8_designation_without_a_seat_needs_declarations():
    assert needs_declarations("Nieuwe Partij", False) is True
