"""Tests for registry.eml: the real Kiesraad files, and malformed files built by
editing their bytes."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from registry.eml import (
    Affiliation,
    Candidate,
    CandidateLists,
    ElectionDefinition,
    ElectionRef,
    EmlError,
    Region,
    parse_eml,
    sha256_fingerprint,
)
from registry.eml.schema import _translate, get_schema

DATA = Path(__file__).resolve().parents[2] / "registry" / "data"
EML_DIR = DATA / "eml"

TK = "Verkiezingsdefinitie_TK2025.eml.xml"
GR_STADSKANAAL = "Verkiezingsdefinitie_GR2026_Stadskanaal.eml.xml"
PS_DRENTHE = "Verkiezingsdefinitie_PS2023_Drenthe.eml.xml"
PS_LIMBURG = "Verkiezingsdefinitie_PS2023_Limburg.eml.xml"
HAARLEM = "Kandidatenlijsten_TK2025_Haarlem.eml.xml"
ASSEN = "Kandidatenlijsten_GR2026_Assen.eml.xml"
EML210 = "eml210_test.eml.xml"
EML230B_SMALL = "eml230b_candidate_lists_construction_output.eml.xml"

TK_NOMINATION = b"<kr:NominationDate>2025-09-15</kr:NominationDate>"


@cache
def raw(name: str) -> bytes:
    return (EML_DIR / name).read_bytes()


@cache
def parsed(name: str) -> ElectionDefinition | CandidateLists:
    return parse_eml(raw(name), name)


def edited(name: str, old: bytes, new: bytes, count: int = 1) -> bytes:
    data = raw(name)
    assert old in data, f"test set-up: {old!r} not in {name}"
    return data.replace(old, new, count)


def refuse(data: bytes, filename: str = "test.eml.xml") -> EmlError:
    with pytest.raises(EmlError) as info:
        parse_eml(data, filename)
    return info.value


def n_candidates(lists: CandidateLists) -> int:
    return sum(len(a.candidates) for a in lists.affiliations)


# ====================================================================== real files


def test_every_real_file_parses_to_the_right_kind():
    kinds = {}
    for path in sorted(EML_DIR.glob("*.eml.xml")):
        result = parse_eml(path.read_bytes(), path.name)
        kinds[path.name] = "110a" if isinstance(result, ElectionDefinition) else result.kind
    assert kinds == {
        ASSEN: "230b",
        HAARLEM: "230b",
        GR_STADSKANAAL: "110a",
        PS_DRENTHE: "110a",
        PS_LIMBURG: "110a",
        TK: "110a",
        EML210: "210",
        EML230B_SMALL: "230b",
    }


def test_tk2025_election_definition_fields():
    tk = parsed(TK)
    assert isinstance(tk, ElectionDefinition)
    assert tk.identifier == "TK2025"
    assert tk.name == "Tweede Kamer der Staten-Generaal 2025"
    assert tk.category == "TK"
    assert tk.subcategory == "TK"
    assert tk.domain_id is None and tk.domain_name is None
    assert tk.election_date == date(2025, 10, 29)
    assert tk.nomination_date == date(2025, 9, 15)
    assert tk.number_of_seats == 150
    assert len(tk.registered_parties) == 27
    assert tk.registered_parties[0] == "PVV (Partij voor de Vrijheid)"
    assert "Partij voor de Rechtsstaat" in tk.registered_parties


def test_tk2025_regions_districts_and_municipalities():
    tk = parsed(TK)
    categories = [r.category for r in tk.regions]
    assert categories.count("STAAT") == 1
    assert categories.count("KIESKRING") == 20
    assert categories.count("GEMEENTE") == 346
    staat = tk.regions[0]
    assert staat == Region(number=None, category="STAAT", name="Nederland", superior_number=None,
                           superior_category=None)  # fmt: skip

    districts = tk.districts()
    assert [d.number for d in districts] == list(range(1, 21))
    assert all(d.category == "KIESKRING" and d.superior_category == "STAAT" for d in districts)
    assert districts[9].name == "Haarlem"

    municipalities = tk.municipalities()
    assert len(municipalities) == 346
    by_number = {g.number: (g, district) for g, district in municipalities}
    assert {n for n, (_, d) in by_number.items() if d == 20} >= {9001, 9002, 9003}
    assert by_number[9001][0].name == "Bonaire"
    assert by_number[9010][1] == 12  # NBSB, postal voting from abroad
    assert by_number[363][0].name == "Amsterdam" and by_number[363][1] == 9


def test_tk2025_municipalities_match_reference_csv():
    """The project's reference CSV was transcribed from the same file: both must agree."""
    with (DATA / "tk2025_gemeenten_kieskringen.csv").open(encoding="utf-8", newline="") as f:
        expected = {
            (int(row["eml_region_number"]), row["naam"], int(row["kieskring_nr"]))
            for row in csv.DictReader(f)
        }
    got = {(g.number, g.name, district) for g, district in parsed(TK).municipalities()}
    assert got == expected
    assert len(got) == 346


