"""I 3: the public inspection copy of a list's declarations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.csb.base import CsbRefused
from registry.csb.examination import declaration_lines
from registry.domain.phase import local_day
from registry.elections.models import (
    Election,
    Municipality,
)
from registry.elections.phase import sessions

# --- the public inspection copy (I 3) -----------------------------------------------------------------

@dataclass(frozen=True)
class InspectionLine:
    kieskring: int
    name: str
    municipality: str
    signed_on: date


def inspection_lines(session: Session, election: Election, list_id: int) -> Iterator[InspectionLine]:
    """Name, municipality and date of each declaration for the list, per kieskring: never a BSN or pseudonym."""
    held = sessions(session, election)
    if "examination" not in held:
        raise CsbRefused("not-examined", gettext("De stukken liggen pas ter inzage na het onderzoek (art. I 3)."))
    if "purge" in held:
        raise CsbRefused("purged", gettext("De verklaringen van deze verkiezing zijn vernietigd (art. I 19)."), 410)
    names = dict(session.execute(select(Municipality.code, Municipality.name)
                                 .where(Municipality.election_id == election.id)).all())
    for line in declaration_lines(session, election, list_id):
        yield InspectionLine(line.kieskring, line.name or "", names.get(line.municipality_code, line.municipality_code),
                             local_day(line.signed_at))
