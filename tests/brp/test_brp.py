"""The person register (registry.brp): the v2 mapping, the demo fixture, the fixture registry and the
HTTP client against a local fake "BRP Personen Bevragen" v2 server."""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from stdnum.nl import bsn as stdnum_bsn

from registry.brp import (
    DEMO_CASES,
    DEMO_FIXTURE,
    FIELDS,
    FixturePersonRegistry,
    HttpPersonRegistry,
    Person,
    PersonRegistry,
    PersonRegistryUnavailable,
    person_from_v2,
)
from registry.reference import municipalities

PROJECT = Path(__file__).resolve().parents[2]
ELECTION_DAY = date(2026, 3, 18)  # GR2026
API_KEY = "test-api-key"
BSN = "999993653"  # valid (11-proof); used in hand-written v2 objects


def _datum(iso: str) -> dict[str, str]:
    return {"type": "Datum", "datum": iso, "langFormaat": "x"}


def _v2(**overrides: Any) -> dict[str, Any]:
    """A complete v2 person object; keyword arguments replace (None: remove) top-level keys."""
    obj: dict[str, Any] = {
        "burgerservicenummer": BSN,
        "naam": {"voornamen": "Jan Pieter", "voorvoegsel": "van der", "geslachtsnaam": "Berg"},
        "geboorte": {"datum": {"type": "Datum", "datum": "1990-05-17", "langFormaat": "17 mei 1990"}},
        "nationaliteiten": [
            {"type": "Nationaliteit", "nationaliteit": {"code": "0001", "omschrijving": "Nederlandse"}},
            {"type": "Nationaliteit", "nationaliteit": {"code": "0339", "omschrijving": "Turkse"}},
        ],
        "verblijfplaats": {"type": "Adres"},
        "gemeenteVanInschrijving": {"code": "0363", "omschrijving": "Amsterdam"},
        "overlijden": {"indicatieOverleden": True, "datum": _datum("2025-12-03")},
        "uitsluitingKiesrecht": {"uitgeslotenVanKiesrecht": True},
        "verblijfstitel": {"aanduiding": {"code": "25", "omschrijving": "regulier onbepaalde tijd"},
                           "datumIngang": _datum("2015-04-01")},
    }
    for key, value in overrides.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


# ----- person_from_v2 ---------------------------------------------------------------------------------


def test_person_from_v2_maps_every_field() -> None:
    person = person_from_v2(_v2())
    assert person == Person(
        bsn=BSN,
        given_names="Jan Pieter",
        prefix="van der",
        surname="Berg",
        birth_date=date(1990, 5, 17),
        nationality_codes=frozenset({"0001", "0339"}),
        municipality_code="GM0363",
        municipality_name="Amsterdam",
        deceased=True,
        excluded_from_voting=True,
        lawful_residence_since=date(2015, 4, 1),
    )
    assert person.full_name == "Jan Pieter van der Berg"


def test_person_from_v2_minimal_object_gets_the_defaults() -> None:
    person = person_from_v2({"burgerservicenummer": BSN, "naam": {"geslachtsnaam": "Jansen"}})
    assert person == Person(BSN, None, None, "Jansen", None, frozenset(), None, None)
    assert person.full_name == "Jansen"
    assert not person.deceased and not person.excluded_from_voting and person.lawful_residence_since is None


@pytest.mark.parametrize(
    ("overrides", "code", "name"),
    [
        ({"gemeenteVanInschrijving": {"code": "0014", "omschrijving": "Groningen"}}, "GM0014", "Groningen"),
        ({"verblijfplaats": {"type": "Locatie"}}, "GM0363", "Amsterdam"),  # woonboot, woonwagen: in NL
        ({"verblijfplaats": None}, "GM0363", "Amsterdam"),  # residence not asked: the municipality decides
        ({"gemeenteVanInschrijving": {"code": "9001", "omschrijving": "Bonaire"}}, "GM9001", "Bonaire"),
        # RNI: municipality 1999 and an address abroad
        ({"gemeenteVanInschrijving": {"code": "1999", "omschrijving": "Registratie Niet Ingezetenen (RNI)"},
          "verblijfplaats": {"type": "VerblijfplaatsBuitenland"}}, None, None),
        ({"gemeenteVanInschrijving": {"code": "1999"}, "verblijfplaats": None}, None, None),
        ({"gemeenteVanInschrijving": None}, None, None),  # not registered in a municipality
        ({"verblijfplaats": {"type": "VerblijfplaatsBuitenland"}}, None, None),  # emigrated
        ({"verblijfplaats": {"type": "VerblijfplaatsOnbekend"}}, None, None),  # whereabouts unknown
    ],
)
def test_person_from_v2_municipality(overrides: dict[str, Any], code: str | None, name: str | None) -> None:
    person = person_from_v2(_v2(**overrides))
    assert (person.municipality_code, person.municipality_name) == (code, name)