def test_gr_stadskanaal_has_one_district_the_municipality_itself():
    gr = parsed(GR_STADSKANAAL)
    assert isinstance(gr, ElectionDefinition)
    assert (gr.identifier, gr.category, gr.subcategory) == ("GR2026_Stadskanaal", "GR", "GR2")
    assert (gr.domain_id, gr.domain_name) == ("0037", "Stadskanaal")
    assert gr.election_date == date(2026, 3, 18)
    assert gr.nomination_date == date(2026, 2, 2)
    assert gr.number_of_seats == 23
    assert len(gr.registered_parties) == 10
    gemeente = Region(number=37, category="GEMEENTE", name="Stadskanaal", superior_number=None,
                      superior_category=None)  # fmt: skip
    assert gr.regions == (gemeente,)
    assert gr.districts() == (gemeente,)
    assert gr.municipalities() == ((gemeente, 37),)


def test_ps2023_drenthe_province_kieskring_gemeente():
    ps = parsed(PS_DRENTHE)
    assert isinstance(ps, ElectionDefinition)
    assert (ps.identifier, ps.category, ps.subcategory) == ("PS2023_Drenthe", "PS", "PS1")
    assert ps.domain_name == "Drenthe" and ps.domain_id is None
    assert ps.nomination_date == date(2023, 1, 30)
    assert ps.number_of_seats == 43
    assert len(ps.registered_parties) == 19
    province = [r for r in ps.regions if r.category == "PROVINCIE"]
    assert [(r.number, r.name) for r in province] == [(3, "Drenthe")]
    districts = ps.districts()
    assert len(districts) == 1
    assert (districts[0].superior_category, districts[0].superior_number) == ("PROVINCIE", 3)
    municipalities = ps.municipalities()
    assert len(municipalities) == 12
    assert {d for _, d in municipalities} == {districts[0].number}
    assert 106 in {g.number for g, _ in municipalities}  # Assen


def test_ps2023_limburg_two_kieskringen():
    ps = parsed(PS_LIMBURG)
    assert isinstance(ps, ElectionDefinition)
    assert (ps.identifier, ps.subcategory, ps.number_of_seats) == ("PS2023_Limburg", "PS2", 47)
    assert len(ps.registered_parties) == 20
    assert [(d.number, d.name) for d in ps.districts()] == [(1, "Maastricht"), (2, "Venlo")]
    municipalities = ps.municipalities()
    assert len(municipalities) == 31
    assert {d for _, d in municipalities} == {1, 2}
    assert dict((g.name, d) for g, d in municipalities)["Landgraaf"] == 1


def test_synthetic_district_when_no_kieskring_and_several_gemeenten():
    # Drenthe without its KIESKRING: the municipalities hang directly under the province.
    data = re.sub(
        rb'<kr:Region RegionNumber="1" RegionCategory="KIESKRING".*?</kr:Region>',
        b"",
        raw(PS_DRENTHE),
        flags=re.S,
    ).replace(
        b'SuperiorRegionNumber="1" SuperiorRegionCategory="KIESKRING"',
        b'SuperiorRegionNumber="3" SuperiorRegionCategory="PROVINCIE"',
    )
    ps = parse_eml(data)
    assert isinstance(ps, ElectionDefinition)
    assert ps.districts() == (Region(1, "KIESKRING", "Drenthe", None, None),)
    municipalities = ps.municipalities()
    assert len(municipalities) == 12
    assert {d for _, d in municipalities} == {1}


