"""Reference data shipped with the project: the 342 municipalities, 3 public bodies and 20 kieskringen
of the TK2025 election definition (see registry/data/README.md for sources and caveats)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from registry.config import DATA_DIR


@dataclass(frozen=True)
class MunicipalityRef:
    region_number: int
    code: str  # "GM0363"; for the Caribbean public bodies "GM" + region number, e.g. "GM9001"
    name: str
    kind: str  # gemeente | openbaar_lichaam | nbsb
    province_code: str | None
    district_number: int


def municipality_code(region_number: int) -> str:
    return f"GM{region_number:04d}"


@cache
def municipalities() -> dict[int, MunicipalityRef]:
    result: dict[int, MunicipalityRef] = {}
    with (DATA_DIR / "tk2025_gemeenten_kieskringen.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            number = int(row["eml_region_number"])
            result[number] = MunicipalityRef(
                region_number=number,
                code=row["cbs_gemeentecode"] or municipality_code(number),
                name=row["naam"],
                kind=row["type"],
                province_code=row["provincie_code"] or None,
                district_number=int(row["kieskring_nr"]),
            )
    return result


@cache
def kieskringen() -> dict[int, str]:
    with (DATA_DIR / "tk2025_kieskringen.csv").open(encoding="utf-8") as handle:
        return {int(row["kieskring_nr"]): row["kieskring_naam"] for row in csv.DictReader(handle)}


def municipality_name(code: str) -> str | None:
    for ref in municipalities().values():
        if ref.code == code:
            return ref.name
    return None
