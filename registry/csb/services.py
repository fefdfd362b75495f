"""The centraal stembureau's work on one election (Kieswet chapter I).

Phases, one way only (drawn in docs/csb.md):

    collecting ──I 1 examination──▶ examined (repair for notified pairs, I 2)
               ──I 4 decision────▶ decided (counts frozen)
               ──decision final──▶ final (I 7 appeal term over, or the appeal decided)
               ──I 19 purge──────▶ purged (names and pseudonyms destroyed; counts and chain kept)

Every session is one write transaction with its audit event. The counts of a session are taken while
holding the audit chain's lock, so the report names exactly the chain head the counts stand on.

The work is split by what it does: ``examination`` (I 1: counts, the declarations behind them, rulings),
``sessions`` (I 1, I 4, I 7 held once each), ``purge`` (I 19), ``inspection`` (I 3), with what they share in
``base``; the phase itself is domain knowledge (registry.domain.phase, read by registry.elections.phase).
This module names all of it for the CSB's pages, commands and tests.
"""

from __future__ import annotations

from registry.csb.base import (
    EARLIER_VERSION_REASON,
    GROUND_PURPOSE,
    MULTIPLE_REASON,
    PURGED_PREFIX,
    PURGED_REASON,
    PURGED_TEXT,
    REASON_MAX,
    REASON_MIN,
    REASON_PURPOSE,
    SEALED_REASON_PREFIX,
    CsbRefused,
    dutch_moment,
)
from registry.csb.examination import (
    DeclarationDetail,
    DeclarationLine,
    Examination,
    ExaminationRow,
    ListSummary,
    SignerDeclaration,
    declaration_detail,
    declaration_lines,
    declarations_per_day,
    examine,
    final_ground,
    multiple_signers,
    rule_invalid,
)
from registry.csb.inspection import (
    InspectionLine,
    inspection_lines,
)
from registry.csb.purge import (
    PurgeReport,
    purge,
)
from registry.csb.sessions import (
    check_final,
    hold_decision,
    hold_examination,
    record_final,
)
from registry.domain.phase import APPEAL_DAYS, PHASE_LABELS, Calendar, Phase, RepairState, local_day, phase_of
from registry.elections.phase import accepting, calendar, repair_state, sessions

__all__ = [
    "APPEAL_DAYS",
    "EARLIER_VERSION_REASON",
    "GROUND_PURPOSE",
    "MULTIPLE_REASON",
    "PHASE_LABELS",
    "PURGED_PREFIX",
    "PURGED_REASON",
    "PURGED_TEXT",
    "REASON_MAX",
    "REASON_MIN",
    "REASON_PURPOSE",
    "SEALED_REASON_PREFIX",
    "Calendar",
    "CsbRefused",
    "DeclarationDetail",
    "DeclarationLine",
    "Examination",
    "ExaminationRow",
    "InspectionLine",
    "ListSummary",
    "Phase",
    "PurgeReport",
    "RepairState",
    "SignerDeclaration",
    "accepting",
    "calendar",
    "check_final",
    "declaration_detail",
    "declaration_lines",
    "declarations_per_day",
    "dutch_moment",
    "examine",
    "final_ground",
    "hold_decision",
    "hold_examination",
    "inspection_lines",
    "local_day",
    "multiple_signers",
    "phase_of",
    "purge",
    "record_final",
    "repair_state",
    "rule_invalid",
    "sessions",
]