def test_haarlem_candidate_lists():
    lists = parsed(HAARLEM)
    assert isinstance(lists, CandidateLists)
    assert lists.kind == "230b"
    assert lists.election == ElectionRef(
        identifier="TK2025",
        name="Tweede Kamer der Staten-Generaal 2025",
        category="TK",
        subcategory="TK",
        domain_id=None,
        domain_name=None,
        election_date=date(2025, 10, 29),
        nomination_date=date(2025, 9, 15),
    )
    assert (lists.contest_id, lists.contest_name) == ("10", "Haarlem")
    assert len(lists.affiliations) == 23
    assert n_candidates(lists) == 1029
    # Lists 22 (FNP) and 24 (DE LINIE) take no part in kieskring Haarlem.
    assert [a.list_number for a in lists.affiliations] == [*range(1, 22), 23, 25]
    types = [a.list_type for a in lists.affiliations]
    assert types.count("lijstengroep") == 1
    assert types.count("stel gelijkluidende lijsten") == 22
    pvv = lists.affiliations[0]
    assert pvv.designation == "PVV (Partij voor de Vrijheid)"
    assert pvv.candidates[0] == Candidate(
        position=1,
        initials="G.",
        first_name="Geert",
        prefix=None,
        last_name="Wilders",
        gender="male",
        locality="'s-Gravenhage",
    )
    assert pvv.candidates[1].last_name == "Stöteler"


def test_assen_candidate_lists():
    lists = parsed(ASSEN)
    assert isinstance(lists, CandidateLists)
    assert lists.kind == "230b"
    assert (lists.contest_id, lists.contest_name) == ("geen", None)
    assert (lists.election.identifier, lists.election.category) == ("GR2026_Assen", "GR")
    assert (lists.election.domain_id, lists.election.domain_name) == ("0106", "Assen")
    assert len(lists.affiliations) == 13
    assert n_candidates(lists) == 228
    first = lists.affiliations[0]
    assert first.designation == "GROENLINKS / Partij van de Arbeid (PvdA)"
    assert first.list_type == "op zichzelf staande lijst"
    fifth = first.candidates[4]
    assert (fifth.initials, fifth.first_name, fifth.prefix, fifth.last_name) == (
        "P.R.",
        "Paul",
        "van der",
        "Kolk - Kruithof",
    )
    assert fifth.gender is None  # PublishGender="false": no Gender element
    assert fifth.locality == "Assen"


def test_candidate_positions_in_real_lists_are_1_to_n():
    for name in (HAARLEM, ASSEN, EML210, EML230B_SMALL):
        lists = parsed(name)
        for affiliation in lists.affiliations:
            assert [c.position for c in affiliation.candidates] == list(
                range(1, len(affiliation.candidates) + 1)
            )


def test_eml210_nomination():
    nomination = parsed(EML210)
    assert isinstance(nomination, CandidateLists)
    assert nomination.kind == "210"
    assert nomination.election.identifier == "GR2026_Test"
    assert nomination.election.name is None
    assert (nomination.election.domain_id, nomination.election.domain_name) == ("0000", "Test")
    assert (nomination.contest_id, nomination.contest_name) == ("geen", "Test Contest")
    assert nomination.affiliations == (
        Affiliation(
            list_number=None,
            designation="Test Party",
            list_type="op zichzelf staande lijst",
            candidates=(
                Candidate(1, "J.", "Jan", "van", "Tansen", "male", "Amsterdam"),
                # The locality sits inside xal:Country in this one.
                Candidate(2, "A.B.", "Anna", None, "Bakker", "female", "Rotterdam"),
            ),
        ),
    )


