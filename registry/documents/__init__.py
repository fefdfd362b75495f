"""Printed documents: model H 4 (ondersteuningsverklaring) as the voter's receipt and as a blank form."""

from .services import (
    DocumentNotFound,
    blank_h4_html,
    blank_h4_pdf,
    dutch_date,
    receipt_html,
    receipt_pdf,
)

__all__ = ["DocumentNotFound", "blank_h4_html", "blank_h4_pdf", "dutch_date", "receipt_html", "receipt_pdf"]
