"""Who may declare (Kieswet H 4 lid 2, with B 1 and B 3 for kiesgerechtigdheid).

The facts come from the BRP; this module only applies the rules to them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .elections import ElectionType

VOTING_AGE: Final = 18  # art. B 1: 18 on the day of the vote
LONG_RESIDENCE_YEARS: Final = 5  # art. B 3 lid 2 b: five years of lawful residence (non-EU, GR)

# BRP Landelijke tabel 32 "Nationaliteitentabel" (RvIG), 4-digit codes.
DUTCH_NATIONALITY_CODE: Final = "0001"  # Nederlandse

# The other 26 EU member states, BRP table 32 codes. Source: RvIG Landelijke tabel 32, checked against
# two public copies of it: the nationality seed of DigiD (MinBZK/woo-besluit-broncode-digid, which
# flags EEA members; Iceland 0063, Liechtenstein 0066 and Norway 0070 are EEA, not EU, and left out)
# and the 'nation' table of B3Partners/brmo; both agree. Not yet checked against the RvIG publication
# itself: confirm there. Update when a state joins or leaves the EU.
EU_NATIONALITY_CODES: Final[frozenset[str]] = frozenset(
    {
        "0027",  # Slowaakse
        "0028",  # Tsjechische
        "0042",  # Sloveense
        "0043",  # Kroatische
        "0044",  # Letse
        "0045",  # Estische
        "0046",  # Litouwse
        "0052",  # Belgische
        "0053",  # Bulgaarse
        "0054",  # Deense
        "0055",  # Burger van de Bondsrepubliek Duitsland
        "0056",  # Finse
        "0057",  # Franse
        "0059",  # Griekse
        "0061",  # Hongaarse
        "0062",  # Ierse
        "0064",  # Italiaanse
        "0067",  # Luxemburgse
        "0068",  # Maltese
        "0071",  # Oostenrijkse
        "0072",  # Poolse
        "0073",  # Portugese
        "0074",  # Roemeense
        "0077",  # Spaanse
        "0080",  # Zweedse
        "0308",  # Cyprische
    }
)


class NationalityGround(StrEnum):
    """A ground on which a nationality satisfies the kiesrecht of an election type."""

    DUTCH = "dutch"  # Nederlander
    EU = "eu"  # citizen of another EU member state
    LONG_RESIDENT = "long_resident"  # other nationality, 5+ years lawful residence (B 3 lid 2)
    ANY = "any"  # no nationality requirement


# Which nationalities may vote, per election type (rules.md §3). One place to change.
NATIONALITY_GROUNDS: Final[Mapping[ElectionType, frozenset[NationalityGround]]] = MappingProxyType(
    {
        ElectionType.TK: frozenset({NationalityGround.DUTCH}),  # B 1
        ElectionType.PS: frozenset({NationalityGround.DUTCH}),  # B 2
        # Y 3: Dutch, and EU citizens living here (their registration under Y 6 is assumed to be
        # checked where the voter roll is built, not here).
        ElectionType.EP: frozenset({NationalityGround.DUTCH, NationalityGround.EU}),
        # B 3: Dutch, EU citizens, and others with 5+ years of lawful residence.
        ElectionType.GR: frozenset(
            {NationalityGround.DUTCH, NationalityGround.EU, NationalityGround.LONG_RESIDENT}
        ),
        # ASSUMPTION (brief): eilandsraad like gemeenteraad. Not confirmed against art. Ya 3; EU law
        # does not apply in the BES, so EU citizens there may need the 5 years as well: if so, drop EU.
        ElectionType.ER: frozenset(
            {NationalityGround.DUTCH, NationalityGround.EU, NationalityGround.LONG_RESIDENT}
        ),
        ElectionType.AB: frozenset({NationalityGround.ANY}),  # waterschap: no nationality requirement
    }
)


@dataclass(frozen=True)
class VoterFacts:
    """What the BRP says about a person, as far as kiesgerechtigdheid is concerned.

    nationality_codes: BRP table 32 codes ('0001' = Nederlandse).
    municipality_code: CBS code such as 'GM0363', or None when not registered in a Dutch
        municipality (RNI, abroad).
    lawful_residence_since: start of the uninterrupted lawful residence (non-Dutch, non-EU).
    """

    birth_date: date | None
    nationality_codes: frozenset[str]
    municipality_code: str | None
    excluded_from_voting: bool = False
    deceased: bool = False
    lawful_residence_since: date | None = None


class Ineligible(StrEnum):
    """Why a person may not declare."""

    NOT_REGISTERED = "not_registered"  # not registered in a Dutch municipality
    DECEASED = "deceased"
    UNDERAGE = "underage"  # B 1: not 18 on election day (or birth date unknown)
    NATIONALITY = "nationality"  # B 1 / B 3 / Y 3
    EXCLUDED = "excluded"  # uitgesloten van het kiesrecht (B 6)
    OUTSIDE_ELECTION = "outside_election"  # municipality not in this election's area
    WRONG_DISTRICT = "wrong_district"  # H 4 lid 2: municipality not in a kieskring of the list


@dataclass(frozen=True)
class EligibilityResult:
    ok: bool
    reason: Ineligible | None
    district_number: int | None  # the voter's kieskring, when known


def _add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 1 March in a non-leap year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> non-leap year
        return date(day.year + years, 3, 1)


def is_of_age(birth_date: date, election_date: date) -> bool:
    """Art. B 1: 18 years old on the day of the vote. Someone born on 29 February turns 18 on
    1 March in a non-leap year."""
    return _add_years(birth_date, VOTING_AGE) <= election_date


def _normalize_nationality(code: str) -> str:
    return code.strip().zfill(4)


def _nationality_ok(election_type: ElectionType, facts: VoterFacts, residence_reference_day: date) -> bool:
    grounds = NATIONALITY_GROUNDS[election_type]
    if NationalityGround.ANY in grounds:
        return True
    codes = {_normalize_nationality(c) for c in facts.nationality_codes}
    if NationalityGround.DUTCH in grounds and DUTCH_NATIONALITY_CODE in codes:
        return True
    if NationalityGround.EU in grounds and codes & EU_NATIONALITY_CODES:
        return True
    if NationalityGround.LONG_RESIDENT in grounds and facts.lawful_residence_since is not None:
        # B 3 lid 2 b: at least five uninterrupted years of lawful residence (kept simple: one date).
        return _add_years(facts.lawful_residence_since, LONG_RESIDENCE_YEARS) <= residence_reference_day
    return False


def _normalize_municipality(code: str) -> str:
    return code.strip().upper()


def check_eligibility(
    election_type: ElectionType,
    election_date: date,
    facts: VoterFacts,
    municipality_districts: Mapping[str, int],
    list_districts: Collection[int] | None = None,
    *,
    nomination_day: date | None = None,
) -> EligibilityResult:
    """May this person declare support in this election? (H 4 lid 2)

    municipality_districts maps every municipality code of this election to its kieskring number.
    list_districts, when given, are the kieskringen the list is submitted for.
    The five years of B 3 lid 2 are counted up to nomination_day when it is given (as the law says)
    and otherwise, as a simplification, up to election_date.

    Order of checks: not registered, deceased, outside the election, excluded, underage,
    nationality, wrong kieskring.
    """
    election_type = ElectionType(election_type)
    if facts.municipality_code is None or not facts.municipality_code.strip():
        return EligibilityResult(False, Ineligible.NOT_REGISTERED, None)
    if facts.deceased:
        return EligibilityResult(False, Ineligible.DECEASED, None)
    district = municipality_districts.get(_normalize_municipality(facts.municipality_code))
    if district is None:
        district = municipality_districts.get(facts.municipality_code)
    if district is None:
        return EligibilityResult(False, Ineligible.OUTSIDE_ELECTION, None)
    if facts.excluded_from_voting:
        return EligibilityResult(False, Ineligible.EXCLUDED, district)
    if facts.birth_date is None or not is_of_age(facts.birth_date, election_date):
        return EligibilityResult(False, Ineligible.UNDERAGE, district)
    reference_day = nomination_day if nomination_day is not None else election_date
    if not _nationality_ok(election_type, facts, reference_day):
        return EligibilityResult(False, Ineligible.NATIONALITY, district)
    if list_districts is not None and district not in list_districts:
        return EligibilityResult(False, Ineligible.WRONG_DISTRICT, district)
    return EligibilityResult(True, None, district)


def check_counter_municipality(facts: VoterFacts, counter_municipality_code: str) -> bool:
    """H 4 lid 3: at the counter a voter can declare only in their own municipality."""
    if facts.municipality_code is None or not counter_municipality_code:
        return False
    return _normalize_municipality(facts.municipality_code) == _normalize_municipality(
        counter_municipality_code
    )