def test_eml230b_construction_output():
    lists = parsed(EML230B_SMALL)
    assert isinstance(lists, CandidateLists)
    assert lists.kind == "230b"
    assert lists.contest_id == "geen"
    assert lists.election.subcategory is None
    assert lists.election.election_date == date(2024, 11, 5)
    assert len(lists.affiliations) == 1
    assert lists.affiliations[0].list_number == 1
    assert lists.affiliations[0].designation == "Affiliation 1"
    assert [c.last_name for c in lists.affiliations[0].candidates] == ["Pietersen"]


def test_results_are_frozen_and_hashable():
    tk = parsed(TK)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tk.identifier = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed(HAARLEM).affiliations[0].candidates[0].position = 2  # type: ignore[misc]
    assert hash(tk) == hash(parse_eml(raw(TK)))
    assert parse_eml(raw(HAARLEM)) == parsed(HAARLEM)


def test_other_namespace_prefixes_are_read_from_the_file():
    data = raw(TK).replace(b"xmlns:kr=", b"xmlns:k=").replace(b"<kr:", b"<k:").replace(b"</kr:", b"</k:")
    tk = parse_eml(data)
    assert isinstance(tk, ElectionDefinition)
    assert tk == parsed(TK)
    error = refuse(data.replace(b"<k:NominationDate>2025-09-15</k:NominationDate>", b""))
    assert error.element == "k:NominationDate"


def test_parallel_parsing_keeps_errors_apart():
    good = raw(HAARLEM)
    bad = edited(TK, b"2025-09-15", b"2025-13-01")
    bad_xsd = edited(HAARLEM, b"<Type>lijstengroep</Type>", b"<Type>lijstencombinatie</Type>")

    def work(i: int) -> str:
        try:
            parse_eml((good, bad, bad_xsd)[i % 3])
        except EmlError as error:
            return f"{error.element}|{error.problem}"
        return "ok"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(36)))
    assert results[0::3] == ["ok"] * 12
    assert set(results[1::3]) == {"kr:NominationDate|is geen geldige datum: '2025-13-01'"}
    assert len(set(results[2::3])) == 1 and results[2].startswith("Type|waarde 'lijstencombinatie'")


def test_bytearray_is_accepted_and_str_is_not():
    assert parse_eml(bytearray(raw(GR_STADSKANAAL))) == parsed(GR_STADSKANAAL)
    with pytest.raises(TypeError):
        parse_eml(raw(GR_STADSKANAAL).decode())  # type: ignore[arg-type]


def test_blanco_list_has_no_designation():
    data = edited(
        ASSEN,
        b"<RegisteredName>GROENLINKS / Partij van de Arbeid (PvdA)</RegisteredName>",
        b"<RegisteredName/>",
    )
    lists = parse_eml(data)
    assert isinstance(lists, CandidateLists)
    assert lists.affiliations[0].designation is None
    assert len(lists.affiliations[0].candidates) == len(parsed(ASSEN).affiliations[0].candidates)


def test_fingerprint_format():
    fingerprint = sha256_fingerprint(b"test")
    assert fingerprint.startswith("9f86 d081 ")
    assert re.fullmatch(r"(?:[0-9a-f]{4} ){15}[0-9a-f]{4}", fingerprint)
    assert fingerprint.replace(" ", "") == hashlib.sha256(b"test").hexdigest()
    tk_fingerprint = sha256_fingerprint(raw(TK))
    assert re.fullmatch(r"(?:[0-9a-f]{4} ){15}[0-9a-f]{4}", tk_fingerprint)
    assert tk_fingerprint.replace(" ", "") == hashlib.sha256(raw(TK)).hexdigest()


def test_schemas_are_loaded_once_and_parsing_is_fast():
    parse_eml(raw(TK))  # loads the 110a schema if needed
    assert get_schema("110a") is get_schema("110a")
    start = time.perf_counter()
    parse_eml(raw(TK))
    parse_eml(raw(HAARLEM))
    assert time.perf_counter() - start < 1.0


# ====================================================================== malformed files


