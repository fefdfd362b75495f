"""A party agent's lists: which lists an agent may see and change, and registering lists from the
party's own EML 210 file or from a form. Both end in registry.elections.services.import_parsed, the
one write path for lists and versions.

An agent may add a version to a list they are agent of, or create a new list. Roles come from the
identity provider (``agent:<list id>``); a list created here did not exist at login, so it is linked
to the agent's organisation (``list_agents``) in the same transaction that creates it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.access import Identity, ScopeDenied, current_identity
from registry.audit import services as audit
from registry.db import utcnow
from registry.elections.models import CandidateList, District, Election
from registry.elections.services import ImportRefused, ImportResult, find_list, import_parsed
from registry.eml import Affiliation, Candidate, CandidateLists, ElectionRef, EmlError, parse_eml, sha256_fingerprint
from registry.input_guard import BIDI
from registry.party.models import ListAgent

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_CANDIDATES = 80
INITIALS = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{0,2}\.)+$")


class RegistrationRefused(Exception):
    """A list the agent may not register, or input that cannot become one. The message is Dutch."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- which lists ---------------------------------------------------------------------------------------

def agent_list_ids(session: Session, identity: Identity) -> set[int]:
    """The lists this agent may see and change: from the login's roles, and the lists the agent's
    organisation created here."""
    ids = {int(i) for i in identity.agent_lists()}
    if identity.kind == "staff" and identity.organisation:
        ids |= set(session.scalars(select(ListAgent.list_id).where(ListAgent.organisation == identity.organisation)))
    return ids


def require_agent_list(session: Session, list_id: int) -> Identity:
    """Like auth.access.require_list, and also for a list the agent's organisation created here."""
    identity = current_identity()
    if identity is not None and str(list_id) in identity.agent_lists() and identity.kind != "voter":
        return identity  # named in the login itself: no need to ask the database
    if identity is None or identity.kind == "voter" or list_id not in agent_list_ids(session, identity):
        raise ScopeDenied("U bent geen gemachtigde van deze kandidatenlijst.", list_id=str(list_id))
    return identity


def agent_lists(session: Session, identity: Identity) -> list[CandidateList]:
    ids = agent_list_ids(session, identity)
    if not ids:
        return []
    return list(session.scalars(select(CandidateList).where(CandidateList.id.in_(sorted(ids)))
                                .order_by(CandidateList.election_id, CandidateList.number, CandidateList.id)))


def registration_open(election: Election, now: datetime | None = None) -> bool:
    """Lists can be registered and changed here until the declaration window closes (nomination day,
    17:00): after that a change could not gather declarations any more."""
    return (now or utcnow()) <= election.window_closes_at


# --- the form: candidates one per line --------------------------------------------------------------------

@dataclass(frozen=True)
class LineError:
    line: int
    message: str


def parse_candidates(text: str) -> tuple[list[Candidate], list[LineError]]:
    """Lines "Achternaam, Voorletters, Woonplaats", in list order. A leading lowercase part of the
    surname is the prefix, as the Kiesraad writes it ("van der Velde" → prefix "van der", "Velde")."""
    candidates: list[Candidate] = []
    errors: list[LineError] = []
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3 or not all(parts):
            errors.append(LineError(number, f"Regel {number}: schrijf 'Achternaam, Voorletters, Woonplaats', "
                                            "met twee komma's."))
            continue
        surname, initials, locality = parts
        initials = _initials(initials)
        if not INITIALS.fullmatch(initials):
            errors.append(LineError(number, f"Regel {number}: '{parts[1]}' zijn geen voorletters. "
                                            "Schrijf ze zo: A.B."))
            continue
        if len(surname) > 100 or len(locality) > 100:
            errors.append(LineError(number, f"Regel {number}: een naam of woonplaats is hoogstens 100 tekens."))
            continue
        prefix, last_name = _split_prefix(surname)
        candidates.append(Candidate(position=len(candidates) + 1, initials=initials, first_name=None,
                                    prefix=prefix, last_name=last_name, gender=None, locality=locality))
    if not candidates and not errors:
        errors.append(LineError(0, "Vul ten minste één kandidaat in."))
    if len(candidates) > MAX_CANDIDATES:
        errors.append(LineError(0, f"Een lijst heeft hoogstens {MAX_CANDIDATES} kandidaten; u vulde er "
                                   f"{len(candidates)} in."))
    return candidates, errors


def _initials(raw: str) -> str:
    compact = raw.replace(" ", "")
    if compact.isalpha() and compact.isupper():
        return "".join(f"{letter}." for letter in compact)  # "AB" → "A.B."
    return compact


def _split_prefix(surname: str) -> tuple[str | None, str]:
    words = surname.split()
    prefix: list[str] = []
    while len(words) > 1 and words[0].islower():
        prefix.append(words.pop(0))
    return (" ".join(prefix) or None), " ".join(words)


def election_ref(election: Election) -> ElectionRef:
    return ElectionRef(identifier=election.identifier, name=election.name, category=election.category,
                       subcategory=election.subcategory, domain_id=election.domain_id,
                       domain_name=election.domain_name, election_date=election.election_date,
                       nomination_date=election.nomination_date)


