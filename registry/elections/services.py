"""Creating elections and lists from EML_NL files, and changing the settings the files do not carry.

Each public function is one transaction that also writes its audit event; a failure rolls back the
whole import, so nothing is ever half-imported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.audit import services as audit_services
from registry.calendar_utils import local
from registry.db import begin_write, utcnow
from registry.domain import ElectionType, default_declaration_window, list_content_frozen_at
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.eml import Affiliation, CandidateLists, ElectionDefinition, ElectionRef, parse_eml, sha256_fingerprint
from registry.privacy.services import create_election_keys
from registry.reference import municipalities as reference_municipalities
from registry.reference import municipality_code


class ImportRefused(Exception):
    """A file or request that is refused as a whole, with a message for the person who gave it."""


class SettingsRefused(ValueError):
    pass


@dataclass
class ImportResult:
    kind: str
    election: str
    created_election: bool = False
    fingerprint: str = ""
    lists_created: int = 0
    versions_created: int = 0
    districts: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # Every list the import touched, in file order, with whether this import created it.
    touched: list[tuple[int, bool]] = field(default_factory=list)


# Runs inside the import's write transaction, after the rows and the audit event, before the commit:
# for writes that must commit (or fail) together with the import. Raising rolls the import back.
BeforeImportCommit = Callable[[Session, ImportResult], None]


def import_file(session: Session, data: bytes, filename: str, actor: str,
                now: datetime | None = None) -> ImportResult:
    """Recognise the EML kind from the file and import it in one transaction."""
    parsed = parse_eml(data, filename)  # raises registry.eml.EmlError: refused before any write
    return import_parsed(session, parsed, sha256_fingerprint(data), actor, now=now)


def import_parsed(session: Session, parsed: ElectionDefinition | CandidateLists | Sequence[CandidateLists],
                  fingerprint: str, actor: str, before_commit: BeforeImportCommit | None = None,
                  now: datetime | None = None) -> ImportResult:
    """Import in one transaction. A sequence of CandidateLists (one nomination for several kieskringen,
    e.g. from the party's form) is imported as a whole: all of it or nothing."""
    now = now or utcnow()
    begin_write(session)
    try:
        if isinstance(parsed, ElectionDefinition):
            result = _import_definition(session, parsed, fingerprint, actor)
        elif isinstance(parsed, CandidateLists):
            result = _import_lists(session, parsed, fingerprint, actor, now)
        else:
            result = _import_many(session, list(parsed), fingerprint, actor, now)
        if before_commit is not None:
            before_commit(session, result)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


# --- election definitions (EML 110a) -------------------------------------------------------------

def _import_definition(session: Session, definition: ElectionDefinition, fingerprint: str,
                       actor: str) -> ImportResult:
    if session.scalar(select(Election).where(Election.identifier == definition.identifier)) is not None:
        raise ImportRefused(
            f"verkiezing {definition.identifier} bestaat al; een definitie wordt één keer ingelezen"
        )
    _check_category(definition.category)
    election = _new_election(session, definition.identifier, definition.name, definition.category,
                             definition.subcategory, definition.domain_id, definition.domain_name,
                             definition.election_date, definition.nomination_date, definition.number_of_seats,
                             fingerprint)
    districts: dict[int, District] = {}
    for region in definition.districts():
        district = District(election_id=election.id, number=region.number, name=region.name)
        session.add(district)
        districts[region.number] = district
    session.flush()
    reference = reference_municipalities()
    count = 0
    for region, district_number in definition.municipalities():
        ref = reference.get(region.number)
        if ref is not None and ref.kind == "nbsb":
            continue  # postal voting from abroad: not a place where anyone declares at a counter
        session.add(Municipality(
            election_id=election.id,
            code=ref.code if ref else municipality_code(region.number),
            region_number=region.number,
            name=region.name,
            district_id=districts[district_number].id,
        ))
        count += 1
    audit_services.append(session, actor=actor, action="election.imported", election=election.identifier,
                          subject=f"election:{election.identifier}",
                          payload={"fingerprint": fingerprint, "kind": "110a", "districts": len(districts),
                                   "municipalities": count})
    return ImportResult(kind="110a", election=election.identifier, created_election=True,
                        fingerprint=fingerprint, districts=sorted(districts))


def _new_election(session: Session, identifier: str, name: str | None, category: str, subcategory: str | None,
                  domain_id: str | None, domain_name: str | None, election_date: date, nomination_date: date,
                  seats: int | None, fingerprint: str | None) -> Election:
    window = default_declaration_window(nomination_date)
    election = Election(
        identifier=identifier, name=name or identifier, category=category, subcategory=subcategory,
        domain_id=domain_id, domain_name=domain_name, election_date=election_date,
        nomination_date=nomination_date, seats=seats, window_opens_at=window.starts_at,
        window_closes_at=window.ends_at, online_open=False, online_legal_basis=None,
        source_fingerprint=fingerprint,
    )
    session.add(election)
    session.flush()
    create_election_keys(session, election)
    return election


def _check_category(category: str) -> None:
    try:
        ElectionType(category)
    except ValueError as exc:
        raise ImportRefused(f"verkiezingssoort {category!r} wordt niet ondersteund") from exc


# --- candidate lists (EML 230b) and nominations (EML 210) ----------------------------------------

def _import_lists(session: Session, lists: CandidateLists, fingerprint: str, actor: str,
                  now: datetime) -> ImportResult:
    election = session.scalar(select(Election).where(Election.identifier == lists.election.identifier))
    created = False
    if election is None:
        election = _election_from_list_file(session, lists.election, fingerprint)
        created = True
    elif election.category != lists.election.category:
        raise ImportRefused(
            f"ElectionCategory {lists.election.category} past niet bij verkiezing {election.identifier} "
            f"({election.category})"
        )
    frozen = _frozen(election, now)
    if frozen is not None and lists.kind == "210":
        raise ImportRefused(
            f"de lijsten van {election.identifier} liggen vast sinds de dag van kandidaatstelling "
            f"({frozen}): een kandidaatstelling (EML 210) wordt niet meer ingelezen. Het nummeren van de "
            "lijsten (EML 230b) en de beslissingen van het centraal stembureau gaan wel door."
        )
    file_districts = _contest_districts(session, election, lists.contest_id)
    result = ImportResult(kind=lists.kind, election=election.identifier, created_election=created,
                          fingerprint=fingerprint)
    summary, mismatches, all_districts = [], [], set()
    for affiliation in lists.affiliations:
        districts = _affiliation_districts(session, election, affiliation, file_districts)
        all_districts.update(d.number for d in districts)
        candidate_list, list_created = _find_or_create_list(session, election, affiliation, districts)
        numbered = (not list_created and affiliation.list_number is not None
                    and candidate_list.number != affiliation.list_number)
        if frozen is not None and not list_created:
            mismatches += _changes_after_freeze(session, candidate_list, affiliation, districts)
            if mismatches:
                continue
        if numbered:  # I 17: the prepared list gets its number; its identity and declarations stay
            candidate_list.number = affiliation.list_number
        version, version_created = _find_or_create_version(session, candidate_list, affiliation, fingerprint)
        result.lists_created += list_created
        result.versions_created += version_created
        result.touched.append((candidate_list.id, list_created))
        for district in districts:
            link = session.get(ListDistrict, (candidate_list.id, district.id))
            if link is None:
                session.add(ListDistrict(list_id=candidate_list.id, district_id=district.id, version_id=version.id))
            elif link.version_id != version.id:
                # Earlier declarations keep pointing at the version they signed (H 4 lid 1).
                link.version_id = version.id
        summary.append({"list": candidate_list.id, "number": candidate_list.number, "numbered": numbered,
                        "version": version.version, "content_hash": version.content_hash,
                        "kieskringen": sorted(d.number for d in districts)})
    if mismatches:
        raise ImportRefused(
            f"het bestand past niet bij de lijsten van {election.identifier}, die sinds de dag van kandidaatstelling "
            f"({frozen}) vastliggen; er is niets ingelezen:\n" + "\n".join(f"- {line}" for line in mismatches))
    result.districts = sorted(all_districts)
    session.flush()
    audit_services.append(session, actor=actor, action="lists.imported", election=election.identifier,
                          subject=f"contest:{lists.contest_id}",
                          payload={"fingerprint": fingerprint, "kind": lists.kind,
                                   "districts": result.districts, "lists": summary})
    return result


def _frozen(election: Election, now: datetime) -> str | None:
    """From nomination day 17:00 a list's content is what was submitted (H 1, I 1): when frozen, the moment
    as shown to people, else None."""
    moment = list_content_frozen_at(election.nomination_date, election.window_closes_at)
    if now < moment:
        return None
    return local(moment).strftime("%d-%m-%Y %H:%M")


def _changes_after_freeze(session: Session, candidate_list: CandidateList, affiliation: Affiliation,
                          districts: list[District]) -> list[str]:
    """What importing ``affiliation`` would change about a frozen list: one line per change."""
    digest = content_hash(candidates_json(affiliation))
    name = candidate_list.designation or "blanco lijst"
    lines = []
    for district in districts:
        link = session.get(ListDistrict, (candidate_list.id, district.id))
        if link is None:
            lines.append(f"lijst '{name}' is niet ingediend in kieskring {district.number} ({district.name})")
        elif link.version.content_hash != digest:
            lines.append(f"de kandidaten van lijst '{name}' in kieskring {district.number} ({district.name}) "
                         "wijken af van de ingediende lijst")
    return lines


def _affiliation_districts(session: Session, election: Election, affiliation: Affiliation,
                           file_districts: list[District]) -> list[District]:
    """The kieskringen of one list: kr:ListData/kr:Contests when the file names them (H 4 lid 2: a list
    stands only where it is submitted), else the file's ContestIdentifier."""
    if not affiliation.contests:
        return file_districts
    found: dict[int, District] = {}
    for contest_id in affiliation.contests:
        for district in _contest_districts(session, election, contest_id):
            found[district.number] = district
    return [found[number] for number in sorted(found)]


def _import_many(session: Session, nominations: list[CandidateLists], fingerprint: str,
                 actor: str, now: datetime) -> ImportResult:
    if not nominations:
        raise ImportRefused("er is niets om in te lezen")
    results = [_import_lists(session, nomination, fingerprint, actor, now) for nomination in nominations]
    first = results[0]
    touched: dict[int, bool] = {}
    for result in results:
        for list_id, created in result.touched:
            touched[list_id] = touched.get(list_id, False) or created
    return ImportResult(kind=first.kind, election=first.election,
                        created_election=any(r.created_election for r in results), fingerprint=fingerprint,
                        lists_created=sum(r.lists_created for r in results),
                        versions_created=sum(r.versions_created for r in results),
                        districts=sorted({d for r in results for d in r.districts}),
                        touched=list(touched.items()))


def _election_from_list_file(session: Session, ref: ElectionRef, fingerprint: str) -> Election:
    """A GR list file can stand on its own: its ElectionDomain names the municipality, which is the
    one kieskring. Other kinds need their election definition (110a) first."""
    _check_category(ref.category)
    if ref.category not in ("GR",) or not ref.domain_id:
        raise ImportRefused(
            f"verkiezing {ref.identifier} is onbekend: lees eerst de verkiezingsdefinitie (EML 110a) in"
        )
    number = int(ref.domain_id)
    known = reference_municipalities().get(number)
    name = known.name if known else (ref.domain_name or ref.domain_id)
    election = _new_election(session, ref.identifier, ref.name, ref.category, ref.subcategory, ref.domain_id,
                             ref.domain_name, ref.election_date, ref.nomination_date, None, None)
    district = District(election_id=election.id, number=number, name=name)
    session.add(district)
    session.flush()
    session.add(Municipality(election_id=election.id, code=known.code if known else municipality_code(number),
                             region_number=number, name=name, district_id=district.id))
    audit_services.append(session, actor="system", action="election.created_from_lists",
                          election=election.identifier, subject=f"election:{election.identifier}",
                          payload={"fingerprint": fingerprint, "domain": ref.domain_id})
    return election


def _contest_districts(session: Session, election: Election, contest_id: str) -> list[District]:
    all_districts = list(session.scalars(select(District).where(District.election_id == election.id)
                                         .order_by(District.number)))
    if contest_id in ("geen", "alle"):
        return all_districts
    number = int(contest_id)
    matching = [d for d in all_districts if d.number == number]
    if not matching:
        raise ImportRefused(
            f"ContestIdentifier {contest_id}: verkiezing {election.identifier} heeft geen kieskring {number}"
        )
    return matching


def find_list(session: Session, election: Election, affiliation: Affiliation,
              districts: Sequence[District] = ()) -> CandidateList | None:
    """The existing list an affiliation of a list file refers to, or None when importing it creates a
    new list. A list's identity is its aanduiding (or, for a blanco list, the kieskring it stands in);
    its number comes later, from the CSB (I 17). So a numbered file finds the list by number, else the
    prepared list of the same aanduiding, which it then numbers. The one rule, used by the import itself
    and by whoever must check beforehand whom a file would touch."""
    designation = (affiliation.designation or "").strip() or None
    query = select(CandidateList).where(CandidateList.election_id == election.id)
    if affiliation.list_number is not None:
        existing = session.scalar(query.where(CandidateList.number == affiliation.list_number))
        if existing is not None:
            if existing.designation != designation:
                raise ImportRefused(
                    f"AffiliationIdentifier {affiliation.list_number}: lijst heette '{existing.designation}', "
                    f"nu '{designation}'"
                )
            return existing
    if designation is not None:
        prepared = session.scalar(query.where(CandidateList.designation == designation).order_by(CandidateList.id))
        if (prepared is not None and affiliation.list_number is not None and prepared.number is not None
                and prepared.number != affiliation.list_number):
            raise ImportRefused(
                f"AffiliationIdentifier {affiliation.list_number}: de lijst '{designation}' heeft al nummer "
                f"{prepared.number}"
            )
        return prepared
    if affiliation.list_number is not None and districts:
        # A blanco list is known by where it stands: the one unnumbered blanco list of these kieskringen.
        blanco = session.scalars(
            query.where(CandidateList.designation.is_(None), CandidateList.number.is_(None))
            .join(ListDistrict, ListDistrict.list_id == CandidateList.id)
            .where(ListDistrict.district_id.in_([d.id for d in districts])).distinct()).all()
        return blanco[0] if len(blanco) == 1 else None
    return None  # a blanco nomination without a number is a new list


def _find_or_create_list(session: Session, election: Election, affiliation: Affiliation,
                         districts: Sequence[District] = ()) -> tuple[CandidateList, bool]:
    designation = (affiliation.designation or "").strip() or None
    existing = find_list(session, election, affiliation, districts)
    if existing is not None:
        return existing, False
    created = CandidateList(election_id=election.id, number=affiliation.list_number, designation=designation)
    session.add(created)
    session.flush()
    return created, True


def candidates_json(affiliation: Affiliation) -> list[dict[str, Any]]:
    return [
        {"position": c.position, "initials": c.initials, "first_name": c.first_name, "prefix": c.prefix,
         "last_name": c.last_name, "gender": c.gender, "locality": c.locality}
        for c in sorted(affiliation.candidates, key=lambda c: c.position)
    ]


def content_hash(candidates: list[dict[str, Any]]) -> str:
    return hashlib.sha256(audit_services.canonical(candidates).encode()).hexdigest()


def _find_or_create_version(session: Session, candidate_list: CandidateList, affiliation: Affiliation,
                            fingerprint: str) -> tuple[ListVersion, bool]:
    candidates = candidates_json(affiliation)
    digest = content_hash(candidates)
    existing = session.scalar(select(ListVersion).where(ListVersion.list_id == candidate_list.id,
                                                        ListVersion.content_hash == digest))
    if existing is not None:
        return existing, False
    number = (session.scalar(select(func.max(ListVersion.version))
                             .where(ListVersion.list_id == candidate_list.id)) or 0) + 1
    version = ListVersion(list_id=candidate_list.id, version=number, candidates=candidates,
                          content_hash=digest, source_fingerprint=fingerprint)
    session.add(version)
    session.flush()
    return version, True


# --- settings the files do not carry -------------------------------------------------------------

def get_election(session: Session, identifier: str) -> Election:
    election = session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        raise SettingsRefused(f"verkiezing {identifier} bestaat niet")
    return election


def update_settings(session: Session, identifier: str, actor: str, *, window_opens_at: datetime | None = None,
                    window_closes_at: datetime | None = None, online_open: bool | None = None,
                    online_legal_basis: str | None = None, seats: int | None = None) -> Election:
    begin_write(session)
    try:
        return _update_settings(session, identifier, actor, window_opens_at, window_closes_at, online_open,
                                online_legal_basis, seats)
    except Exception:
        session.rollback()
        raise


def _update_settings(session: Session, identifier: str, actor: str, window_opens_at: datetime | None,
                     window_closes_at: datetime | None, online_open: bool | None, online_legal_basis: str | None,
                     seats: int | None) -> Election:
    election = get_election(session, identifier)
    before = election.settings_dict()
    if window_opens_at is not None:
        election.window_opens_at = window_opens_at
    if window_closes_at is not None:
        election.window_closes_at = window_closes_at
    if election.window_opens_at >= election.window_closes_at:
        raise SettingsRefused("de termijn moet openen vóór hij sluit")
    if online_legal_basis is not None:
        election.online_legal_basis = online_legal_basis.strip() or None
    if online_open is not None:
        election.online_open = online_open
    if election.online_open and not election.online_legal_basis:
        raise SettingsRefused(
            "het online kanaal gaat alleen open met een genoemde wettelijke grondslag "
            "(de Kieswet vraagt nu verschijning aan de balie, art. H 4 lid 3)"
        )
    if seats is not None:
        if seats < 1:
            raise SettingsRefused("het aantal zetels moet een positief getal zijn")
        election.seats = seats
    after = election.settings_dict()
    audit_services.append(session, actor=actor, action="election.settings_changed",
                          election=identifier, subject=f"election:{identifier}",
                          payload={"before": before, "after": after})
    session.commit()
    return election


def set_exemption(session: Session, identifier: str, list_ref: int | str, exempt: bool, basis: str | None,
                  actor: str) -> CandidateList:
    """H 4 lid 8: the CSB records that an aanduiding won a seat last time. ``list_ref`` is the aanduiding
    (or, once numbered, the list number): an exemption may be recorded before the party submits its
    list, which then is that list. Never for a blanco list."""
    begin_write(session)
    try:
        return _set_exemption(session, identifier, list_ref, exempt, basis, actor)
    except Exception:
        session.rollback()
        raise


def _set_exemption(session: Session, identifier: str, list_ref: int | str, exempt: bool, basis: str | None,
                   actor: str) -> CandidateList:
    election = get_election(session, identifier)
    query = select(CandidateList).where(CandidateList.election_id == election.id)
    if isinstance(list_ref, int):
        candidate_list = session.scalar(query.where(CandidateList.number == list_ref))
        if candidate_list is None:
            raise SettingsRefused(f"verkiezing {identifier} heeft geen lijst {list_ref}")
    else:
        designation = " ".join(list_ref.split())
        if not designation:
            raise SettingsRefused("een blanco lijst heeft altijd ondersteuningsverklaringen nodig (art. H 4 lid 8)")
        candidate_list = session.scalar(query.where(CandidateList.designation == designation)
                                        .order_by(CandidateList.id))
        if candidate_list is None and not exempt:
            raise SettingsRefused(f"verkiezing {identifier} heeft geen lijst met de aanduiding '{designation}'")
        if candidate_list is None:
            # The aanduiding's list before its submission: the party's 210 will find it by this aanduiding.
            candidate_list = CandidateList(election_id=election.id, number=None, designation=designation)
            session.add(candidate_list)
            session.flush()
    if exempt and not candidate_list.designation:
        raise SettingsRefused("een blanco lijst heeft altijd ondersteuningsverklaringen nodig (art. H 4 lid 8)")
    if exempt and not (basis or "").strip():
        raise SettingsRefused("noem de grondslag: bij welke verkiezing won deze aanduiding een zetel?")
    candidate_list.exempt = exempt
    candidate_list.exempt_basis = (basis or "").strip() or None if exempt else None
    audit_services.append(session, actor=actor, action="list.exemption_set", election=identifier,
                          subject=f"list:{candidate_list.id}",
                          payload={"number": candidate_list.number, "designation": candidate_list.designation,
                                   "exempt": exempt, "basis": candidate_list.exempt_basis})
    session.commit()
    return candidate_list


def exemptions(session: Session, election: Election) -> list[CandidateList]:
    """The exempt aanduidingen of an election, submitted or not yet."""
    return list(session.scalars(select(CandidateList).where(CandidateList.election_id == election.id,
                                                            CandidateList.exempt.is_(True))
                                .order_by(CandidateList.designation)))


def describe(session: Session, identifier: str) -> dict[str, Any]:
    """Everything `election show` prints, as data."""
    election = get_election(session, identifier)
    districts = list(session.scalars(select(District).where(District.election_id == election.id)
                                     .order_by(District.number)))
    municipality_counts = dict(session.execute(
        select(Municipality.district_id, func.count()).where(Municipality.election_id == election.id)
        .group_by(Municipality.district_id)).all())
    lists = list(session.scalars(select(CandidateList).where(CandidateList.election_id == election.id)
                                 .order_by(CandidateList.number)))
    links = session.execute(select(ListDistrict.list_id, District.number, ListVersion.version)
                            .join(District, ListDistrict.district_id == District.id)
                            .join(ListVersion, ListDistrict.version_id == ListVersion.id)
                            .where(District.election_id == election.id)).all()
    per_list: dict[int, list[tuple[int, int]]] = {}
    for list_id, district_number, version in links:
        per_list.setdefault(list_id, []).append((district_number, version))
    return {
        "identifier": election.identifier,
        "name": election.name,
        "category": election.category,
        "subcategory": election.subcategory,
        "election_date": election.election_date.isoformat(),
        "nomination_date": election.nomination_date.isoformat(),
        "seats": election.seats,
        "settings": election.settings_dict(),
        "districts": [{"number": d.number, "name": d.name, "municipalities": municipality_counts.get(d.id, 0)}
                      for d in districts],
        "lists": [{"id": cl.id, "number": cl.number, "designation": cl.designation, "exempt": cl.exempt,
                   "exempt_basis": cl.exempt_basis,
                   "districts": sorted(n for n, _ in per_list.get(cl.id, [])),
                   "versions": sorted({v for _, v in per_list.get(cl.id, [])})} for cl in lists],
    }


def json_dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
