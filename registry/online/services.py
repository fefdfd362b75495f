"""What the online pages need besides record_declaration: the voter's own declarations, voter-facing
sentences for refusals, and the concurrency guard around the confirmation.

Finding a voter's own declarations never stores anything about the voter: the pseudonym is computed
from the BSN of the login (in memory only) and the declarations are looked up by it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from registry.admission import SlotGuard
from registry.calendar_utils import local
from registry.config import value
from registry.db import db, utcnow
from registry.declarations.models import Declaration
from registry.domain import Ineligible, normalize_bsn
from registry.elections.models import CandidateList, District, Election
from registry.elections.phase import accepting
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.services import election_cipher

GUARD_EXTENSION = "steunregister.online_guard"

STATUS_REGISTERED = "registered"
STATUS_VOID_MULTIPLE = "void-multiple"
STATUS_LABELS = {STATUS_REGISTERED: "geregistreerd", STATUS_VOID_MULTIPLE: "ongeldig: meer dan één verklaring"}

# The refusal sentences of registry.declarations speak to the clerk ("Deze persoon …"); at home the
# voter reads about themselves.
VOTER_INELIGIBLE = {
    Ineligible.NOT_REGISTERED.value: lazy_gettext(
        "Volgens de Basisregistratie Personen (BRP) woont u niet in een Nederlandse gemeente. Daarom kunt u geen "
        "ondersteuningsverklaring afleggen: dat kan alleen een kiezer die staat ingeschreven in een gemeente in de "
        "kieskring van de lijst (Kieswet, artikel H 4 lid 2). Woont u in het buitenland? Stemmen kan wel: registreer "
        "u daarvoor als kiezer buiten Nederland bij de gemeente Den Haag."),
    Ineligible.DECEASED.value: lazy_gettext(
        "Volgens de Basisregistratie Personen (BRP) kunt u geen ondersteuningsverklaring afleggen. Klopt dat niet? "
        "Neem dan contact op met uw gemeente."),
    Ineligible.UNDERAGE.value: lazy_gettext(
        "U bent op de dag van de verkiezing nog geen 18 jaar. Daarom mag u nog geen ondersteuningsverklaring "
        "afleggen (Kieswet, artikel B 1). Wat u wel kunt doen: een partij op een andere manier steunen, "
        "bijvoorbeeld door lid te worden of mee te helpen. Bij een verkiezing waarop u 18 jaar of ouder bent, "
        "kunt u wel een verklaring afleggen."),
    Ineligible.NATIONALITY.value: lazy_gettext(
        "Voor deze verkiezing mag u niet stemmen, omdat u niet de nationaliteit hebt die deze verkiezing vraagt. "
        "Daarom kunt u geen ondersteuningsverklaring afleggen."),
    Ineligible.EXCLUDED.value: lazy_gettext(
        "U bent uitgesloten van het kiesrecht. Daarom kunt u geen ondersteuningsverklaring afleggen."),
    Ineligible.OUTSIDE_ELECTION.value: lazy_gettext(
        "U woont niet in het gebied van deze verkiezing. Daarom kunt u voor deze verkiezing geen "
        "ondersteuningsverklaring afleggen."),
    Ineligible.WRONG_DISTRICT.value: lazy_gettext("Deze lijst doet niet mee in de kieskring waar u woont."),
}


def _positive_int(name: str, app: Flask | None = None) -> int:
    return int(value((app or current_app).config.get("STEUNREGISTER"), name))


# --- the concurrency guard ---------------------------------------------------------------------------

def install_guard(app: Flask) -> None:
    app.extensions[GUARD_EXTENSION] = SlotGuard(_positive_int("ONLINE_MAX_CONCURRENT", app))


def guard() -> SlotGuard:
    return current_app.extensions[GUARD_EXTENSION]


def retry_after_seconds() -> int:
    return _positive_int("ONLINE_BUSY_RETRY_AFTER")


def retry_time(seconds: int, now: datetime | None = None) -> str:
    """The local clock time (HH:MM, Europe/Amsterdam) from which trying again makes sense: rounded up
    to the next whole minute, so the voter is never told a time that has already passed."""
    moment = local((now or utcnow()) + timedelta(seconds=seconds))
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return moment.strftime("%H:%M")


# --- the window ----------------------------------------------------------------------------------------

def window_open(election: Election, now: datetime | None = None) -> bool:
    """The window (H 4 lid 3), or after the CSB's examination a repair period (I 2): see csb.services."""
    return accepting(db.session, election, now or utcnow())


# --- the voter's own declarations ----------------------------------------------------------------------

@dataclass(frozen=True)
class OwnDeclaration:
    election: str
    election_name: str
    id: int
    receipt_code: str
    list_id: int
    list_number: int | None
    designation: str | None
    list_label: str
    kieskring: int
    kieskring_name: str
    municipality_code: str
    channel: str
    recorded_at: datetime
    status: str  # registered | void-multiple

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def recorded_local(self) -> datetime:
        return local(self.recorded_at)

    def as_api(self) -> dict[str, Any]:
        return {"election": self.election, "list": self.list_id, "number": self.list_number,
                "designation": self.designation, "kieskring": self.kieskring,
                "municipality": self.municipality_code, "channel": self.channel,
                "recorded_at": self.recorded_at.isoformat(), "receipt_code": self.receipt_code,
                "status": self.status}


def own_declarations(session: Session, election: Election, bsn: str) -> list[OwnDeclaration]:
    """This voter's declarations in this election (usually none or one)."""
    return all_own_declarations(session, bsn, [election])


def all_own_declarations(session: Session, bsn: str,
                         elections: list[Election] | None = None) -> list[OwnDeclaration]:
    """This voter's declarations in these elections (default: every election in the registry), oldest
    first. The pseudonym differs per election, so it is computed per election; an election whose keys
    were destroyed (I 19) has nothing left to find."""
    number = normalize_bsn(bsn)
    if elections is None:
        elections = list(session.scalars(select(Election).order_by(Election.election_date, Election.identifier)))
    keys: dict[int, tuple[Election, str]] = {}
    for election in elections:
        try:
            keys[election.id] = (election, election_cipher(session, election).voter_key(number))
        except ElectionKeysDestroyed:
            continue
    if not keys:
        return []
    rows = session.execute(
        select(Declaration, CandidateList, District)
        .join(CandidateList, CandidateList.id == Declaration.list_id)
        .join(District, District.id == Declaration.district_id)
        .where(or_(*(and_(Declaration.election_id == election_id, Declaration.voter_key == key)
                     for election_id, (_e, key) in keys.items())))
        .order_by(Declaration.recorded_at, Declaration.id)
    ).all()
    per_election: dict[int, int] = {}
    for declaration, _cl, _d in rows:
        per_election[declaration.election_id] = per_election.get(declaration.election_id, 0) + 1
    result = []
    for declaration, candidate_list, district in rows:
        election = keys[declaration.election_id][0]
        # I 2 lid 1 a: a voter with more than one declaration in an election has none that counts.
        status = STATUS_VOID_MULTIPLE if per_election[declaration.election_id] > 1 else STATUS_REGISTERED
        result.append(OwnDeclaration(
            election=election.identifier, election_name=election.name, id=declaration.id,
            receipt_code=declaration.receipt_code, list_id=candidate_list.id, list_number=candidate_list.number,
            designation=candidate_list.designation, list_label=candidate_list.label, kieskring=district.number,
            kieskring_name=district.name, municipality_code=declaration.municipality_code,
            channel=declaration.channel, recorded_at=declaration.recorded_at, status=status))
    return result


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
