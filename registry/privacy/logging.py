"""Masks anything shaped like a BSN (nine digits) in every log record, before any handler sees it.

It is a log-record factory rather than a handler filter: a factory also covers handlers added later
(gunicorn's, a test's capture handler) and records from third-party loggers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
MASK = "*********"


def mask_bsn(text: str) -> str:
    return NINE_DIGITS.sub(MASK, text)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record
        message = str(record.msg)
    record.msg, record.args = mask_bsn(message), None
    if record.exc_info:
        record.exc_text = mask_bsn(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_bsn(record.stack_info)
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
