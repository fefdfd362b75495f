"""Burgerservicenummer (BSN): normalisation and the 11-proof.

The BSN identifies the voter (H 4 lid 2: only a registered kiezer may declare). It is never stored
in plaintext; this module only validates it. Error messages never repeat the value (privacy).
"""

from __future__ import annotations

import re
from typing import Final, Literal

from stdnum.nl import bsn as _stdnum_bsn

InvalidBsnReason = Literal["format", "checksum", "zeros"]

# Separators people type in a BSN; stdnum strips the same set (' -.').
_SEPARATORS: Final = re.compile(r"[ .\-]")
# ASCII digits only ('\d' would also accept other Unicode digits). 8 digits: a dropped leading zero.
_DIGITS: Final = re.compile(r"[0-9]{8,9}")


class InvalidBsn(ValueError):
    """The input is not a valid BSN. `reason` is 'format', 'checksum' or 'zeros'.

    The message names only the reason, never the value, so it is safe to log.
    """

    def __init__(self, reason: InvalidBsnReason) -> None:
        super().__init__(f"invalid BSN ({reason})")
        self.reason: str = reason


def normalize_bsn(value: str) -> str:
    """Return the 9-digit BSN, or raise InvalidBsn.

    Spaces, dots and hyphens are removed; an 8-digit value gets its leading zero back (as
    stdnum.nl.bsn does). The number must pass the 11-proof (elfproef) and must not be all zeros.
    """
    if not isinstance(value, str):
        raise InvalidBsn("format")
    digits = _SEPARATORS.sub("", value.strip())
    if not _DIGITS.fullmatch(digits):
        raise InvalidBsn("format")
    digits = digits.zfill(9)
    if digits == "000000000":
        raise InvalidBsn("zeros")
    # 11-proof via stdnum; is_valid() does not raise, so no exception carrying the value is chained.
    if not _stdnum_bsn.is_valid(digits):
        raise InvalidBsn("checksum")
    return digits