@pytest.mark.parametrize(
    ("datum", "expected"),
    [
        ({"type": "Datum", "datum": "2008-03-18", "langFormaat": "18 maart 2008"}, date(2008, 3, 18)),
        ({"datum": "2008-03-18"}, date(2008, 3, 18)),  # type left out
        # partial dates: the latest day they allow (nobody is taken to be older than certain)
        ({"type": "JaarMaandDatum", "jaar": 2008, "maand": 2, "langFormaat": "februari 2008"},
         date(2008, 2, 29)),
        ({"type": "JaarMaandDatum", "jaar": 2007, "maand": 2, "langFormaat": "februari 2007"},
         date(2007, 2, 28)),
        ({"type": "JaarDatum", "jaar": 1970, "langFormaat": "1970"}, date(1970, 12, 31)),
        ({"type": "DatumOnbekend", "onbekend": True, "langFormaat": "onbekend"}, None),
    ],
)
def test_person_from_v2_dates(datum: dict[str, Any], expected: date | None) -> None:
    titel = {"aanduiding": {"code": "21"}, "datumIngang": datum}
    person = person_from_v2(_v2(geboorte={"datum": datum}, verblijfstitel=titel))
    assert person.birth_date == expected
    assert person.lawful_residence_since == expected


@pytest.mark.parametrize(
    ("nationaliteiten", "codes"),
    [
        ([{"type": "Nationaliteit", "nationaliteit": {"code": "0052"}}], {"0052"}),
        ([{"type": "Staatloos"}], {"0499"}),
        ([{"type": "BehandeldAlsNederlander"}], {"0002"}),
        ([{"type": "VastgesteldNietNederlander"}], {"0500"}),
        ([{"type": "NationaliteitOnbekend"}], {"0000"}),
        ([], set()),
        (None, set()),  # no nationality data at all
    ],
)
def test_person_from_v2_nationalities(nationaliteiten: list[Any] | None, codes: set[str]) -> None:
    assert person_from_v2(_v2(nationaliteiten=nationaliteiten)).nationality_codes == frozenset(codes)


@pytest.mark.parametrize(
    ("verblijfstitel", "expected"),
    [
        ({"aanduiding": {"code": "25"}, "datumIngang": _datum("2015-04-01")}, date(2015, 4, 1)),
        ({"aanduiding": {"code": "26"}, "datumIngang": _datum("2024-02-12")}, date(2024, 2, 12)),
        ({"aanduiding": {"code": "98", "omschrijving": "geen verblijfstitel (meer)"},
          "datumIngang": _datum("2015-04-01")}, None),
        ({"aanduiding": {"code": "31"}, "datumIngang": _datum("2015-04-01")}, None),  # in procedure
        ({"datumIngang": _datum("2015-04-01")}, None),  # no aanduiding
        (None, None),
    ],
)
def test_person_from_v2_verblijfstitel(verblijfstitel: dict[str, Any] | None, expected: date | None) -> None:
    assert person_from_v2(_v2(verblijfstitel=verblijfstitel)).lawful_residence_since == expected


@pytest.mark.parametrize(
    ("overlijden", "deceased"),
    [
        ({"indicatieOverleden": True}, True),
        ({"datum": _datum("2025-12-03")}, True),  # no indicator, but a date of death
        ({"indicatieOverleden": False}, False),
        ({}, False),
        (None, False),
    ],
)
def test_person_from_v2_deceased(overlijden: dict[str, Any] | None, deceased: bool) -> None:
    assert person_from_v2(_v2(overlijden=overlijden)).deceased is deceased


