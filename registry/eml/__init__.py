"""Parser for Kiesraad EML_NL files: 110a (election definition), 210 (nomination,
as OSV2020-PP / e-KS export it) and 230b (candidate lists).

Pure: no Flask, no database. Validates against the official XSDs in
``registry/data/xsd`` and returns frozen dataclasses. Every problem raises
``EmlError`` (the file is refused as a whole).
"""

from .errors import EmlError
from .model import (
    Affiliation,
    Candidate,
    CandidateLists,
    ElectionDefinition,
    ElectionRef,
    Region,
)
from .parser import parse_eml, sha256_fingerprint

__all__ = [
    "Affiliation",
    "Candidate",
    "CandidateLists",
    "ElectionDefinition",
    "ElectionRef",
    "EmlError",
    "Region",
    "parse_eml",
    "sha256_fingerprint",
]
