"""The one mapping from a Haal Centraal "BRP Personen Bevragen" v2 person object to a Person.

Shape (v2, operation RaadpleegMetBurgerservicenummer; only what eligibility needs)::

    {"burgerservicenummer": "999993653",
     "naam": {"voornamen": "Jan", "voorvoegsel": "van der", "geslachtsnaam": "Berg"},
     "geboorte": {"datum": {"type": "Datum", "datum": "1990-05-17", "langFormaat": "17 mei 1990"}},
     "nationaliteiten": [{"type": "Nationaliteit", "nationaliteit": {"code": "0001", ...}}],
     "verblijfplaats": {"type": "Adres"},
     "gemeenteVanInschrijving": {"code": "0363", "omschrijving": "Amsterdam"},
     "overlijden": {"indicatieOverleden": true, "datum": {...}},
     "uitsluitingKiesrecht": {"uitgeslotenVanKiesrecht": true},
     "verblijfstitel": {"aanduiding": {"code": "25", "omschrijving": "..."}, "datumIngang": {...}}}

Every error message names the field, never the BSN or another value of the person.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from registry.reference import municipality_code as _municipality_code

from .model import Person

OPERATION: Final = "RaadpleegMetBurgerservicenummer"

# The `fields` of every request: only what person_from_v2 reads (data minimisation, AVG art. 5).
# The API adds the `type` of polymorphic objects (verblijfplaats, nationaliteiten, dates) itself.
FIELDS: Final[tuple[str, ...]] = (
    "burgerservicenummer",
    "naam.voornamen",
    "naam.voorvoegsel",
    "naam.geslachtsnaam",
    "geboorte.datum",
    "nationaliteiten.type",
    "nationaliteiten.nationaliteit.code",
    "verblijfplaats.type",
    "gemeenteVanInschrijving",
    "overlijden.indicatieOverleden",
    "uitsluitingKiesrecht.uitgeslotenVanKiesrecht",
    "verblijfstitel.aanduiding.code",
    "verblijfstitel.datumIngang",
)

# gemeenteVanInschrijving 1999: Registratie Niet Ingezetenen (RNI), people living abroad.
RNI_MUNICIPALITY: Final = "1999"

# verblijfplaats types that mean the person lives in the Netherlands; the others
# (VerblijfplaatsBuitenland, VerblijfplaatsOnbekend) mean abroad or whereabouts unknown.
DOMESTIC_RESIDENCE_TYPES: Final = frozenset({"Adres", "Locatie"})

# Nationality entries that carry no tabel 32 code in v2 get the tabel 32 code of the same meaning.
# BehandeldAlsNederlander is 'aanduiding bijzonder Nederlanderschap B' in the BRP; tabel 32 has
# '0002 Behandeld als Nederlander' for it (not '0001': whether it gives kiesrecht is the rules' call).
_NATIONALITY_TYPE_CODES: Final[Mapping[str, str]] = {
    "BehandeldAlsNederlander": "0002",
    "VastgesteldNietNederlander": "0500",
    "Staatloos": "0499",
    "NationaliteitOnbekend": "0000",
}

# Landelijke tabel 56 (verblijfstitel) codes that are lawful residence in the sense of
# Vreemdelingenwet 2000 art. 8 onder a t/m e en l, which Kieswet B 3 lid 2 requires of non-EU
# residents. Not counted: 31-34, 39, 44 (in procedure, art. 8 f/g/h/m), 41 (ended),
# 42-43 (EHRM / minister), 91-93 (expired transitional titles), 98 (no title). One place to change.
LAWFUL_RESIDENCE_CODES: Final[frozenset[str]] = frozenset(
    {"21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "35", "36", "37", "38", "40"}
)

_BSN: Final = re.compile(r"[0-9]{9}")
_GEMEENTE: Final = re.compile(r"[0-9]{4}")
_NATIONALITY: Final = re.compile(r"[0-9]{4}")


def person_from_v2(obj: Mapping[str, Any]) -> Person:
    """Map one v2 person object to a Person; ValueError (naming the field) when it is malformed.

    Partial dates (JaarMaandDatum, JaarDatum) become the latest day they allow, so nobody is
    taken to be older, or lawfully resident longer, than the BRP shows for certain; a fully
    unknown date (DatumOnbekend) becomes None.
    """
    if not isinstance(obj, Mapping):
        raise ValueError("person is not a JSON object")
    bsn = obj.get("burgerservicenummer")
    if not isinstance(bsn, str) or not _BSN.fullmatch(bsn):
        raise ValueError("burgerservicenummer is missing or not 9 digits")

    naam = _object(obj, "naam")
    municipality = _municipality(obj)
    return Person(
        bsn=bsn,
        given_names=_text(naam, "voornamen", "naam"),
        prefix=_text(naam, "voorvoegsel", "naam"),
        surname=_text(naam, "geslachtsnaam", "naam") or "",
        birth_date=_date(_object(obj, "geboorte").get("datum"), "geboorte.datum"),
        nationality_codes=_nationalities(obj.get("nationaliteiten")),
        municipality_code=municipality[0] if municipality else None,
        municipality_name=municipality[1] if municipality else None,
        deceased=_deceased(_object(obj, "overlijden")),
        excluded_from_voting=_flag(_object(obj, "uitsluitingKiesrecht"), "uitgeslotenVanKiesrecht",
                                   "uitsluitingKiesrecht"),
        lawful_residence_since=_lawful_residence_since(_object(obj, "verblijfstitel")),
    )


def _object(parent: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where or key} is not an object")
    return value


def _text(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key} is not a string")
    return value.strip() or None


def _flag(parent: Mapping[str, Any], key: str, where: str) -> bool:
    value = parent.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key} is not a boolean")
    return value


def _date(value: Any, where: str) -> date | None:
    """A v2 date object ({"type": "Datum", "datum": "1990-05-17", "langFormaat": ...})."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} is not a date object")
    kind = value.get("type")
    try:
        if kind == "Datum" or (kind is None and "datum" in value):
            text = value.get("datum")
            if not isinstance(text, str):
                raise ValueError
            return date.fromisoformat(text)
        if kind == "JaarMaandDatum":
            year, month = _int(value.get("jaar")), _int(value.get("maand"))
            return date(year, month, calendar.monthrange(year, month)[1])
        if kind == "JaarDatum":
            return date(_int(value.get("jaar")), 12, 31)
        if kind == "DatumOnbekend":
            return None
    except (ValueError, TypeError):
        raise ValueError(f"{where} is not a valid {kind or 'Datum'}") from None
    raise ValueError(f"{where} has an unknown date type")


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError
    return value