def test_person_from_v2_exclusion_from_voting() -> None:
    def excluded(uitsluiting: dict[str, Any] | None) -> bool:
        return person_from_v2(_v2(uitsluitingKiesrecht=uitsluiting)).excluded_from_voting

    assert excluded({"uitgeslotenVanKiesrecht": True})
    assert not excluded({"uitgeslotenVanKiesrecht": False})
    assert not excluded(None)


def test_full_name_and_repr() -> None:
    person = person_from_v2(_v2(naam={"voornamen": "Anne-Marie", "geslachtsnaam": "Brouwer-de Jong"}))
    assert person.full_name == "Anne-Marie Brouwer-de Jong"
    assert BSN not in repr(person)  # a Person in a log line or traceback does not leak the BSN


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "not a JSON object"),
        (_v2(burgerservicenummer=None), "burgerservicenummer"),
        (_v2(burgerservicenummer="99999365"), "burgerservicenummer"),
        (_v2(naam="Jan"), "naam"),
        (_v2(naam={"geslachtsnaam": 7}), "naam.geslachtsnaam"),
        (_v2(geboorte={"datum": "1990-05-17"}), "geboorte.datum"),  # v2 dates are objects
        (_v2(geboorte={"datum": {"type": "Datum", "datum": "1990-13-01"}}), "geboorte.datum"),
        (_v2(geboorte={"datum": {"type": "JaarMaandDatum", "jaar": 1990}}), "geboorte.datum"),
        (_v2(geboorte={"datum": {"type": "Tijdstip", "datum": "1990-05-17"}}), "geboorte.datum"),
        (_v2(nationaliteiten={"code": "0001"}), "nationaliteiten"),
        (_v2(nationaliteiten=[{"type": "Nationaliteit", "nationaliteit": {"code": "NL"}}]),
         "nationaliteiten[0].nationaliteit.code"),
        (_v2(nationaliteiten=[{"type": "Onzin"}]), "nationaliteiten[0]"),
        (_v2(gemeenteVanInschrijving={"code": "363"}), "gemeenteVanInschrijving.code"),
        (_v2(verblijfplaats={"type": "Ergens"}), "verblijfplaats"),
        (_v2(overlijden={"indicatieOverleden": "ja"}), "overlijden.indicatieOverleden"),
        (_v2(uitsluitingKiesrecht={"uitgeslotenVanKiesrecht": "true"}), "uitsluitingKiesrecht"),
        (_v2(verblijfstitel={"aanduiding": {"code": 25}}), "verblijfstitel.aanduiding.code"),
    ],
)
def test_person_from_v2_rejects_malformed_objects(obj: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as excinfo:
        person_from_v2(obj)
    assert BSN not in str(excinfo.value)


# ----- the demo fixture -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> FixturePersonRegistry:
    return FixturePersonRegistry(DEMO_FIXTURE)


@pytest.fixture(scope="module")
def cases() -> dict[str, str]:
    return json.loads(DEMO_CASES.read_text(encoding="utf-8"))


def test_demo_fixture_loads_with_at_least_520_persons(demo: FixturePersonRegistry) -> None:
    assert len(demo.persons()) >= 520
    assert len(demo.all_bsns()) == len(set(demo.all_bsns())) == len(demo.persons())
    assert [p.bsn for p in demo.persons()] == demo.all_bsns()


def test_demo_bsns_pass_the_11_proof_and_lie_in_the_test_range(demo: FixturePersonRegistry,
                                                               cases: dict[str, str]) -> None:
    for bsn in [*demo.all_bsns(), *cases.values()]:
        assert stdnum_bsn.is_valid(bsn), bsn
        assert bsn.startswith("9999"), bsn


def test_demo_covers_all_kieskringen_and_many_municipalities(demo: FixturePersonRegistry) -> None:
    district_of = {ref.code: ref.district_number for ref in municipalities().values()}
    codes = {p.municipality_code for p in demo.persons() if p.municipality_code}
    assert codes <= district_of.keys()  # every code is a municipality of the reference data
    assert {district_of[c] for c in codes} == set(range(1, 21))
    assert len(codes) >= 60


@pytest.mark.parametrize("code", ["GM0363", "GM0392", "GM0106", "GM0037", "GM0344", "GM0518"])
def test_demo_clusters_have_30_dutch_adult_voters(demo: FixturePersonRegistry, code: str) -> None:
    voters = [
        p for p in demo.persons()
        if p.municipality_code == code and "0001" in p.nationality_codes and not p.deceased
        and not p.excluded_from_voting and p.birth_date and p.birth_date.replace(year=p.birth_date.year + 18)
        <= ELECTION_DAY
    ]
    assert len(voters) >= 30


def test_demo_bonaire_has_enough_voters_for_kieskring_20(demo: FixturePersonRegistry) -> None:
    bonaire = [p for p in demo.persons() if p.municipality_code == "GM9001"]
    assert sum("0001" in p.nationality_codes for p in bonaire) >= 10


def test_demo_names_have_prefixes_and_diacritics(demo: FixturePersonRegistry) -> None:
    persons = demo.persons()
    assert {"van der", "de", "van 't"} <= {p.prefix for p in persons}
    names = {p.full_name for p in persons}
    for name in ("Jan van der Berg", "Anne-Marie Brouwer-de Jong", "Mehmet Özdemir", "Youssef Çelik"):
        assert name in names
    assert sum(not p.full_name.isascii() for p in persons) >= 20


def test_demo_cases_come_first_and_not_in_brp_is_absent(demo: FixturePersonRegistry,
                                                        cases: dict[str, str]) -> None:
    in_file = {k: v for k, v in cases.items() if k != "not_in_brp"}
    assert demo.all_bsns()[: len(in_file)] == list(in_file.values())
    assert demo.lookup(cases["not_in_brp"]) is None
    assert cases["not_in_brp"] not in demo.all_bsns()


CASE_FACTS: dict[str, dict[str, Any]] = {
    "minor": {"birth_date": date(2012, 6, 14), "municipality_code": "GM0363"},
    "turns_18_on_election_day": {"birth_date": date(2008, 3, 18), "municipality_code": "GM0363"},
    "turns_18_day_after_election_day": {"birth_date": date(2008, 3, 19), "municipality_code": "GM0363"},
    "deceased": {"deceased": True, "municipality_code": "GM0392"},
    "excluded_from_voting": {"excluded_from_voting": True, "municipality_code": "GM0344"},
    "eu_citizen_belgian": {"nationality_codes": frozenset({"0052"}), "municipality_code": "GM0363"},
    "eu_citizen_polish": {"nationality_codes": frozenset({"0072"}), "municipality_code": "GM0518"},
    "non_eu_resident_since_2015": {"nationality_codes": frozenset({"0339"}),
                                   "lawful_residence_since": date(2015, 4, 1)},
    "non_eu_resident_since_2024": {"nationality_codes": frozenset({"0336"}),
                                   "lawful_residence_since": date(2024, 2, 12)},
    "no_nationality_data": {"nationality_codes": frozenset(), "municipality_code": "GM0106"},
    "registered_abroad": {"municipality_code": None, "municipality_name": None},
    "emigrated": {"municipality_code": None},
    "dual_nationality": {"nationality_codes": frozenset({"0001", "0131"}), "municipality_code": "GM0392"},
    "voter_bonaire_1": {"municipality_code": "GM9001", "municipality_name": "Bonaire"},
}


def test_demo_case_index_has_the_expected_cases(cases: dict[str, str]) -> None:
    voters = {f"voter_{town}_{n}" for town in ("amsterdam", "haarlem", "assen", "utrecht") for n in (1, 2, 3)}
    assert set(CASE_FACTS) | voters | {"not_in_brp"} <= set(cases)


@pytest.mark.parametrize("case", sorted(CASE_FACTS))
def test_demo_case_facts(demo: FixturePersonRegistry, cases: dict[str, str], case: str) -> None:
    person = demo.lookup(cases[case])
    assert person is not None
    for attribute, expected in CASE_FACTS[case].items():
        assert getattr(person, attribute) == expected, attribute


@pytest.mark.parametrize(("town", "code"), [("amsterdam", "GM0363"), ("haarlem", "GM0392"),
                                            ("assen", "GM0106"), ("utrecht", "GM0344")])
def test_demo_plain_voters(demo: FixturePersonRegistry, cases: dict[str, str], town: str, code: str) -> None:
    for n in (1, 2, 3):
        person = demo.lookup(cases[f"voter_{town}_{n}"])
        assert person is not None
        assert person.municipality_code == code and person.nationality_codes == {"0001"}
        assert person.birth_date is not None and person.birth_date < date(2000, 1, 1)
        assert not (person.deceased or person.excluded_from_voting)


def test_demo_fixture_is_what_the_generator_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed files are up to date, and the generator is deterministic."""
    script = PROJECT / "scripts" / "make_brp_fixture.py"
    spec = importlib.util.spec_from_file_location("make_brp_fixture", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    fixture_text, cases_text = module.render()
    assert fixture_text == DEMO_FIXTURE.read_text(encoding="utf-8")
    assert cases_text == DEMO_CASES.read_text(encoding="utf-8")


# ----- FixturePersonRegistry on bad files -------------------------------------------------------------


def _bad_files() -> list[tuple[str, str]]:
    good = _v2()
    other = _v2(burgerservicenummer="999990019")
    return [
        ("{not json", "not valid JSON"),
        ("[]", '"personen" list'),
        ('{"personen": {}}', '"personen" list'),
        (json.dumps({"personen": [_v2(geboorte={"datum": {"type": "Datum", "datum": "17-05-1990"}})]}),
         r"personen\[0\]: geboorte.datum"),
        (json.dumps({"personen": [other, _v2(gemeenteVanInschrijving={"code": "GM0363"})]}),
         r"personen\[1\]: gemeenteVanInschrijving.code"),
        (json.dumps({"personen": [good, other, good]}), r"personen\[2\]: burgerservicenummer occurs twice"),
        (json.dumps({"personen": [_v2(burgerservicenummer="999993654")]}), "11-proof"),
    ]


@pytest.mark.parametrize(("content", "message"), _bad_files())
def test_fixture_registry_rejects_a_bad_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "brp.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as excinfo:
        FixturePersonRegistry(path)
    assert str(path) in str(excinfo.value)


def test_fixture_registry_rejects_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(ValueError, match="cannot read") as excinfo:
        FixturePersonRegistry(str(path))
    assert str(path) in str(excinfo.value)


def test_fixture_registry_indexes_by_bsn(tmp_path: Path) -> None:
    path = tmp_path / "brp.json"
    answer = {"type": "RaadpleegMetBurgerservicenummer", "personen": [_v2()]}
    path.write_text(json.dumps(answer), encoding="utf-8")
    registry = FixturePersonRegistry(path)
    assert registry.all_bsns() == [BSN]
    assert registry.lookup(BSN) == person_from_v2(_v2())
    assert registry.lookup("999990019") is None


# ----- the HTTP client against a fake v2 server -------------------------------------------------------


def _prune(person: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Only the asked fields, as v2 answers (the type of polymorphic objects comes along)."""
    result: dict[str, Any] = {}
    for path in fields:
        _copy_path(person, result, path.split("."))
    return result


def _copy_path(source: Any, target: dict[str, Any], parts: list[str]) -> None:
    if not isinstance(source, dict):
        return
    if "type" in source:
        target["type"] = source["type"]
    key, rest = parts[0], parts[1:]
    if key not in source:
        return
    value = source[key]
    if not rest:
        target[key] = copy.deepcopy(value)
    elif isinstance(value, list):
        items = target.setdefault(key, [{} for _ in value])
        for item_source, item_target in zip(value, items, strict=True):
            _copy_path(item_source, item_target, rest)
    elif isinstance(value, dict):
        _copy_path(value, target.setdefault(key, {}), rest)


@dataclass
class FakeBrp:
    """State of the fake server. `mode` chooses the answer; `requests` records what came in."""

    persons: dict[str, dict[str, Any]]
    mode: str = "normal"
    answer: Any = None  # for mode "answer": the JSON to send as is
    requests: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    url: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/haalcentraal/api/brp/personen":
            return self._send(404, {"title": "Not found", "status": 404}, "application/problem+json")
        if self.headers.get("X-API-KEY") != API_KEY:
            return self._send(401, {"title": "Niet correct geauthenticeerd.", "status": 401,
                                    "code": "authentication"}, "application/problem+json")
        query = json.loads(body)
        if query.get("type") != "RaadpleegMetBurgerservicenummer" or query.get("fields") != list(FIELDS):
            return self._send(400, {"title": "Bad request", "status": 400}, "application/problem+json")
        (bsn,) = query["burgerservicenummer"]
        if fake.mode == "slow":
            fake.stop.wait(5)
            return None
        if fake.mode == "redirect":
            self.send_response(307)
            self.send_header("Location", fake.url + "/elders")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if fake.mode.isdigit():  # an error status, with the BSN in the body to prove it is not echoed
            return self._send(int(fake.mode), {"title": "fout", "status": int(fake.mode), "detail": bsn},
                              "application/problem+json")
        if fake.mode == "badjson":
            return self._send_raw(200, f'{{"personen": [{{"burgerservicenummer": "{bsn}", '.encode())
        if fake.mode == "answer":
            return self._send(200, fake.answer)
        found = [_prune(fake.persons[bsn], list(FIELDS))] if bsn in fake.persons else []
        return self._send(200, {"type": "RaadpleegMetBurgerservicenummer", "personen": found})

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        self._send_raw(status, json.dumps(payload).encode(), content_type)

    def _send_raw(self, status: int, data: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeBrp

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) is not an error here


@pytest.fixture(scope="module")
def demo_objects() -> dict[str, dict[str, Any]]:
    data = json.loads(DEMO_FIXTURE.read_text(encoding="utf-8"))
    return {p["burgerservicenummer"]: p for p in data["personen"]}


@pytest.fixture
def fake(demo_objects: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBrp]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeBrp(persons=demo_objects)
    host, port = server.server_address[:2]
    server.fake.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _client(fake: FakeBrp, api_key: str | None = API_KEY, timeout: float = 5.0) -> HttpPersonRegistry:
    return HttpPersonRegistry(fake.url + "/haalcentraal/api/brp/", api_key, timeout=timeout)


def _assert_no_bsn_leak(exc: BaseException, bsn: str, caplog: pytest.LogCaptureFixture) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), caplog.text]
    for text in texts:
        assert bsn not in text
    assert API_KEY not in "".join(texts)


