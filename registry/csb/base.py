"""What the centraal stembureau's modules share: the refusal of an act and the fixed texts."""

from __future__ import annotations

from datetime import datetime

from registry.domain import AMS
from registry.i18n import page_datetime

PURGED_PREFIX = "purged-"  # the declarations guard (migration 0005) accepts only this as a new key/code
MULTIPLE_REASON = "De kiezer heeft meer dan één verklaring afgelegd (art. I 2 lid 1 a): alle zijn ongeldig."
# A ruling's reason may name people ("Handtekening van … ontbreekt"): it is stored encrypted under the
# election's data key, so the I 19 purge (which destroys that key) destroys it too.
SEALED_REASON_PREFIX = "aesgcm:"
REASON_PURPOSE = "ruling-reason"
PURGED_REASON = "Ongeldig verklaard door het centraal stembureau; de reden is vernietigd (art. I 19)."
GROUND_PURPOSE = "final-ground"
PURGED_TEXT = "(vernietigd, art. I 19)"
EARLIER_VERSION_REASON = ("Verklaring voor een eerdere versie van de lijst, met andere kandidaten "
                          "(art. H 4 lid 1).")
REASON_MIN, REASON_MAX = 5, 500


class CsbRefused(Exception):
    """A CSB action the law or the state of the election does not allow; ``message`` is for the page."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def dutch_moment(moment: datetime) -> str:
    # In the page's language (Dutch on the command line), like the message around it.
    return page_datetime(moment.astimezone(AMS))
