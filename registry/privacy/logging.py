"""Masks anything shaped like a BSN (nine digits) or a receipt code in every log record, before any
handler sees it. A receipt code is in the receipt pages' paths, so without this it would reach the access
log next to the client's address: together they tie a person to a declaration.

It is a log-record factory rather than a handler filter: a factory also covers handlers added later
(gunicorn's, a test's capture handler) and records from third-party loggers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
MASK = "*********"
# registry.declarations.services.RECEIPT_ALPHABET in groups of four, in any case (a URL may be typed so).
RECEIPT_CODE = re.compile(r"(?<![A-Za-z0-9])(?:[A-HJ-NP-Za-hj-np-z2-9]{4}-){2}[A-HJ-NP-Za-hj-np-z2-9]{4}"
                          r"(?![A-Za-z0-9])")
RECEIPT_MASK = "****-****-****"


def mask_identifiers(text: str) -> str:
    return RECEIPT_CODE.sub(RECEIPT_MASK, NINE_DIGITS.sub(MASK, text))


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record
        message = str(record.msg)
    record.msg, record.args = mask_identifiers(message), None
    if record.exc_info:
        record.exc_text = mask_identifiers(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_identifiers(record.stack_info)
    return record


class _MaskingFactory:
    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return _mask_record(self.previous(*args, **kwargs))


def install() -> None:
    """Idempotent: wraps the current record factory once."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _MaskingFactory):
        logging.setLogRecordFactory(_MaskingFactory(current))
