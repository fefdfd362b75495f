"""Every model, imported in one place so Alembic and the app see the whole schema."""

from registry.audit.models import AuditEvent
from registry.csb.models import CsbSession, Ruling, Shortage
from registry.declarations.models import Declaration, IdempotencyKey
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.party.models import ListAgent
from registry.privacy.models import ElectionKeys
from registry.progress.models import ProgressCount, ProgressRefresh
from registry.transparency.models import LogLeaf, LogState, TreeHead

__all__ = [
    "AuditEvent",
    "CandidateList",
    "CsbSession",
    "Declaration",
    "District",
    "Election",
    "ElectionKeys",
    "IdempotencyKey",
    "ListAgent",
    "ListDistrict",
    "ListVersion",
    "LogLeaf",
    "LogState",
    "Municipality",
    "ProgressCount",
    "ProgressRefresh",
    "Ruling",
    "Shortage",
    "TreeHead",
]
