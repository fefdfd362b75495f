"""Elections as the Kiesraad's EML_NL files define them, plus the settings the files do not carry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import UTCDateTime, db, utcnow
from registry.domain.elections import BLANK_LIST


class Election(db.Model):
    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(80), unique=True)  # EML ElectionIdentifier, "TK2025"
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(4))  # TK EP PS AB GR ER
    subcategory: Mapped[str | None] = mapped_column(String(10))
    domain_id: Mapped[str | None] = mapped_column(String(20))  # kr:ElectionDomain/@Id, e.g. "0106"
    domain_name: Mapped[str | None] = mapped_column(String(200))
    election_date: Mapped[date] = mapped_column(Date)
    nomination_date: Mapped[date] = mapped_column(Date)
    seats: Mapped[int | None] = mapped_column(Integer)
    # H 4 lid 3 window; defaults derived from nomination_date at import, changeable per election.
    window_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The online channel has no basis in today's Kieswet: open only with a named legal basis.
    online_open: Mapped[bool] = mapped_column(Boolean, default=False)
    online_legal_basis: Mapped[str | None] = mapped_column(Text)
    source_fingerprint: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    districts: Mapped[list[District]] = relationship(
        back_populates="election", order_by="District.number", cascade="all, delete-orphan"
    )

    def settings_dict(self) -> dict[str, Any]:
        return {
            "window_opens_at": self.window_opens_at.isoformat(),
            "window_closes_at": self.window_closes_at.isoformat(),
            "online_open": self.online_open,
            "online_legal_basis": self.online_legal_basis,
            "seats": self.seats,
        }


class District(db.Model):
    """A kieskring. For GR/ER/AB/EP the whole area is one district (rules.md §1)."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("election_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # EML RegionNumber
    name: Mapped[str] = mapped_column(String(200))

    election: Mapped[Election] = relationship(back_populates="districts")


class Municipality(db.Model):
    """A municipality (or Caribbean public body) taking part in one election, with its kieskring."""

    __tablename__ = "municipalities"
    __table_args__ = (UniqueConstraint("election_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))  # CBS code "GM0363"
    region_number: Mapped[int] = mapped_column(Integer)  # EML RegionNumber
    name: Mapped[str] = mapped_column(String(200))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))

    district: Mapped[District] = relationship()


def dutch_list_label(number: int | None, designation: str | None) -> str:
    name = designation or BLANK_LIST
    return f"Lijst {number}: {name}" if number is not None else name


class CandidateList(db.Model):
    """A party's list in one election; its candidates live in versions (H 4 lid 1)."""

    __tablename__ = "candidate_lists"
    __table_args__ = (UniqueConstraint("election_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)  # EML AffiliationIdentifier/@Id
    designation: Mapped[str | None] = mapped_column(String(300))  # aanduiding; None = blanco lijst
    # H 4 lid 8: the aanduiding won a seat last time, so no declarations are needed. Set by the CSB.
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exempt_basis: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    election: Mapped[Election] = relationship()
    submissions: Mapped[list[ListDistrict]] = relationship(back_populates="candidate_list")

    @property
    def label(self) -> str:
        """The list's Dutch name, as stored in the decision's snapshot, printed on the PDFs and put in the
        dossier. Pages show it through ``registry.i18n.page_list_label`` (the ``list_label`` filter),
        which says it in the page's language when it is rendered."""
        return dutch_list_label(self.number, self.designation)



class ListVersion(db.Model):
    """The exact candidates and order a voter supports. Frozen once a declaration refers to it."""

    __tablename__ = "list_versions"
    __table_args__ = (UniqueConstraint("list_id", "version"), UniqueConstraint("list_id", "content_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical candidates JSON
    source_fingerprint: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ListDistrict(db.Model):
    """A list submitted in a kieskring, pointing at the version that voters there now sign."""

    __tablename__ = "list_districts"

    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True, index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("list_versions.id"))

    candidate_list: Mapped[CandidateList] = relationship(back_populates="submissions")
    district: Mapped[District] = relationship()
    version: Mapped[ListVersion] = relationship()


class CsbSession(db.Model):
    """One session of the CSB for one election: examination (I 1), decision (I 4), final (the decision
    can no longer be appealed, I 7) and purge (I 19). Each happens once; its report is kept as issued."""

    __tablename__ = "csb_sessions"
    __table_args__ = (UniqueConstraint("election_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # examination | decision | final | purge
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # final: on what ground the decision is final
    results: Mapped[dict[str, Any]] = mapped_column(JSON)  # the numbers as they stood; never a name
    audit_seq: Mapped[int] = mapped_column(Integer)  # the chain head the report names
    audit_hash: Mapped[str] = mapped_column(String(64))
    report_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)  # the proces-verbaal as issued
    report_sha256: Mapped[str | None] = mapped_column(String(64))


class Shortage(db.Model):
    """A notified shortage (verzuim, I 2) of one list in one kieskring: exactly these pairs may be
    repaired with new declarations during the repair period."""

    __tablename__ = "csb_shortages"
    __table_args__ = (UniqueConstraint("list_id", "district_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("csb_sessions.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    kieskring: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)
    required: Mapped[int] = mapped_column(Integer)
    shortage: Mapped[int] = mapped_column(Integer)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferenceState(db.Model):
    """One row: a number raised by a trigger with every change to the tables a declaration is checked against
    (migration 0009), so each process knows when its snapshot of them is stale (registry.elections.reference)."""

    __tablename__ = "reference_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
