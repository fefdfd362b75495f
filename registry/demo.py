"""The demo election: the real TK2025 structure and Haarlem lists, with dates around today.

Loaded by ``flask --app app demo load`` (the README's start command does it once), so a newcomer finds
an open declaration window, an online pilot and a mix of exempt and non-exempt lists.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.brp import Person
from registry.calendar_utils import AMS, today_local
from registry.config import DATA_DIR
from registry.db import db
from registry.elections import services as elections
from registry.elections.models import Election
from registry.eml import CandidateLists, ElectionDefinition, parse_eml, sha256_fingerprint

DEMO_ACTOR = "demo"
DEMO_LEGAL_BASIS = "Demonstratie (pilot): geen echte verkiezing, verklaringen hebben geen rechtsgevolg"
# H 4 lid 8 looks at the last election of the same body: for a demo Tweede Kamer election in 2026 or 2027
# that is the one of 29 October 2025. These aanduidingen won seats there (the Kiesraad's result: D66 26,
# PVV 26, VVD 22, GL/PvdA 20, CDA 18, JA21 9, FvD 7, BBB 4, DENK, SGP, PvdD, CU and SP 3 each, 50PLUS 2,
# Volt 1), so they need no declarations; the others on the Haarlem file, NSC among them, do.
PREVIOUS_ELECTION = "de Tweede Kamerverkiezing van 29 oktober 2025"
SEATED_AT_PREVIOUS = (
    "D66", "PVV (Partij voor de Vrijheid)", "VVD", "GROENLINKS / Partij van de Arbeid (PvdA)", "CDA", "JA21",
    "Forum voor Democratie", "BBB", "DENK", "Staatkundig Gereformeerde Partij (SGP)", "Partij voor de Dieren",
    "ChristenUnie", "SP (Socialistische Partij)", "50PLUS", "Volt",
)


def demo_identifier(election_day: date) -> str:
    return f"TK{election_day.year}_DEMO"


def load_demo(session: Session, only_if_empty: bool = False, today: date | None = None) -> str:
    if only_if_empty and session.scalar(select(Election.id).limit(1)) is not None:
        return "Er staan al verkiezingen klaar; de demo is niet opnieuw geladen."
    today = today or today_local()
    nomination_day = today + timedelta(days=7)
    election_day = nomination_day + timedelta(days=44)
    identifier = demo_identifier(election_day)
    if session.scalar(select(Election.id).where(Election.identifier == identifier)) is not None:
        return f"De demo-verkiezing {identifier} bestaat al."

    definition_bytes = (DATA_DIR / "eml" / "Verkiezingsdefinitie_TK2025.eml.xml").read_bytes()
    definition = parse_eml(definition_bytes, "Verkiezingsdefinitie_TK2025.eml.xml")
    assert isinstance(definition, ElectionDefinition)
    definition = dataclasses.replace(
        definition, identifier=identifier, name=f"Tweede Kamer {election_day.year} (demo)",
        election_date=election_day, nomination_date=nomination_day,
    )
    elections.import_parsed(session, definition, sha256_fingerprint(definition_bytes), DEMO_ACTOR)

    list_bytes = (DATA_DIR / "eml" / "Kandidatenlijsten_TK2025_Haarlem.eml.xml").read_bytes()
    lists = parse_eml(list_bytes, "Kandidatenlijsten_TK2025_Haarlem.eml.xml")
    assert isinstance(lists, CandidateLists)
    # The Haarlem lists stand in for every kieskring: the demo has one list set for the whole country.
    lists = dataclasses.replace(
        lists, contest_id="alle",
        election=dataclasses.replace(lists.election, identifier=identifier, election_date=election_day,
                                     nomination_date=nomination_day),
    )
    elections.import_parsed(session, lists, sha256_fingerprint(list_bytes), DEMO_ACTOR)

    elections.update_settings(session, identifier, DEMO_ACTOR, online_open=True, online_legal_basis=DEMO_LEGAL_BASIS)
    election = elections.get_election(session, identifier)
    for designation in SEATED_AT_PREVIOUS:  # by aanduiding, as the CSB records them
        elections.set_exemption(session, identifier, designation, True, f"zetel behaald bij {PREVIOUS_ELECTION}",
                                DEMO_ACTOR)
    opens: datetime = election.window_opens_at
    return (f"Demo-verkiezing {identifier} geladen: termijn open van {opens.astimezone(AMS):%Y-%m-%d} tot dag van "
            f"kandidaatstelling {nomination_day:%Y-%m-%d} 17:00; online kanaal open als pilot.")


# The demo person register's two birthday cases are about the demo's own election day (art. B 1): one
# turns 18 on it, the other the day after. The file cannot know that day, so they are dated on lookup.
BIRTHDAY_CASES = {"turns_18_on_election_day": 0, "turns_18_day_after_election_day": 1}


def eighteen_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 18)
    except ValueError:  # election on 29 February: born the 28th, the nearest birthday still of age (art. B 1)
        return date(day.year - 18, 2, 28)


class DemoBirthdays:
    """The demo person register, with the birthday cases dated from the demo election's day."""

    def __init__(self, registry: Any, cases: dict[str, str]) -> None:
        self._registry = registry
        self._shift = {cases[name]: days for name, days in BIRTHDAY_CASES.items() if name in cases}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)

    def lookup(self, bsn: str) -> Person | None:
        person = self._registry.lookup(bsn)
        if person is None or bsn not in self._shift:
            return person
        election_day = db.session.scalar(select(Election.election_date)
                                         .where(Election.identifier.endswith("_DEMO"))
                                         .order_by(Election.election_date.desc()).limit(1))
        if election_day is None:
            return person
        born = eighteen_years_before(election_day + timedelta(days=self._shift[bsn]))
        return dataclasses.replace(person, birth_date=born)