def test_http_found_sends_a_v2_request(fake: FakeBrp, demo: FixturePersonRegistry,
                                       cases: dict[str, str]) -> None:
    bsn = cases["voter_amsterdam_1"]
    person = _client(fake).lookup(bsn)
    assert person == demo.lookup(bsn)
    assert person is not None and person.full_name == "Jan van der Berg"
    (request,) = fake.requests
    assert request["path"] == "/haalcentraal/api/brp/personen"  # no BSN in the URL
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-api-key"] == API_KEY
    assert headers["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [bsn],
        "fields": list(FIELDS),
    }


def test_http_not_found(fake: FakeBrp, cases: dict[str, str]) -> None:
    assert _client(fake).lookup(cases["not_in_brp"]) is None


def test_http_404_is_not_found(fake: FakeBrp, cases: dict[str, str]) -> None:
    fake.mode = "404"
    assert _client(fake).lookup(cases["voter_haarlem_1"]) is None


@pytest.mark.parametrize("status", ["400", "403", "429", "500", "502", "503"])
def test_http_error_status_is_unavailable(fake: FakeBrp, cases: dict[str, str], status: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    fake.mode = status
    bsn = cases["voter_utrecht_1"]
    with caplog.at_level(logging.DEBUG), pytest.raises(PersonRegistryUnavailable, match=status) as excinfo:
        _client(fake).lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)