def test_not_xml():
    error = refuse(b"Dit is geen XML, maar een boodschappenlijstje.")
    assert error.element == "EML"
    assert "geen geldige XML" in error.problem
    assert error.line == 1


def test_empty_file():
    for data in (b"", b"  \n\t\n"):
        error = refuse(data)
        assert error.element == "EML"
        assert "leeg" in error.problem


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE EML [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a">&lol9;</EML>
"""


def test_billion_laughs_is_refused_quickly():
    start = time.perf_counter()
    error = refuse(BILLION_LAUGHS)
    assert time.perf_counter() - start < 1.0
    assert error.element == "DOCTYPE"
    assert "DOCTYPE" in error.problem
    assert "niet toegestaan" in error.problem
    assert error.line == 2


def test_external_entity_is_refused_and_not_read(tmp_path):
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIM-1234")
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE EML [<!ENTITY xxe SYSTEM "' + secret.as_uri().encode() + b'">]>\n'
        b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a">&xxe;</EML>'
    )
    error = refuse(data)
    assert error.element == "DOCTYPE"
    assert "GEHEIM" not in str(error)


def test_utf16_doctype_is_refused():
    data = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE EML [<!ENTITY x "y">]>\n<EML/>'.encode(
        "utf-16"
    )
    error = refuse(data)
    assert error.element == "DOCTYPE"
    assert error.line == 2


def test_doctype_in_an_otherwise_valid_file_is_refused():
    data = raw(TK).replace(b"<EML ", b'<!DOCTYPE EML [<!ENTITY x "y">]>\n<EML ', 1)
    error = refuse(data)
    assert error.element == "DOCTYPE"


@pytest.mark.parametrize("kind", ["510", "110b", "230c", "520", ""])
def test_unknown_eml_id(kind):
    error = refuse(edited(TK, b'Id="110a"', b'Id="' + kind.encode() + b'"'))
    assert error.element == "EML"
    assert error.attribute == "Id"
    assert f"'{kind}'" in error.problem
    assert "niet ondersteund" in error.problem
    assert error.line == 2


def test_missing_eml_id():
    error = refuse(edited(TK, b' Id="110a"', b""))
    assert (error.element, error.attribute) == ("EML", "Id")
    assert "ontbreekt" in error.problem


@pytest.mark.parametrize(
    "data",
    [
        b"<foo/>",
        b'<EML Id="110a"/>',  # no namespace
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
)
def test_not_an_eml_document(data):
    error = refuse(data)
    assert error.element == "EML"
    assert "geen EML-document" in error.problem


def test_missing_nomination_date_in_election_definition():
    error = refuse(edited(TK, TK_NOMINATION, b""))
    assert error.element == "kr:NominationDate"
    assert error.problem.startswith("ontbreekt")
    assert error.line == 9  # the ElectionIdentifier


def test_missing_nomination_date_in_candidate_lists():
    # The 230 XSD accepts this (its xs:choice needs only two of four elements).
    error = refuse(edited(HAARLEM, TK_NOMINATION, b""))
    assert error.element == "kr:NominationDate"
    assert "ontbreekt" in error.problem


def test_missing_election_date():
    error = refuse(edited(TK, b"<kr:ElectionDate>2025-10-29</kr:ElectionDate>", b""))
    assert error.element == "kr:ElectionDate"
    assert "ontbreekt" in error.problem


def test_duplicate_nomination_date():
    error = refuse(edited(TK, TK_NOMINATION, TK_NOMINATION + b"\n" + TK_NOMINATION))
    assert error.element == "kr:NominationDate"
    assert "meer dan een keer" in error.problem
    assert error.line == 15


def test_invalid_date():
    error = refuse(edited(TK, b"2025-09-15", b"2025-13-01"), filename="TK2025.eml.xml")
    assert error.element == "kr:NominationDate"
    assert error.problem == "is geen geldige datum: '2025-13-01'"
    assert error.line == 14
    assert (
        str(error)
        == "TK2025.eml.xml: regel 14: element kr:NominationDate: is geen geldige datum: '2025-13-01'"
    )


def test_nomination_after_election_date():
    error = refuse(edited(TK, b"2025-09-15", b"2025-11-01"))
    assert error.element == "kr:NominationDate"
    assert "2025-11-01" in error.problem and "2025-10-29" in error.problem
    assert "ligt niet vóór de verkiezingsdag" in error.problem


def test_nomination_on_election_date():
    error = refuse(edited(ASSEN, b"<kr:NominationDate>2026-02-02<", b"<kr:NominationDate>2026-03-18<"))
    assert error.element == "kr:NominationDate"
    assert "ligt niet vóór" in error.problem


def test_gemeente_pointing_at_missing_kieskring():
    error = refuse(
        edited(
            TK,
            b'RegionNumber="9001" RegionCategory="GEMEENTE" SuperiorRegionNumber="20"',
            b'RegionNumber="9001" RegionCategory="GEMEENTE" SuperiorRegionNumber="21"',
        )
    )
    assert error.element == "kr:Region"
    assert error.attribute == "SuperiorRegionNumber"
    assert "KIESKRING 21" in error.problem and "bestaat niet" in error.problem
    assert error.line == 1137


def test_gemeente_without_kieskring_when_there_are_kieskringen():
    error = refuse(
        edited(
            TK,
            b'RegionNumber="9001" RegionCategory="GEMEENTE" SuperiorRegionNumber="20" '
            b'SuperiorRegionCategory="KIESKRING"',
            b'RegionNumber="9001" RegionCategory="GEMEENTE"',
        )
    )
    assert error.element == "kr:Region"
    assert "GEMEENTE 9001" in error.problem and "kieskring" in error.problem


def test_duplicate_region_number_within_a_category():
    error = refuse(edited(TK, b'RegionNumber="9002"', b'RegionNumber="9001"'))
    assert (error.element, error.attribute) == ("kr:Region", "RegionNumber")
    assert "GEMEENTE 9001 komt al eerder voor (regel 1137)" in error.problem
    assert error.line == 1140


def test_same_number_in_different_categories_is_fine():
    # Stadskanaal is GEMEENTE 37; a KIESKRING 37 elsewhere would not clash. In PS
    # Limburg, KIESKRING 1 and GEMEENTE numbers are separate series already.
    ps = parsed(PS_LIMBURG)
    assert isinstance(ps, ElectionDefinition)
    numbers = [(r.category, r.number) for r in ps.regions]
    assert len(numbers) == len(set(numbers))


def test_duplicate_affiliation_id():
    error = refuse(edited(HAARLEM, b'<AffiliationIdentifier Id="2">', b'<AffiliationIdentifier Id="1">'))
    assert (error.element, error.attribute) == ("AffiliationIdentifier", "Id")
    assert "lijstnummer 1 komt al eerder voor" in error.problem
    assert error.line == 1  # the Kiesraad writes 230b files on one line


def test_missing_affiliation_id_in_candidate_lists():
    error = refuse(edited(HAARLEM, b'<AffiliationIdentifier Id="2">', b"<AffiliationIdentifier>"))
    assert (error.element, error.attribute) == ("AffiliationIdentifier", "Id")
    assert "ontbreekt" in error.problem


def test_duplicate_candidate_position():
    error = refuse(
        edited(
            HAARLEM,
            b'<CandidateIdentifier Id="2"></CandidateIdentifier>',
            b'<CandidateIdentifier Id="1"></CandidateIdentifier>',
        )
    )
    assert (error.element, error.attribute) == ("CandidateIdentifier", "Id")
    assert "positie 1 komt al eerder voor op lijst 1" in error.problem


def test_duplicate_candidate_position_in_210_is_caught_by_the_xsd():
    error = refuse(edited(EML210, b'<CandidateIdentifier Id="2"/>', b'<CandidateIdentifier Id="1"/>'))
    assert error.element in {"CandidateIdentifier", "Candidate"}
    assert "dubbel" in error.problem


def test_candidate_without_name():
    data = re.sub(
        rb"<CandidateFullName>.*?</CandidateFullName>", b"", raw(EML230B_SMALL), count=1, flags=re.S
    )
    error = refuse(data)
    assert error.element == "CandidateFullName"
    assert "ontbreekt" in error.problem


def test_roman_contest_id_is_not_supported():
    # kr:ContestIdType admits Roman numerals; this parser does not.
    error = refuse(edited(HAARLEM, b'<ContestIdentifier Id="10">', b'<ContestIdentifier Id="X">'))
    assert (error.element, error.attribute) == ("ContestIdentifier", "Id")
    assert "'geen' of 'alle'" in error.problem


def test_contest_id_that_is_not_a_number():
    error = refuse(edited(HAARLEM, b'<ContestIdentifier Id="10">', b'<ContestIdentifier Id="tien">'))
    assert (error.element, error.attribute) == ("ContestIdentifier", "Id")
    assert "'tien'" in error.problem


def test_more_than_one_contest_is_refused():
    data = raw(EML230B_SMALL)
    contest = re.search(rb"<Contest>.*</Contest>", data, flags=re.S)
    assert contest is not None
    error = refuse(data.replace(contest.group(0), contest.group(0) + contest.group(0)))
    assert error.element == "Contest"
    assert "Contest" in error.problem


def test_truncated_file():
    data = raw(TK)
    error = refuse(data[: len(data) // 2])
    assert error.element == "kr:ElectionTree"
    assert "afgebroken of onvolledig" in error.problem
    assert error.line == 612


def test_truncated_one_line_file_names_the_open_element():
    data = raw(HAARLEM)
    error = refuse(data[: len(data) // 2])  # cut in the middle of the tag name "<Candidat"
    assert error.element == "Candidate"
    assert "afgebroken" in error.problem


def test_broken_tags_in_the_middle():
    error = refuse(edited(TK, b"</kr:RegionName>", b"</kr:RegionNaam>"))
    assert error.element == "kr:RegionName"
    assert "geen geldige XML" in error.problem
    assert error.line == 25


def test_wrong_encoding():
    error = refuse(edited(TK, b"Nederland", b"Nederl\xe4nd"))  # Latin-1 byte in a UTF-8 file
    assert "tekencodering" in error.problem
    assert error.line == 25


# The rule behind the four tests above, on every file and many cut points: where a file
# stops, the error names the innermost element still open, as an independent scan of the
# tags finds it. Neither may depend on libxml2's wording (lxml 5 and 6 word it differently).
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)(?:\s[^<>]*?)?(/?)>")


def _open_at_end(data: bytes) -> list[tuple[str, int]]:
    """(name, line) of the elements open where ``data`` stops, outermost first."""
    stack: list[tuple[str, int]] = []
    for m in _TAG.finditer(data):
        closing, name, empty = m.group(1), m.group(2).decode(), m.group(3)
        if closing:
            assert stack and stack[-1][0] == name, "test set-up: the sample files are well-formed"
            stack.pop()
        elif not empty:
            stack.append((name, data.count(b"\n", 0, m.start()) + 1))
    return stack


@pytest.mark.parametrize("name", [TK, HAARLEM, ASSEN, EML210, PS_DRENTHE, EML230B_SMALL])
def test_a_file_cut_anywhere_names_the_element_open_where_it_stops(name):
    data = raw(name)
    root_end = data.rindex(b"</")
    pieces = 60 if len(data) < 200_000 else 12  # the one-line Haarlem file is 400 kB
    cuts = {*range(40, root_end, max(1, root_end // pieces)), root_end - 1, root_end + 3}
    if name == TK:  # every byte of a stretch with attributes, end tags and text
        cuts |= set(range(data.index(b"<kr:Region "), data.index(b"<kr:Region ") + 400))
    cuts = sorted(cuts)
    for cut in cuts:
        open_elements = _open_at_end(data[:cut])
        error = refuse(data[:cut])
        expected = open_elements[-1][0] if open_elements else "EML"
        assert (error.element, cut) == (expected, cut)
        assert "afgebroken of onvolledig" in error.problem
        if open_elements and b"\n" in data[:cut]:
            assert error.line is not None and error.line >= open_elements[-1][1]


def test_broken_end_tag_anywhere_names_its_element_and_line():
    data = raw(TK)
    for m in list(re.finditer(rb"</(kr:[A-Za-z]+)>", data))[::25]:
        broken = data[: m.start()] + b"</kr:Nope>" + data[m.end() :]
        error = refuse(broken)
        assert error.element == m.group(1).decode()
        assert error.line == data.count(b"\n", 0, m.start()) + 1
        assert "eindtag past niet" in error.problem


def test_wrong_encoding_names_the_element_it_is_in():
    error = refuse(edited(TK, b"Nederland", b"Nederl\xe4nd"))
    assert error.element == "kr:RegionName"


def test_undefined_entity_is_named_at_its_line_not_as_a_cut_off_file():
    error = refuse(edited(TK, b"Nederland", b"Neder&land;"))
    assert error.line == 25
    assert "entiteit" in error.problem
    assert "afgebroken" not in error.problem


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a" Id="110a"/>', "twee keer"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id=110a/>', "aanhalingstekens"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a">a < b</EML>', "losse '<'"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a">AT&T</EML>', "&amp;"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a"><x:Y/></EML>', "namespace-prefix"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a">\x01</EML>', "ongeldige tekens"),
        (b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="110a"/><EML/>', "na het einde"),
    ],
)
def test_each_kind_of_broken_xml_is_said_in_dutch(data, words):
    error = refuse(data)
    assert "geen geldige XML" in error.problem
    assert words in error.problem
    assert "libxml2" not in error.problem
    assert error.line == 1


# ---------------------------------------------------------------- XSD errors, made readable


def test_xsd_error_bad_integer():
    error = refuse(edited(TK, b"<kr:NumberOfSeats>150", b"<kr:NumberOfSeats>veel"))
    assert error.element == "kr:NumberOfSeats"
    assert error.problem == "is geen geldig positief geheel getal: 'veel'"
    assert error.line == 21


def test_xsd_error_enumeration():
    error = refuse(edited(TK, b"<ElectionCategory>TK", b"<ElectionCategory>XX"))
    assert error.element == "ElectionCategory"
    assert error.problem.startswith("waarde 'XX' is niet toegestaan; toegestaan is: 'EK', 'TK'")


def test_xsd_error_unexpected_element():
    error = refuse(
        edited(TK, b"<kr:RegionName>Groningen</kr:RegionName>", b"<kr:RegionNaam>Groningen</kr:RegionNaam>")
    )
    assert error.element == "kr:RegionNaam"
    assert error.problem == "staat hier niet op zijn plaats; verwacht is: kr:RegionName"
    assert error.line == 28


def test_xsd_error_missing_attribute():
    error = refuse(edited(TK, b'<ElectionIdentifier Id="TK2025">', b"<ElectionIdentifier>"))
    assert (error.element, error.attribute) == ("ElectionIdentifier", "Id")
    assert error.problem == "het verplichte attribuut Id ontbreekt"


def test_xsd_error_bad_attribute_value():
    error = refuse(edited(TK, b'RegionNumber="1"', b'RegionNumber="een"'))
    assert (error.element, error.attribute) == ("kr:Region", "RegionNumber")
    assert error.problem.startswith("attribuut RegionNumber is geen geldig geheel getal")
    assert "'een'" in error.problem


def test_xsd_error_in_one_line_file():
    error = refuse(edited(HAARLEM, b"<Type>lijstengroep</Type>", b"<Type>lijstencombinatie</Type>"))
    assert error.element == "Type"
    assert "'lijstencombinatie'" in error.problem
    assert error.line == 1


def test_unknown_libxml2_message_is_kept_after_a_dutch_prefix():
    assert _translate("Something libxml2 says.") == "voldoet niet aan het XML-schema: Something libxml2 says."


def test_error_text_without_line_or_element():
    error = EmlError("iets is mis")
    assert str(error) == "iets is mis"
    error.filename = "a.xml"
    assert str(error) == "a.xml: iets is mis"
