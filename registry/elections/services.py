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
from registry.db import begin_write
from registry.domain import ElectionType, default_declaration_window
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


def import_file(session: Session, data: bytes, filename: str, actor: str) -> ImportResult:
    """Recognise the EML kind from the file and import it in one transaction."""
    parsed = parse_eml(data, filename)  # raises registry.eml.EmlError: refused before any write
    return import_parsed(session, parsed, sha256_fingerprint(data), actor)


def import_parsed(session: Session, parsed: ElectionDefinition | CandidateLists | Sequence[CandidateLists],
                  fingerprint: str, actor: str, before_commit: BeforeImportCommit | None = None) -> ImportResult:
    """Import in one transaction. A sequence of CandidateLists (one nomination for several kieskringen,
    e.g. from the party's form) is imported as a whole: all of it or nothing."""
    begin_write(session)
    try:
        if isinstance(parsed, ElectionDefinition):
            result = _import_definition(session, parsed, fingerprint, actor)
        elif isinstance(parsed, CandidateLists):
            result = _import_lists(session, parsed, fingerprint, actor)
        else:
            result = _import_many(session, list(parsed), fingerprint, actor)
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

def _import_lists(session: Session, lists: CandidateLists, fingerprint: str, actor: str) -> ImportResult:
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
    districts = _contest_districts(session, election, lists.contest_id)
    result = ImportResult(kind=lists.kind, election=election.identifier, created_election=created,
                          fingerprint=fingerprint, districts=[d.number for d in districts])
    summary = []
    for affiliation in lists.affiliations:
        candidate_list, list_created = _find_or_create_list(session, election, affiliation)
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
        summary.append({"list": candidate_list.id, "number": candidate_list.number,
                        "version": version.version, "content_hash": version.content_hash})
    session.flush()
    audit_services.append(session, actor=actor, action="lists.imported", election=election.identifier,
                          subject=f"contest:{lists.contest_id}",
                          payload={"fingerprint": fingerprint, "kind": lists.kind,
                                   "districts": result.districts, "lists": summary})
    return result


def _import_many(session: Session, nominations: list[CandidateLists], fingerprint: str,
                 actor: str) -> ImportResult:
    if not nominations:
        raise ImportRefused("er is niets om in te lezen")
    results = [_import_lists(session, nomination, fingerprint, actor) for nomination in nominations]
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


def find_list(session: Session, election: Election, affiliation: Affiliation) -> CandidateList | None:
    """The existing list an affiliation of a list file refers to, or None when importing it creates a
    new list: by list number when the file has one, else by aanduiding. The one rule, used by the
    import itself and by whoever must check beforehand whom a file would touch."""
    designation = (affiliation.designation or "").strip() or None
    query = select(CandidateList).where(CandidateList.election_id == election.id)
    if affiliation.list_number is not None:
        existing = session.scalar(query.where(CandidateList.number == affiliation.list_number))
        if existing is not None and existing.designation != designation:
            raise ImportRefused(
                f"AffiliationIdentifier {affiliation.list_number}: lijst heette '{existing.designation}', "
                f"nu '{designation}'"
            )
        return existing
    if designation is not None:
        return session.scalar(query.where(CandidateList.designation == designation).order_by(CandidateList.id))
    return None  # a blanco nomination without a number is a new list


def _find_or_create_list(session: Session, election: Election, affiliation: Affiliation) -> tuple[CandidateList, bool]:
    designation = (affiliation.designation or "").strip() or None
    existing = find_list(session, election, affiliation)
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


def set_exemption(session: Session, identifier: str, list_number: int, exempt: bool, basis: str | None,
                  actor: str) -> CandidateList:
    """H 4 lid 8: the CSB records that an aanduiding won a seat last time. Never for a blanco list."""
    begin_write(session)
    try:
        return _set_exemption(session, identifier, list_number, exempt, basis, actor)
    except Exception:
        session.rollback()
        raise


def _set_exemption(session: Session, identifier: str, list_number: int, exempt: bool, basis: str | None,
                   actor: str) -> CandidateList:
    election = get_election(session, identifier)
    candidate_list = session.scalar(select(CandidateList).where(CandidateList.election_id == election.id,
                                                                CandidateList.number == list_number))
    if candidate_list is None:
        raise SettingsRefused(f"verkiezing {identifier} heeft geen lijst {list_number}")
    if exempt and not candidate_list.designation:
        raise SettingsRefused("een blanco lijst heeft altijd ondersteuningsverklaringen nodig (art. H 4 lid 8)")
    if exempt and not (basis or "").strip():
        raise SettingsRefused("noem de grondslag: bij welke verkiezing won deze aanduiding een zetel?")
    candidate_list.exempt = exempt
    candidate_list.exempt_basis = (basis or "").strip() or None if exempt else None
    audit_services.append(session, actor=actor, action="list.exemption_set", election=identifier,
                          subject=f"list:{candidate_list.id}",
                          payload={"number": list_number, "exempt": exempt, "basis": candidate_list.exempt_basis})
    session.commit()
    return candidate_list


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
