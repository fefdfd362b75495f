"""Declarations: one per voter per election, irrevocable, and the CSB's count (H 4, I 2, I 5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Channel(StrEnum):
    """How a declaration reached the registry."""

    COUNTER = "counter"  # in person at the municipality (H 4 lid 3–4)
    ONLINE = "online"  # DigiD; only where the election names a legal basis (setting)
    BATCH = "batch"  # a file from a municipality's own system


# H 4 lid 6: a declaration cannot be withdrawn or changed. The database layer enforces this
# (append-only records); a CSB ruling is a new fact, never an edit.
DECLARATIONS_ARE_IRREVOCABLE: Final = True


def voters_with_multiple(voter_keys: Iterable[str]) -> frozenset[str]:
    """H 4 lid 5, I 2 lid 1 a: the voter keys that occur more than once in one election.

    All declarations of those voters are void, whichever lists they support.
    """
    return frozenset(key for key, count in Counter(voter_keys).items() if count > 1)


def is_void_for_multiple(declaration_count_of_voter: int) -> bool:
    """I 2 lid 1 a: a voter with more than one declaration in the election: all of them are void."""
    if declaration_count_of_voter < 0:
        raise ValueError("a count cannot be negative")
    return declaration_count_of_voter > 1


@dataclass(frozen=True)
class Tally:
    valid: int
    void_multiple: int  # voter signed more than once (I 2 lid 1 a)
    void_other: int  # ruled invalid by the CSB for another reason (I 1)


def tally(rows: Iterable[tuple[int, bool]]) -> Tally:
    """Count declarations (I 1). Each row is (declarations of that voter in this election,
    ruled invalid by the CSB). Void for multiple wins over a ruling."""
    valid = void_multiple = void_other = 0
    for count_of_voter, ruled_invalid in rows:
        if is_void_for_multiple(count_of_voter):
            void_multiple += 1
        elif ruled_invalid:
            void_other += 1
        else:
            valid += 1
    return Tally(valid=valid, void_multiple=void_multiple, void_other=void_other)


class ListStatus(StrEnum):
    """The outcome for one list in one kieskring, as far as declarations go (I 4, I 5 c)."""

    MEETS = "meets"
    SHORT = "short"
    EXEMPT = "exempt"  # H 4 lid 8
    NOT_SUBMITTED = "not_submitted"


def list_status(submitted: bool, exempt: bool, valid: int, required: int) -> tuple[ListStatus, int]:
    """Status of a list in a kieskring and its shortage (0 unless SHORT).

    I 5 c: a list is invalid in a kieskring where it has fewer valid declarations than required.
    """
    if valid < 0 or required < 0:
        raise ValueError("counts cannot be negative")
    if not submitted:
        return ListStatus.NOT_SUBMITTED, 0
    if exempt:
        return ListStatus.EXEMPT, 0
    if valid >= required:
        return ListStatus.MEETS, 0
    return ListStatus.SHORT, required - valid