def _nationalities(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ValueError("nationaliteiten is not a list")
    codes: set[str] = set()
    for index, entry in enumerate(value):
        where = f"nationaliteiten[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} is not an object")
        kind = entry.get("type", "Nationaliteit")
        if kind == "Nationaliteit":
            code = _object(entry, "nationaliteit", f"{where}.nationaliteit").get("code")
            if not isinstance(code, str) or not _NATIONALITY.fullmatch(code):
                raise ValueError(f"{where}.nationaliteit.code is missing or not 4 digits")
            codes.add(code)
        elif kind in _NATIONALITY_TYPE_CODES:
            codes.add(_NATIONALITY_TYPE_CODES[kind])
        else:
            raise ValueError(f"{where} has an unknown type")
    return frozenset(codes)


def _municipality(obj: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(code, name) of the Dutch municipality the person lives in, or None."""
    residence = _object(obj, "verblijfplaats")
    kind = residence.get("type")
    if kind is not None and kind not in DOMESTIC_RESIDENCE_TYPES:
        if kind in ("VerblijfplaatsBuitenland", "VerblijfplaatsOnbekend"):
            return None
        raise ValueError("verblijfplaats has an unknown type")
    gemeente = _object(obj, "gemeenteVanInschrijving")
    code = gemeente.get("code")
    if code is None:
        return None
    if not isinstance(code, str) or not _GEMEENTE.fullmatch(code):
        raise ValueError("gemeenteVanInschrijving.code is not 4 digits")
    if code == RNI_MUNICIPALITY:
        return None
    return _municipality_code(int(code)), _text(gemeente, "omschrijving", "gemeenteVanInschrijving")


def _deceased(overlijden: Mapping[str, Any]) -> bool:
    if "indicatieOverleden" in overlijden:
        return _flag(overlijden, "indicatieOverleden", "overlijden")
    # Without the indicator, any death data (date, place, country) means deceased.
    return any(overlijden.get(key) is not None for key in ("datum", "plaats", "land"))


def _lawful_residence_since(verblijfstitel: Mapping[str, Any]) -> date | None:
    code = _object(verblijfstitel, "aanduiding", "verblijfstitel.aanduiding").get("code")
    since = _date(verblijfstitel.get("datumIngang"), "verblijfstitel.datumIngang")
    if code is None:
        return None
    if not isinstance(code, str):
        raise ValueError("verblijfstitel.aanduiding.code is not a string")
    return since if code.strip() in LAWFUL_RESIDENCE_CODES else None