def test_http_wrong_api_key_is_unavailable(fake: FakeBrp, cases: dict[str, str],
                                           caplog: pytest.LogCaptureFixture) -> None:
    bsn = cases["voter_assen_1"]
    with caplog.at_level(logging.DEBUG), pytest.raises(PersonRegistryUnavailable, match="401") as excinfo:
        _client(fake, api_key="wrong").lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)
    with pytest.raises(PersonRegistryUnavailable, match="401"):
        _client(fake, api_key=None).lookup(bsn)
    assert "x-api-key" not in {k.lower() for k in fake.requests[-1]["headers"]}


def test_http_timeout_is_unavailable(fake: FakeBrp, cases: dict[str, str],
                                     caplog: pytest.LogCaptureFixture) -> None:
    fake.mode = "slow"
    bsn = cases["voter_amsterdam_2"]
    with caplog.at_level(logging.DEBUG), pytest.raises(PersonRegistryUnavailable, match="within") as excinfo:
        _client(fake, timeout=0.3).lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)


def test_http_bad_json_is_unavailable(fake: FakeBrp, cases: dict[str, str],
                                      caplog: pytest.LogCaptureFixture) -> None:
    fake.mode = "badjson"
    bsn = cases["voter_amsterdam_3"]
    with caplog.at_level(logging.DEBUG), pytest.raises(PersonRegistryUnavailable, match="JSON") as excinfo:
        _client(fake).lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)


