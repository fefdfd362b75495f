"""Kieswet rules for the Steunregister: pure functions and frozen dataclasses, no I/O.

Articles cited are of the Kieswet (BWBR0004627), chapters B, H, I and Y.
"""

from .bsn import InvalidBsn, normalize_bsn
from .calendar import (
    AMS,
    Acceptance,
    Period,
    acceptance,
    decision_session,
    default_declaration_window,
    examination_session,
    list_content_frozen_at,
    repair_periods,
)
from .declarations import (
    DECLARATIONS_ARE_IRREVOCABLE,
    Channel,
    ListStatus,
    Tally,
    is_void_for_multiple,
    list_status,
    tally,
    voters_with_multiple,
)
from .elections import (
    REQUIRED_DECLARATIONS,
    DeclarationMinimum,
    ElectionType,
    needs_declarations,
    required_declarations,
)
from .eligibility import (
    DUTCH_NATIONALITY_CODE,
    EU_NATIONALITY_CODES,
    NATIONALITY_GROUNDS,
    EligibilityResult,
    Ineligible,
    NationalityGround,
    VoterFacts,
    check_counter_municipality,
    check_eligibility,
    is_of_age,
)

__all__ = [
    "AMS",
    "DECLARATIONS_ARE_IRREVOCABLE",
    "DUTCH_NATIONALITY_CODE",
    "EU_NATIONALITY_CODES",
    "NATIONALITY_GROUNDS",
    "REQUIRED_DECLARATIONS",
    "Acceptance",
    "Channel",
    "DeclarationMinimum",
    "ElectionType",
    "EligibilityResult",
    "Ineligible",
    "InvalidBsn",
    "ListStatus",
    "NationalityGround",
    "Period",
    "Tally",
    "VoterFacts",
    "acceptance",
    "check_counter_municipality",
    "check_eligibility",
    "decision_session",
    "default_declaration_window",
    "examination_session",
    "is_of_age",
    "is_void_for_multiple",
    "list_content_frozen_at",
    "list_status",
    "needs_declarations",
    "normalize_bsn",
    "repair_periods",
    "required_declarations",
    "tally",
    "voters_with_multiple",
]
