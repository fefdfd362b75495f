#!/usr/bin/env python3
"""Write the synthetic BRP demo fixture: registry/data/brp_demo.json and registry/data/brp_demo_cases.json.

    python scripts/make_brp_fixture.py          # (re)write both files
    python scripts/make_brp_fixture.py --check  # exit 1 if the files differ from what this script makes

Deterministic (random.Random(2026)): the same script always writes the same bytes.

brp_demo.json has the shape of a Haal Centraal "BRP Personen Bevragen" v2 answer to
RaadpleegMetBurgerservicenummer: {"type": "RaadpleegMetBurgerservicenummer", "personen": [...]},
one person object per line, plus a "_toelichting" key that explains the file (readers ignore it).
Every person is invented. Conventions:

* BSNs: all pass the 11-proof and lie in the test range 999900000-999999999 (9 091 valid numbers
  there). The edge cases take the lowest valid numbers (they start with 99990); everybody else
  gets a random valid number from 999910000 up. "not_in_brp" is a valid number that is in no person.
* The edge cases come FIRST in "personen"; brp_demo_cases.json maps case name -> BSN.
* gemeenteVanInschrijving.code is the 4-digit BRP/CBS municipality number ('0363'; the register
  maps it to 'GM0363'). 1999 is the RNI (Registratie Niet Ingezetenen).
* Bonaire, Sint Eustatius and Saba: their residents are registered in the BES population register,
  not the BRP, and their BRP-style code is not confirmed. This fixture gives them their EML region
  number as code ('9001' Bonaire, '9002' Sint Eustatius, '9003' Saba), which the register maps to
  'GM9001' etc., the codes registry.reference uses for the public bodies.
* Municipalities come from registry/data/tk2025_gemeenten_kieskringen.csv: every kieskring (1-20),
  clusters in Amsterdam, 's-Gravenhage, Utrecht, Haarlem, Assen and Stadskanaal (30+ Dutch adult
  voters each), a dozen on Bonaire, and a few people in each of about 70 other municipalities.
* Election day of the edge cases is GR2026, 18 March 2026 (turning 18 that day, or the day after).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from stdnum.nl import bsn as stdnum_bsn  # noqa: E402

from registry.reference import municipalities  # noqa: E402

DATA_DIR = PROJECT_DIR / "registry" / "data"
FIXTURE_PATH = DATA_DIR / "brp_demo.json"
CASES_PATH = DATA_DIR / "brp_demo_cases.json"

SEED = 2026
ELECTION_DAY = date(2026, 3, 18)  # GR2026
MIN_PERSONS = 520

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")

NL = ("0001", "Nederlandse")
NATIONALITIES = {
    "0339": "Turkse", "0131": "Marokkaanse", "0263": "Surinaamse", "0336": "Syrische",
    "0312": "Burger van India", "0307": "Chinese", "0223": "Amerikaans burger", "0060": "Brits burger",
    "0052": "Belgische", "0072": "Poolse", "0055": "Burger van de Bondsrepubliek Duitsland",
    "0077": "Spaanse", "0057": "Franse", "0064": "Italiaanse", "0073": "Portugese", "0074": "Roemeense",
    "0053": "Bulgaarse",
}
EU_CODES = ("0052", "0072", "0055", "0077", "0057", "0064", "0073", "0074", "0053")
NON_EU_CODES = ("0339", "0131", "0336", "0312", "0307", "0223", "0060", "0263")
DUAL_CODES = ("0339", "0131", "0263")

# Landelijke tabel 56 (verblijfstitel), a few codes.
VERBLIJFSTITELS = {
    "21": "Vw 2000 art. 8, onder a, vergunning regulier bepaalde tijd, arbeid vrij",
    "25": "Vw 2000 art. 8, sub b, verg. reg. onbep. tijd of langdurig ingez., arbeid vrij",
    "26": "Vw 2000 art. 8, onder c, vergunning asiel bepaalde tijd, arbeid vrij",
    "27": "Vw 2000 art. 8, sub d, verg. asiel onbep. tijd of langdurig ingez., arbeid vrij",
}

RNI = ("1999", "Registratie Niet Ingezetenen (RNI)")
LANDEN = {"5002": "Frankrijk", "6014": "Verenigde Staten van Amerika", "5010": "België"}

DUTCH_GIVEN = (
    "Jan", "Pieter", "Kees", "Henk", "Johannes", "Willem", "Cornelis", "Hendrik", "Gerrit", "Dirk", "Bram",
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Thijs", "Ruben", "Jesse", "Stijn", "Bas", "Joost",
    "Maarten", "Sander", "Wouter", "Niels", "Ruud", "Gijs", "Sjoerd", "Jelle", "Auke", "Sietse", "Hylke",
    "Anouk", "Emma", "Julia", "Sophie", "Tess", "Sanne", "Lotte", "Fleur", "Eva", "Noor", "Lieke", "Femke",
    "Ilse", "Marieke", "Ingrid", "Wilma", "Gerda", "Johanna", "Maria", "Cornelia", "Hendrika", "Anna",
    "Saskia", "Esther", "Wietske", "Tjitske", "Renée", "Zoë", "Chloë", "Daniël", "Joël", "Noël", "Loïs",
    "Inès", "Anne-Marie", "Jan-Willem", "Marie-José", "André", "René", "Hélène", "Frédérique", "Benoît",
    "Jérôme",
)
DUTCH_SURNAMES = (
    (None, "Jansen"), (None, "Bakker"), (None, "Visser"), (None, "Smit"), (None, "Meijer"), (None, "Mulder"),
    (None, "Bos"), (None, "Vos"), (None, "Peters"), (None, "Hendriks"), (None, "Dekker"), (None, "Brouwer"),
    (None, "Dijkstra"), (None, "Smits"), (None, "Kok"), (None, "Janssen"), (None, "Verhoeven"),
    (None, "Kuipers"), (None, "Willems"), (None, "Postma"), (None, "Hoekstra"), (None, "Koster"),
    (None, "Prins"), (None, "Huisman"), (None, "Kramer"), (None, "Schouten"), (None, "Maas"),
    (None, "Timmermans"), (None, "Groen"), (None, "Gerritsen"), (None, "Veenstra"), (None, "Boersma"),
    (None, "Wiersma"), (None, "Zijlstra"), (None, "IJzerman"), (None, "IJsselmuiden"), (None, "Hoogendoorn"),
    (None, "Nijhuis"), (None, "Brouwer-de Jong"), (None, "Jansen-Bakker"), (None, "Lemmens"),
    ("de", "Vries"), ("de", "Jong"), ("de", "Boer"), ("de", "Groot"), ("de", "Wit"), ("de", "Graaf"),
    ("van", "Dijk"), ("van", "Beek"), ("van", "Wijk"), ("van", "Rooij"), ("van", "Leeuwen"),
    ("van den", "Berg"), ("van der", "Berg"), ("van der", "Meer"), ("van der", "Linden"),
    ("van der", "Heijden"), ("van de", "Ven"), ("van 't", "Hof"), ("ter", "Horst"), ("ten", "Cate"),
    ("in 't", "Veld"), ("op den", "Kamp"), ("den", "Hartog"), ("'t", "Hart"),
)
# Names by origin, for people of other nationalities (and some Dutch nationals).
ORIGIN_NAMES = {
    "tr": (("Mehmet", "Ayşe", "Fatma", "Emre", "Zeynep", "Murat", "Elif", "Hüseyin", "Özlem", "Şükrü"),
           ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Özdemir", "Aydın", "Arslan", "Doğan")),
    "ma": (("Mohammed", "Fatima", "Youssef", "Khadija", "Hamza", "Nadia", "Rachid", "Samira", "Bilal"),
           ("El Amrani", "Bouzid", "Benali", "Ouali", "Ait Taleb", "El Idrissi", "Azzouzi", "Haddou")),
    "sr": (("Rajesh", "Sunita", "Ashwin", "Priya", "Marlon", "Shanice", "Glenn", "Ruth"),
           ("Ramdin", "Sewnath", "Kromosoeto", "Pinas", "Wijngaarde", "Doelwijt", "Ramsaran")),
    "sy": (("Ahmad", "Rania", "Omar", "Lina", "Khaled", "Hiba"),
           ("Al-Hassan", "Haddad", "Kassem", "Khoury", "Al-Masri")),
    "in": (("Arjun", "Priyanka", "Vikram", "Ananya", "Rohan"), ("Sharma", "Patel", "Iyer", "Reddy", "Nair")),
    "cn": (("Wei", "Li Na", "Jun", "Xiu Ying", "Hao"), ("Wang", "Zhang", "Chen", "Liu", "Huang")),
    "en": (("James", "Emily", "Michael", "Sarah", "Oliver", "Charlotte"),
           ("Smith", "Johnson", "Williams", "Brown", "O'Brien", "Taylor")),
    "be": (("Lotte", "Jens", "Thibault", "Céline", "Wout", "Amélie"),
           ("Peeters", "Maes", "Dubois", "Lambert", "Claes", "Goossens")),
    "pl": (("Piotr", "Anna", "Katarzyna", "Tomasz", "Małgorzata", "Łukasz"),
           ("Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski")),
    "de": (("Lukas", "Jana", "Jürgen", "Lena", "Felix"), ("Müller", "Schmidt", "Weiß", "Schäfer", "Köhler")),
    "es": (("José", "Lucía", "Javier", "María José", "Iñigo"), ("García", "Fernández", "López", "Martínez")),
    "fr": (("Camille", "Théo", "Léa", "Mathéo"), ("Martin", "Bernard", "Lefèvre", "Girard")),
    "it": (("Giulia", "Matteo", "Francesca", "Lorenzo"), ("Rossi", "Russo", "Ferrari", "Esposito")),
    "pt": (("Inês", "João", "Beatriz", "Tomás"), ("Ferreira", "Gonçalves", "Rodrigues", "Simões")),
    "ro": (("Andrei", "Ioana", "Mihai", "Elena"), ("Popescu", "Ionescu", "Dumitrescu", "Stanciu")),
    "bg": (("Georgi", "Desislava", "Ivan", "Milena"), ("Ivanov", "Petrova", "Dimitrov", "Georgieva")),
    "bq": (("Shurendy", "Ruthmila", "Gilbert", "Edsel", "Yolanda", "Rignald", "Joëlla", "Giovanni"),
           ("Martis", "Cicilia", "Anthony", "Frans", "Janga", "Winklaar", "Thodé", "Soliana", "Pourier",
            "Hassell", "Zagers", "Spanner", "Gibbs", "Lopes")),
}
ORIGIN_OF_CODE = {
    "0339": "tr", "0131": "ma", "0263": "sr", "0336": "sy", "0312": "in", "0307": "cn", "0223": "en",
    "0060": "en", "0052": "be", "0072": "pl", "0055": "de", "0077": "es", "0057": "fr", "0064": "it",
    "0073": "pt", "0074": "ro", "0053": "bg",
}

# Clusters: municipality -> (Dutch adult voters, persons of random profile).
CLUSTERS = {
    "GM0363": (35, 15),  # Amsterdam
    "GM0518": (32, 13),  # 's-Gravenhage
    "GM0344": (32, 13),  # Utrecht
    "GM0392": (32, 6),  # Haarlem
    "GM0106": (32, 6),  # Assen
    "GM0037": (30, 4),  # Stadskanaal
    "GM9001": (11, 1),  # Bonaire (kieskring 20 needs 10 declarations for TK)
    "GM9002": (3, 0),  # Sint Eustatius
    "GM9003": (3, 0),  # Saba
}
SPREAD_PER_DISTRICT = 4  # other municipalities per kieskring (fewer where the kieskring has fewer)


@dataclass(frozen=True)
class Place:
    code: str  # 4-digit BRP code, '0363'
    name: str
    district: int
    caribbean: bool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files on disk")
    args = parser.parse_args(argv)
    fixture_text, cases_text = render()
    if args.check:
        stale = [p for p, text in ((FIXTURE_PATH, fixture_text), (CASES_PATH, cases_text))
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"out of date: {path.relative_to(PROJECT_DIR)} (run scripts/make_brp_fixture.py)")
        return 1 if stale else 0
    FIXTURE_PATH.write_text(fixture_text, encoding="utf-8")
    CASES_PATH.write_text(cases_text, encoding="utf-8")
    print(f"wrote {FIXTURE_PATH.relative_to(PROJECT_DIR)} and {CASES_PATH.relative_to(PROJECT_DIR)}")
    return 0


def render() -> tuple[str, str]:
    """The text of brp_demo.json and brp_demo_cases.json."""
    personen, cases = build()
    header = {
        "_toelichting": (
            "Synthetic demo data (scripts/make_brp_fixture.py), shaped like a BRP Personen Bevragen v2 "
            "answer. All persons are invented; BSNs are valid test numbers 9999xxxxx. Edge cases come "
            "first, see brp_demo_cases.json. gemeenteVanInschrijving.code is the 4-digit municipality "
            "number (1999 = RNI); for Bonaire, Sint Eustatius and Saba it is their EML region number "
            "(9001-9003), mapped to GM9001-GM9003."
        ),
        "type": "RaadpleegMetBurgerservicenummer",
    }
    lines = [json.dumps(header, ensure_ascii=False)[:-1] + ',\n "personen": [']
    lines.append(",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in personen))
    lines.append(" ]\n}\n")
    return "\n".join(lines), json.dumps(cases, ensure_ascii=False, indent=2) + "\n"


def build() -> tuple[list[dict[str, Any]], dict[str, str]]:
    rng = random.Random(SEED)
    places = _places()
    by_code = {p.code: p for p in places}
    valid = [n for n in range(999_900_000, 1_000_000_000) if stdnum_bsn.is_valid(str(n))]
    case_numbers = iter(str(n) for n in valid if n < 999_910_000)

    personen: list[dict[str, Any]] = []
    cases: dict[str, str] = {}
    for name, person in _cases(by_code):
        bsn = next(case_numbers)
        person = {"burgerservicenummer": bsn, **person}
        personen.append(person)
        cases[name] = bsn
    cases["not_in_brp"] = next(case_numbers)

    population: list[tuple[Place, str]] = []
    for code, (voters, mixed) in CLUSTERS.items():
        place = by_code[code[2:]]
        population += [(place, "voter")] * voters + [(place, "random")] * mixed
    clustered = {code[2:] for code in CLUSTERS}
    for district in sorted({p.district for p in places}):
        candidates = [p for p in places if p.district == district and p.code not in clustered]
        for place in rng.sample(candidates, min(SPREAD_PER_DISTRICT, len(candidates))):
            population += [(place, "random")] * rng.randint(2, 6)
    rotterdam = by_code["0599"]
    population += [(rotterdam, "voter")] * 6 + [(rotterdam, "random")] * 4

    numbers = rng.sample([n for n in valid if n >= 999_910_000], len(population))
    for (place, kind), number in zip(population, numbers, strict=True):
        personen.append({"burgerservicenummer": str(number), **_person(rng, place, kind)})

    if len(personen) < MIN_PERSONS:
        raise SystemExit(f"only {len(personen)} persons; raise the cluster sizes")
    return personen, cases


def _places() -> list[Place]:
    return [
        Place(ref.code[2:], ref.name, ref.district_number, ref.kind == "openbaar_lichaam")
        for ref in municipalities().values()
        if ref.kind in ("gemeente", "openbaar_lichaam")
    ]


# ----- the edge cases -------------------------------------------------------------------------------


def _cases(by_code: dict[str, Place]) -> list[tuple[str, dict[str, Any]]]:
    ams, hlm, asn, utr, dha, bon = (by_code[c] for c in ("0363", "0392", "0106", "0344", "0518", "9001"))
    adult = date(1984, 9, 27)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("minor", _record("Zoë", "de", "Vries", date(2012, 6, 14), [NL], ams)),
        ("turns_18_on_election_day", _record("Daan", None, "Jansen", date(2008, 3, 18), [NL], ams)),
        ("turns_18_day_after_election_day", _record("Sanne", None, "Visser", date(2008, 3, 19), [NL], ams)),
        ("deceased", _record("Hendrika Johanna", "van 't", "Hof", date(1941, 2, 3), [NL], hlm,
                             overlijden={"indicatieOverleden": True, "datum": _date(date(2025, 12, 3))})),
        ("excluded_from_voting", _record("Kees", None, "Bakker", date(1969, 11, 30), [NL], utr,
                                         uitsluitingKiesrecht={"uitgeslotenVanKiesrecht": True})),
        ("eu_citizen_belgian", _record("Céline", None, "Peeters", date(1990, 5, 17), [_nat("0052")], ams)),
        ("eu_citizen_polish",
         _record("Małgorzata", None, "Wiśniewska", date(1987, 1, 8), [_nat("0072")], dha)),
        ("non_eu_resident_since_2015",
         _record("Mehmet", None, "Özdemir", date(1979, 4, 2), [_nat("0339")], ams,
                 verblijfstitel=_titel("25", date(2015, 4, 1)))),
        ("non_eu_resident_since_2024",
         _record("Rania", None, "Haddad", date(1995, 10, 21), [_nat("0336")], ams,
                 verblijfstitel=_titel("26", date(2024, 2, 12)))),
        ("no_nationality_data", _record("Joël", None, "IJzerman", adult, [], asn)),
        ("registered_abroad", _record("Pieter", "de", "Groot", date(1975, 7, 9), [NL], None, rni=True,
                                      abroad=("5002", "12 Rue des Lilas", "75011 Paris"))),
        ("emigrated", _record("Lotte", "ter", "Horst", date(1992, 12, 1), [NL], hlm,
                              abroad=("6014", "1600 Elm Street", "Springfield, IL 62701"))),
        ("dual_nationality", _record("Youssef", None, "Çelik", date(1988, 8, 8), [NL, _nat("0131")], hlm)),
    ]
    voters = {
        "amsterdam": (ams, [("Jan", "van der", "Berg"), ("Fatima", None, "El Amrani"),
                            ("Gijs", "de", "Wit")]),
        "haarlem": (hlm, [("Anne-Marie", None, "Brouwer-de Jong"), ("Bram", "van", "Dijk"),
                          ("Inès", None, "Smits")]),
        "assen": (asn, [("Sjoerd", None, "Dijkstra"), ("Femke", "in 't", "Veld"), ("Hylke", None, "Postma")]),
        "utrecht": (utr, [("Loïs", None, "Smit"), ("Willem", "van den", "Berg"), ("Ayşe", None, "Yılmaz")]),
        "bonaire": (bon, [("Shurendy", None, "Martis")]),
    }
    for town, (place, names) in voters.items():
        for number, (given, prefix, surname) in enumerate(names, start=1):
            born = date(1950 + 9 * number, number * 3, 10 + number)
            cases.append((f"voter_{town}_{number}", _record(given, prefix, surname, born, [NL], place)))
    return cases


# ----- the population -------------------------------------------------------------------------------


def _person(rng: random.Random, place: Place, kind: str) -> dict[str, Any]:
    profile = "nl" if kind == "voter" else rng.choices(
        ("nl", "dual", "eu", "non_eu", "minor"), weights=(86, 4, 4, 4, 2))[0]
    if profile == "minor":
        born = _random_day(rng, date(2009, 1, 1), date(2015, 12, 31))
    else:
        born = _random_day(rng, date(1935, 1, 1), date(2007, 12, 31))
    extra: dict[str, Any] = {}
    if profile in ("nl", "minor"):
        nationalities = [NL]
        origin = "bq" if place.caribbean else rng.choices(("nl", "tr", "ma", "sr"), weights=(85, 5, 5, 5))[0]
    elif profile == "dual":
        code = rng.choice(DUAL_CODES)
        nationalities, origin = [NL, _nat(code)], ORIGIN_OF_CODE[code]
    elif profile == "eu":
        code = rng.choice(EU_CODES)
        nationalities, origin = [_nat(code)], ORIGIN_OF_CODE[code]
    else:
        code = rng.choice(NON_EU_CODES)
        nationalities, origin = [_nat(code)], ORIGIN_OF_CODE[code]
        since = _random_day(rng, max(born + timedelta(days=1), date(2000, 1, 1)), date(2025, 12, 31))
        extra["verblijfstitel"] = _titel(rng.choice(sorted(VERBLIJFSTITELS)), since)
    given, prefix, surname = _name(rng, origin)
    return _record(given, prefix, surname, born, nationalities, place, **extra)


def _name(rng: random.Random, origin: str) -> tuple[str, str | None, str]:
    if origin == "nl":
        given = rng.choice(DUTCH_GIVEN)
        if rng.random() < 0.3:  # the BRP holds all given names; many Dutch people have two or three
            given += " " + rng.choice(DUTCH_GIVEN)
        prefix, surname = rng.choice(DUTCH_SURNAMES)
        return given, prefix, surname
    given_names, surnames = ORIGIN_NAMES[origin]
    return rng.choice(given_names), None, rng.choice(surnames)


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


# ----- v2 objects -----------------------------------------------------------------------------------


def _record(given: str | None, prefix: str | None, surname: str, born: date,
            nationalities: list[tuple[str, str]], place: Place | None, *, rni: bool = False,
            abroad: tuple[str, str, str] | None = None, **rest: Any) -> dict[str, Any]:
    """One v2 person object (without the burgerservicenummer)."""
    naam: dict[str, str] = {}
    if given:
        naam["voornamen"] = given
    if prefix:
        naam["voorvoegsel"] = prefix
    naam["geslachtsnaam"] = surname
    person: dict[str, Any] = {"naam": naam, "geboorte": {"datum": _date(born)}}
    if nationalities:
        person["nationaliteiten"] = [
            {"type": "Nationaliteit", "nationaliteit": {"code": code, "omschrijving": text}}
            for code, text in nationalities
        ]
    if abroad:
        land, line1, line2 = abroad
        person["verblijfplaats"] = {
            "type": "VerblijfplaatsBuitenland",
            "verblijfadres": {"land": {"code": land, "omschrijving": LANDEN[land]}, "regel1": line1,
                              "regel2": line2},
        }
    else:
        person["verblijfplaats"] = {"type": "Adres"}
    if rni:
        person["gemeenteVanInschrijving"] = {"code": RNI[0], "omschrijving": RNI[1]}
    elif place is not None:
        person["gemeenteVanInschrijving"] = {"code": place.code, "omschrijving": place.name}
    person.update(rest)
    return person


def _nat(code: str) -> tuple[str, str]:
    return code, NATIONALITIES[code]


def _titel(code: str, since: date) -> dict[str, Any]:
    return {"aanduiding": {"code": code, "omschrijving": VERBLIJFSTITELS[code]}, "datumIngang": _date(since)}


def _date(day: date) -> dict[str, str]:
    long_format = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return {"type": "Datum", "datum": day.isoformat(), "langFormaat": long_format}


if __name__ == "__main__":
    sys.exit(main())
