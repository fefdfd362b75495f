"""Plain, frozen results of the EML parser. No behaviour beyond simple look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

KIESKRING = "KIESKRING"
GEMEENTE = "GEMEENTE"

#: Number of the synthetic district used when an election definition has neither
#: KIESKRING regions nor exactly one GEMEENTE region (see ElectionDefinition.districts).
SYNTHETIC_DISTRICT_NUMBER = 1


@dataclass(frozen=True)
class Region:
    """One ``kr:Region`` of the ``kr:ElectionTree`` of a 110a election definition.

    ``number`` is ``RegionNumber``. It is None only for a region that has no
    RegionNumber in the file; the Kiesraad writes the STAAT region (Nederland)
    that way. KIESKRING and GEMEENTE regions always have a number (the parser
    refuses a file where they do not).
    """

    number: int | None
    category: str  # 'KIESKRING' | 'GEMEENTE' | 'PROVINCIE' | 'STAAT' | ...
    name: str
    superior_number: int | None
    superior_category: str | None


@dataclass(frozen=True)
class ElectionDefinition:
    """EML 110a: the definition of one election."""

    identifier: str
    name: str
    category: str
    subcategory: str | None
    domain_id: str | None
    domain_name: str | None
    election_date: date
    nomination_date: date
    number_of_seats: int | None
    regions: tuple[Region, ...]
    registered_parties: tuple[str, ...]

    def districts(self) -> tuple[Region, ...]:
        """The districts (kieskringen) of the election, in file order.

        Rule:

        1. If the file has KIESKRING regions, those are the districts
           (TK: 20 kieskringen; PS: the kieskringen of the province).
        2. Otherwise, if the file has exactly one GEMEENTE region, the election
           has one district and that GEMEENTE region *is* it (gemeenteraad:
           the municipality is the kieskring, Kieswet E 1). Its category stays
           'GEMEENTE' and its RegionNumber serves as district number
           (Stadskanaal: 37).
        3. Otherwise (no KIESKRING and zero or several GEMEENTE regions, e.g. a
           waterschap or a one-kieskring election), one synthetic district:
           Region(number=SYNTHETIC_DISTRICT_NUMBER (1), category='KIESKRING',
           name=<name of the single top region if there is one, else the
           election name>, superior None). It does not occur in ``regions``.
        """
        kieskringen = tuple(r for r in self.regions if r.category == KIESKRING)
        if kieskringen:
            return kieskringen
        gemeenten = self._gemeenten()
        if len(gemeenten) == 1:
            return gemeenten
        tops = [r for r in self.regions if r.superior_category is None]
        name = tops[0].name if len(tops) == 1 else self.name
        return (Region(SYNTHETIC_DISTRICT_NUMBER, KIESKRING, name, None, None),)

    def municipalities(self) -> tuple[tuple[Region, int], ...]:
        """Each GEMEENTE region (file order) with the number of its district.

        The district number is the SuperiorRegionNumber of the KIESKRING above
        the municipality (rule 1 of ``districts``), the municipality's own number
        (rule 2) or SYNTHETIC_DISTRICT_NUMBER (rule 3). In TK2025 this includes
        the Caribbean public bodies 9001-9003 (kieskring 20) and the NBSB
        pseudo-region 9010 (kieskring 12).
        """
        gemeenten = self._gemeenten()
        has_kieskring = any(r.category == KIESKRING for r in self.regions)
        result: list[tuple[Region, int]] = []
        for g in gemeenten:
            if has_kieskring:
                # The parser guarantees superior_category == KIESKRING and a number.
                district = g.superior_number
            elif len(gemeenten) == 1:
                district = g.number
            else:
                district = SYNTHETIC_DISTRICT_NUMBER
            assert district is not None
            result.append((g, district))
        return tuple(result)

    def _gemeenten(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.category == GEMEENTE)


@dataclass(frozen=True)
class Candidate:
    """One candidate on a list. ``position`` is CandidateIdentifier/@Id.

    ``initials`` is the xnl:NameLine with NameType="Initials"; "" when the file
    has none (the XSD allows that). Names have their whitespace collapsed.
    """

    position: int
    initials: str
    first_name: str | None
    prefix: str | None
    last_name: str
    gender: str | None  # Gender or kr:GenderAnnex: 'male' | 'female' | 'other' | 'unknown'
    locality: str | None  # first xal:LocalityName in QualifyingAddress


@dataclass(frozen=True)
class Affiliation:
    """One list (Affiliation)."""

    list_number: int | None  # AffiliationIdentifier/@Id; None in a 210 nomination (not yet assigned)
    designation: str | None  # RegisteredName; None when empty (blanco lijst)
    list_type: (
        str | None
    )  # <Type>: 'op zichzelf staande lijst' | 'stel gelijkluidende lijsten' | 'lijstengroep'
    candidates: tuple[Candidate, ...]
    # kr:ListData/kr:Contests: the kieskringen this list is submitted in, when the file names them (a
    # 210 for TK, PS or EP with ContestIdentifier "alle"); empty means the file's ContestIdentifier.
    contests: tuple[str, ...] = ()


@dataclass(frozen=True)
class ElectionRef:
    """The ElectionIdentifier of a 210 or 230b file."""

    identifier: str
    name: str | None
    category: str
    subcategory: str | None
    domain_id: str | None
    domain_name: str | None
    election_date: date
    nomination_date: date


@dataclass(frozen=True)
class CandidateLists:
    """EML 230b (candidate lists of one contest) or 210 (one nomination)."""

    kind: str  # '230b' | '210'
    election: ElectionRef
    contest_id: str  # ContestIdentifier/@Id: a kieskring number ("10") or "geen"/"alle"
    contest_name: str | None
    affiliations: tuple[Affiliation, ...]