def nominations_from_form(election: Election, districts: list[District], designation: str | None,
                          candidates: list[Candidate], list_number: int | None) -> list[CandidateLists]:
    """What the form says, as the same dataclasses an EML 210 file gives: one nomination per kieskring."""
    affiliation = Affiliation(list_number=list_number, designation=(designation or "").strip() or None,
                              list_type="op zichzelf staande lijst", candidates=tuple(candidates))
    return [CandidateLists(kind="210", election=election_ref(election), contest_id=str(d.number),
                           contest_name=d.name, affiliations=(affiliation,)) for d in districts]


def form_fingerprint(nominations: list[CandidateLists]) -> str:
    """A fingerprint of what was typed, in the same 16-group form as a file's."""
    content = [{"contest": n.contest_id, "designation": a.designation, "number": a.list_number,
                "candidates": [[c.position, c.last_name, c.prefix, c.initials, c.locality] for c in a.candidates]}
               for n in nominations for a in n.affiliations]
    return sha256_fingerprint(json.dumps(content, sort_keys=True, ensure_ascii=False).encode())


# --- registering -------------------------------------------------------------------------------------------

def register_file(session: Session, identity: Identity, election: Election, data: bytes,
                  filename: str) -> ImportResult:
    """The party's own EML 210 nomination file."""
    if len(data) > MAX_FILE_BYTES:
        raise RegistrationRefused(f"Het bestand is te groot: hoogstens {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        parsed = parse_eml(data, filename)
    except EmlError as exc:
        raise RegistrationRefused(f"Het bestand is niet ingelezen. {exc}") from None
    if not isinstance(parsed, CandidateLists) or parsed.kind != "210":
        kind = "een verkiezingsdefinitie (EML 110a)" if not isinstance(parsed, CandidateLists) else \
            "een bestand met kandidatenlijsten van het centraal stembureau (EML 230b)"
        raise RegistrationRefused(f"Dit is {kind}. Lever de kandidaatstelling van uw partij in: een EML 210-bestand "
                                  "uit het programma van de Kiesraad.")
    if parsed.election.identifier != election.identifier:
        raise RegistrationRefused(f"Dit bestand is voor verkiezing {parsed.election.identifier}, niet voor "
                                  f"{election.identifier}. Kies het goede bestand.")
    return register_lists(session, identity, election, [parsed], sha256_fingerprint(data))


def register_lists(session: Session, identity: Identity, election: Election, nominations: list[CandidateLists],
                   fingerprint: str, expected_list_id: int | None = None) -> ImportResult:
    """Import these nominations if every list they touch is the agent's own or new. Checked before the
    import (for a clear answer) and again inside its transaction (against a list created meanwhile)."""
    if not registration_open(election):
        raise RegistrationRefused("De termijn is voorbij: na de dag van kandidaatstelling (17.00 uur) kunt u hier "
                                  "geen lijsten meer indienen of wijzigen.")
    mine = agent_list_ids(session, identity)
    for nomination in nominations:
        for affiliation in nomination.affiliations:
            if affiliation.designation and BIDI.search(affiliation.designation):
                raise RegistrationRefused("Niet ingediend: de aanduiding bevat een teken dat de schrijfrichting "
                                          "omdraait (zoals U+202E). Zo'n teken laat de naam op het scherm anders "
                                          "lezen dan hij is; haal het weg en dien opnieuw in.")
            try:
                existing = find_list(session, election, affiliation)
            except ImportRefused as exc:
                raise RegistrationRefused(f"Het bestand is niet ingelezen: {exc}.") from None
            _check_target(existing.id if existing else None, affiliation, mine, expected_list_id)

    def link_and_recheck(write: Session, result: ImportResult) -> None:
        allowed = agent_list_ids(write, identity)
        for list_id, created in result.touched:
            if created:
                if expected_list_id is not None:
                    raise ImportRefused("deze wijziging zou een nieuwe lijst maken in plaats van een nieuwe versie")
                if not identity.organisation:
                    raise ImportRefused("uw inlog noemt geen organisatie, dus de nieuwe lijst kan aan niemand "
                                        "worden gekoppeld")
                write.add(ListAgent(list_id=list_id, organisation=identity.organisation, created_by=identity.actor))
                write.flush()
                audit.append(write, actor=identity.actor, action="list.agent_registered",
                             election=election.identifier, subject=f"list:{list_id}",
                             payload={"organisation": identity.organisation})
            elif list_id not in allowed or (expected_list_id is not None and list_id != expected_list_id):
                raise ImportRefused("een lijst in dit bestand hoort bij een andere partij")

    try:
        return import_parsed(session, nominations, fingerprint, identity.actor, before_commit=link_and_recheck)
    except ImportRefused as exc:
        raise RegistrationRefused(f"Niet ingediend: {exc}.") from None


def _check_target(existing_id: int | None, affiliation: Affiliation, mine: set[int],
                  expected_list_id: int | None) -> None:
    name = affiliation.designation or "blanco lijst"
    if expected_list_id is not None and existing_id != expected_list_id:
        raise RegistrationRefused(f"De aanduiding '{name}' past niet bij de lijst die u wilt wijzigen.")
    if existing_id is not None and existing_id not in mine:
        raise RegistrationRefused(f"Er is al een lijst '{name}' in deze verkiezing en u bent daarvan geen gemachtigde. "
                                  "U kunt alleen uw eigen lijsten wijzigen.")

