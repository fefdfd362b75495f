"""Every model, imported in one place so Alembic and the app see the whole schema."""

from registry.api.models import IdempotencyKey
from registry.audit.models import AuditEvent
from registry.declarations.models import Declaration
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.privacy.models import ElectionKeys

__all__ = [
    "AuditEvent",
    "CandidateList",
    "Declaration",
    "District",
    "Election",
    "ElectionKeys",
    "IdempotencyKey",
    "ListDistrict",
    "ListVersion",
    "Municipality",
]

# issue 5: online channel and party progress
from registry.party.models import ListAgent
from registry.progress.models import ProgressCount, ProgressRefresh

__all__ += ["ListAgent", "ProgressCount", "ProgressRefresh"]
