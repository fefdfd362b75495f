"""Who may declare: H 4 lid 2 with B 1 (age), B 3 (gemeenteraad) and Y 3 (Europees Parlement)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain import (
    DUTCH_NATIONALITY_CODE,
    EU_NATIONALITY_CODES,
    NATIONALITY_GROUNDS,
    ElectionType,
    EligibilityResult,
    Ineligible,
    VoterFacts,
    check_counter_municipality,
    check_eligibility,
    is_of_age,
)

ELECTION = date(2025, 10, 29)
NOMINATION = date(2025, 9, 15)
MUNICIPALITIES = {"GM0363": 13, "GM0344": 9, "GM0014": 2}
DUTCH = frozenset({"0001"})
BELGIAN = frozenset({"0052"})
MOROCCAN = frozenset({"0131"})
STATELESS = frozenset({"0499"})


def facts(**changes) -> VoterFacts:
    values = {
        "birth_date": date(1980, 5, 17),
        "nationality_codes": DUTCH,
        "municipality_code": "GM0363",
    }
    values.update(changes)
    return VoterFacts(**values)


def check(election_type=ElectionType.TK, voter=None, list_districts=None, **kwargs):
    return check_eligibility(
        election_type, ELECTION, voter or facts(), MUNICIPALITIES, list_districts, **kwargs
    )


# --- B 1: age ---------------------------------------------------------------------------------


def test_B1_18th_birthday_on_election_day_is_eligible():
    assert is_of_age(date(2007, 10, 29), ELECTION)


def test_B1_18th_birthday_the_day_after_election_day_is_not_eligible():
    assert not is_of_age(date(2007, 10, 30), ELECTION)


def test_B1_born_29_february_turns_18_on_1_march_in_a_non_leap_year():
    assert not is_of_age(date(2008, 2, 29), date(2026, 2, 28))
    assert is_of_age(date(2008, 2, 29), date(2026, 3, 1))


def test_B1_underage_voter_is_ineligible():
    result = check(voter=facts(birth_date=date(2007, 10, 30)))
    assert result == EligibilityResult(False, Ineligible.UNDERAGE, 13)
    assert check(voter=facts(birth_date=date(2007, 10, 29))).ok


def test_B1_unknown_birth_date_cannot_show_age():
    assert check(voter=facts(birth_date=None)).reason is Ineligible.UNDERAGE


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2080, 12, 31)))
def test_property_B1_of_age_exactly_from_the_18th_birthday(birth):
    try:
        birthday = birth.replace(year=birth.year + 18)
    except ValueError:  # 29 February
        birthday = date(birth.year + 18, 3, 1)
    assert is_of_age(birth, birthday)
    assert not is_of_age(birth, birthday - timedelta(days=1))


# --- H 4 lid 2: registered in a municipality of the election and the list's kieskring -----------


def test_H4_lid2_eligible_voter_gets_their_kieskring():
    assert check() == EligibilityResult(True, None, 13)


def test_H4_lid2_not_registered_in_a_dutch_municipality():
    assert check(voter=facts(municipality_code=None)) == EligibilityResult(
        False, Ineligible.NOT_REGISTERED, None
    )


def test_H4_lid2_deceased():
    assert check(voter=facts(deceased=True)).reason is Ineligible.DECEASED


def test_H4_lid2_municipality_outside_the_election():
    result = check(voter=facts(municipality_code="GM0599"))
    assert result == EligibilityResult(False, Ineligible.OUTSIDE_ELECTION, None)


def test_B6_excluded_from_voting():
    assert check(voter=facts(excluded_from_voting=True)) == EligibilityResult(False, Ineligible.EXCLUDED, 13)


def test_H4_lid2_wrong_kieskring_of_the_list():
    assert check(list_districts={9, 2}) == EligibilityResult(False, Ineligible.WRONG_DISTRICT, 13)
    assert check(list_districts={13}).ok
    assert check(list_districts=range(1, 21)).ok


def test_H4_lid2_order_of_checks():
    everything_wrong = facts(
        municipality_code="GM0599",
        deceased=True,
        excluded_from_voting=True,
        birth_date=date(2020, 1, 1),
        nationality_codes=MOROCCAN,
    )
    assert check(voter=everything_wrong, list_districts={1}).reason is Ineligible.DECEASED
    steps = [
        ({"deceased": False}, Ineligible.OUTSIDE_ELECTION),
        ({"municipality_code": "GM0363"}, Ineligible.EXCLUDED),
        ({"excluded_from_voting": False}, Ineligible.UNDERAGE),
        ({"birth_date": date(1990, 1, 1)}, Ineligible.NATIONALITY),
        ({"nationality_codes": DUTCH}, Ineligible.WRONG_DISTRICT),
    ]
    values = {
        "birth_date": date(2020, 1, 1),
        "nationality_codes": MOROCCAN,
        "municipality_code": "GM0599",
        "deceased": True,
        "excluded_from_voting": True,
    }
    for change, expected in steps:
        values.update(change)
        assert check(voter=VoterFacts(**values), list_districts={1}).reason is expected
    assert check(voter=VoterFacts(**values), list_districts={13}).ok
    assert check(voter=facts(municipality_code=None, deceased=True)).reason is Ineligible.NOT_REGISTERED


def test_H4_lid2_municipality_code_case_and_spaces_do_not_matter():
    assert check(voter=facts(municipality_code=" gm0363 ")).ok


# --- nationality: B 1, B 2, B 3, Y 3 --------------------------------------------------------------


@pytest.mark.parametrize("election_type", [ElectionType.TK, ElectionType.PS])
def test_B1_TK_and_PS_need_dutch_nationality(election_type):
    assert check(election_type).ok
    assert check(election_type, facts(nationality_codes=BELGIAN)).reason is Ineligible.NATIONALITY
    assert check(election_type, facts(nationality_codes=BELGIAN | DUTCH)).ok


def test_B1_dutch_code_without_leading_zeros_is_recognised():
    assert check(voter=facts(nationality_codes=frozenset({"1"}))).ok


def test_Y3_EP_dutch_or_EU_citizen():
    assert check(ElectionType.EP).ok
    assert check(ElectionType.EP, facts(nationality_codes=BELGIAN)).ok
    assert check(ElectionType.EP, facts(nationality_codes=MOROCCAN)).reason is Ineligible.NATIONALITY


def test_B3_GR_EU_citizen_may_declare():
    assert check(ElectionType.GR, facts(nationality_codes=BELGIAN)).ok


def test_B3_lid2_GR_non_EU_needs_five_years_lawful_residence():
    exactly_five = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2020, 10, 29))
    one_day_short = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2020, 10, 30))
    unknown = facts(nationality_codes=MOROCCAN)
    assert check(ElectionType.GR, exactly_five).ok
    assert check(ElectionType.GR, one_day_short).reason is Ineligible.NATIONALITY
    assert check(ElectionType.GR, unknown).reason is Ineligible.NATIONALITY


def test_B3_lid2_GR_five_years_counted_to_nomination_day_when_given():
    voter = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2020, 10, 1))
    assert check(ElectionType.GR, voter).ok  # counted to election day: 5 years
    assert check(ElectionType.GR, voter, nomination_day=NOMINATION).reason is Ineligible.NATIONALITY
    settled = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2020, 9, 15))
    assert check(ElectionType.GR, settled, nomination_day=NOMINATION).ok


def test_B3_lid2_TK_long_residence_does_not_help():
    voter = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2000, 1, 1))
    assert check(ElectionType.TK, voter).reason is Ineligible.NATIONALITY


def test_ER_assumed_like_GR():
    assert NATIONALITY_GROUNDS[ElectionType.ER] == NATIONALITY_GROUNDS[ElectionType.GR]
    voter = facts(nationality_codes=MOROCCAN, lawful_residence_since=date(2010, 1, 1))
    assert check(ElectionType.ER, voter).ok


def test_AB_has_no_nationality_requirement():
    assert check(ElectionType.AB, facts(nationality_codes=STATELESS)).ok
    assert check(ElectionType.AB, facts(nationality_codes=frozenset())).ok


def test_every_election_type_has_nationality_rules():
    assert set(NATIONALITY_GROUNDS) == set(ElectionType)


def test_EU_codes_are_the_26_other_member_states():
    assert len(EU_NATIONALITY_CODES) == 26
    assert DUTCH_NATIONALITY_CODE == "0001"
    assert DUTCH_NATIONALITY_CODE not in EU_NATIONALITY_CODES
    assert {"0052", "0055", "0057", "0308", "0043"} <= EU_NATIONALITY_CODES  # BE, DE, FR, CY, HR
    # EEA but not EU (IS, LI, NO), Swiss, British
    assert not {"0063", "0066", "0070", "0081", "0060"} & EU_NATIONALITY_CODES
    assert all(len(code) == 4 and code.isdigit() for code in EU_NATIONALITY_CODES)


# --- H 4 lid 3: counter only in the voter's own municipality -------------------------------------


def test_H4_lid3_counter_only_in_own_municipality():
    assert check_counter_municipality(facts(), "GM0363")
    assert check_counter_municipality(facts(), "gm0363")
    assert not check_counter_municipality(facts(), "GM0344")
    assert not check_counter_municipality(facts(municipality_code=None), "GM0363")
    assert not check_counter_municipality(facts(), "")


def test_voter_facts_is_frozen():
    voter = facts()
    with pytest.raises(AttributeError):
        voter.deceased = True  # type: ignore[misc]