def _malformed_answers(bsn: str) -> list[Any]:
    person = {"burgerservicenummer": bsn, "naam": {"geslachtsnaam": "Jansen"}}
    return [
        [person],  # not an object
        {"type": "RaadpleegMetBurgerservicenummer"},  # no personen
        {"type": "ZoekMetPostcodeEnHuisnummer", "personen": [person]},  # another operation
        {"type": "RaadpleegMetBurgerservicenummer",
         "personen": [{**person, "burgerservicenummer": "999990019"}]},  # somebody else
        {"type": "RaadpleegMetBurgerservicenummer", "personen": [person, person]},
        {"type": "RaadpleegMetBurgerservicenummer",
         "personen": [{**person, "geboorte": {"datum": {"type": "Datum", "datum": bsn}}}]},
    ]


@pytest.mark.parametrize("index", range(len(_malformed_answers(BSN))))
def test_http_malformed_answer_is_unavailable(fake: FakeBrp, cases: dict[str, str], index: int,
                                              caplog: pytest.LogCaptureFixture) -> None:
    bsn = cases["voter_haarlem_2"]
    fake.mode, fake.answer = "answer", _malformed_answers(bsn)[index]
    with caplog.at_level(logging.DEBUG), pytest.raises(PersonRegistryUnavailable) as excinfo:
        _client(fake).lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)


