"""Election types and how many declarations a list needs (Kieswet H 4 lid 1 and lid 8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class ElectionType(StrEnum):
    """Election category as in EML_NL."""

    TK = "TK"  # Tweede Kamer
    EP = "EP"  # Europees Parlement
    PS = "PS"  # Provinciale Staten
    AB = "AB"  # waterschap, algemeen bestuur
    GR = "GR"  # gemeenteraad
    ER = "ER"  # eilandsraad


@dataclass(frozen=True)
class DeclarationMinimum:
    """One row of the table of minimum valid declarations per kieskring (H 4 lid 1).

    default: the minimum unless a more specific entry applies.
    by_district: (kieskring number, minimum) pairs that override the default.
    by_seats: (highest number of seats, minimum) pairs, ascending; the first band whose bound is
        >= the number of seats applies; above the last band the default applies.
    """

    default: int
    by_district: tuple[tuple[int, int], ...] = ()
    by_seats: tuple[tuple[int, int], ...] = ()


# Kieswet H 4 lid 1 (setting; rules.md §2). ALL numbers of the table live here and only here.
REQUIRED_DECLARATIONS: Final[Mapping[ElectionType, DeclarationMinimum]] = MappingProxyType(
    {
        # 30 per kieskring; 10 in kieskring 20 (Bonaire, Sint Eustatius en Saba).
        ElectionType.TK: DeclarationMinimum(default=30, by_district=((20, 10),)),
        ElectionType.EP: DeclarationMinimum(default=30),  # one kieskring (Y 12)
        ElectionType.PS: DeclarationMinimum(default=30),
        ElectionType.AB: DeclarationMinimum(default=30),
        # Gemeenteraad: < 19 seats: 10; 19–38 seats: 20; >= 39 seats: 30.
        ElectionType.GR: DeclarationMinimum(default=30, by_seats=((18, 10), (38, 20))),
        # Eilandsraad: 10 — (open) not confirmed against the newest text of the law; change here.
        ElectionType.ER: DeclarationMinimum(default=10),
    }
)


def required_declarations(election_type: ElectionType, district_number: int | None, seats: int | None) -> int:
    """Minimum number of valid declarations a list needs in one kieskring (H 4 lid 1).

    `seats` (the number of seats of the body) is required for GR; ValueError when it is missing.
    """
    rule = REQUIRED_DECLARATIONS[ElectionType(election_type)]
    if rule.by_seats:
        if seats is None:
            raise ValueError(f"{election_type}: the number of seats is needed")
        if seats < 1:
            raise ValueError("the number of seats must be positive")
        for highest, minimum in rule.by_seats:
            if seats <= highest:
                return minimum
        return rule.default
    if district_number is not None:
        for number, minimum in rule.by_district:
            if district_number == number:
                return minimum
    return rule.default


def needs_declarations(designation: str | None, won_seat_last_time: bool) -> bool:
    """Does this list need declarations at all? (H 4 lid 8)

    Not needed when the aanduiding won at least one seat at the last election of the same body.
    A blanco list (no aanduiding) always needs them.
    """
    if designation is None or not designation.strip():
        return True
    return not won_seat_last_time


BLANK_LIST = "blanco lijst"  # the name of a list without an aanduiding (EML: no RegisteredName)
