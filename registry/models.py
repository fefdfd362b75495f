"""Every model, imported in one place so Alembic and the app see the whole schema."""

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
    "ListDistrict",
    "ListVersion",
    "Municipality",
]