def test_http_redirect_is_not_followed(fake: FakeBrp, cases: dict[str, str]) -> None:
    fake.mode = "redirect"
    with pytest.raises(PersonRegistryUnavailable, match="307"):
        _client(fake).lookup(cases["voter_haarlem_3"])
    assert len(fake.requests) == 1  # the API key was not sent on to another address


def test_http_unreachable_is_unavailable(cases: dict[str, str], caplog: pytest.LogCaptureFixture,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    server = _Server(("127.0.0.1", 0), _Handler)  # take a free port, then close it: nobody listens there
    host, port = server.server_address[:2]
    server.server_close()
    bsn = cases["voter_utrecht_2"]
    client = HttpPersonRegistry(f"http://{host}:{port}", API_KEY)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PersonRegistryUnavailable, match="not reachable") as excinfo:
        client.lookup(bsn)
    _assert_no_bsn_leak(excinfo.value, bsn, caplog)


def test_http_client_checks_its_arguments() -> None:
    for url in ("", "ftp://brp.example/api", "file:///etc/passwd", "brp.example/api"):
        with pytest.raises(ValueError, match="http"):
            HttpPersonRegistry(url, API_KEY)
    with pytest.raises(ValueError, match="timeout"):
        HttpPersonRegistry("https://brp.example/api", API_KEY, timeout=0)
    client = HttpPersonRegistry("https://brp.example/api/", API_KEY)
    assert client.url == "https://brp.example/api/personen"
    assert API_KEY not in repr(client)
    with pytest.raises(ValueError, match="9 digits") as excinfo:
        client.lookup("99999365x")
    assert "99999365x" not in str(excinfo.value)


def test_both_registries_satisfy_the_protocol_and_agree(fake: FakeBrp, demo: FixturePersonRegistry,
                                                        cases: dict[str, str]) -> None:
    client = _client(fake)
    assert isinstance(demo, PersonRegistry) and isinstance(client, PersonRegistry)
    sample = [*cases.values(), *demo.all_bsns()[len(cases):: 12]]
    for bsn in sample:
        assert client.lookup(bsn) == demo.lookup(bsn), bsn
    assert any(demo.lookup(bsn) is None for bsn in sample)  # not_in_brp is among them
