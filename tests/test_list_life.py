"""A list's life as the law has it: its own kieskringen (H 4 lid 2), exempt by its aanduiding (H 4 lid 8),
bound to the version the voter saw (H 4 lid 1), frozen from nomination day (I 1), numbered without
becoming a second list (I 17); and the voter-side rules that came with it: B 3 residence counted to
nomination day, a re-sent paper declaration (I 2 lid 1 a), foreign EU documents (H 4 lid 3)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from registry.csb import services as csb
from registry.declarations.models import Declaration
from registry.declarations.services import DeclarationRefused, DeclarationRequest, Refusal, record_declaration
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList, District, ListDistrict, ListVersion
from registry.people import person_registry
from tests.auth.helpers import bearer_token
from tests.conftest import AMS, EML, PROJECT, base_config, bsn, import_eml
from tests.online.helpers import confirm_data, csrf, forget_g_after_each_request, html, open_window, voter
from tests.party.helpers import nomination_210
from tests.support import pages

page_audit = pages.page_audit  # the fixture: every page served in a test here is checked (title, h1, labels)

HAARLEM = "Kandidatenlijsten_TK2025_Haarlem.eml.xml"
START = "/balie/TK2025/"
CHOOSE = "/verklaren/TK2025/"
DECLARATIONS = "/api/v1/elections/TK2025/declarations"
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}
GERMAN = "999990019"  # BSNs of the people this module adds to the demo BRP (11-proof valid)
MOROCCAN = "999990020"


def _valid_bsns(count: int, start: int) -> list[str]:
    found, number = [], start
    while len(found) < count:
        digits = [int(c) for c in f"{number:09d}"]
        if (sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]) % 11 == 0:
            found.append(f"{number:09d}")
        number += 1
    return found


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo BRP plus a German and a Moroccan national in Assen: the Moroccan's lawful residence began
    4 years and 11 months before GR2026's nomination day (2 February 2026), 5 years before its election day."""
    demo = json.loads((PROJECT / "registry" / "data" / "brp_demo.json").read_text())
    taken = {p["burgerservicenummer"] for p in demo["personen"]}
    german, moroccan = [b for b in _valid_bsns(40, 999_990_000) if b not in taken][:2]

    def person(number: str, first: str, nationality: str, **extra: Any) -> dict[str, Any]:
        return {"burgerservicenummer": number, "naam": {"voornamen": first, "geslachtsnaam": "Proef"},
                "geboorte": {"datum": {"type": "Datum", "datum": "1980-06-01"}},
                "nationaliteiten": [{"type": "Nationaliteit", "nationaliteit": {"code": nationality}}],
                "verblijfplaats": {"type": "Adres"},
                "gemeenteVanInschrijving": {"code": "0106", "omschrijving": "Assen"}, **extra}

    demo["personen"] += [
        person(german, "Anke", "0055"),
        person(moroccan, "Samir", "0131", verblijfstitel={
            "aanduiding": {"code": "25", "omschrijving": "verblijfsvergunning onbepaalde tijd"},
            "datumIngang": {"type": "Datum", "datum": "2021-03-01"}}),
    ]
    path = Path(tmp_path_factory.mktemp("brp")) / "brp_list_life.json"
    path.write_text(json.dumps(demo))
    return {"path": str(path), "german": german, "moroccan": moroccan}


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, people: dict[str, str]) -> dict[str, Any]:
    return {**base_config(tmp_path, database_url), "BRP_FIXTURE": people["path"], "RATE_LIMIT_ENABLED": "0"}


def now_open(session: Any, identifier: str = "TK2025") -> datetime:
    now = datetime.now(AMS)
    elections.update_settings(session, identifier, "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=True,
                              online_legal_basis="Experimentenwet (test)")
    return now


def kieskringen(session: Any, list_id: int) -> list[int]:
    return sorted(session.scalars(select(District.number).join(ListDistrict, ListDistrict.district_id == District.id)
                                  .where(ListDistrict.list_id == list_id)))


def lists_named(session: Any, designation: str) -> list[CandidateList]:
    return list(session.scalars(select(CandidateList).where(CandidateList.designation == designation)))


def with_contests(nomination: bytes, *numbers: int) -> bytes:
    """The party's 210 for ContestIdentifier "alle", naming its kieskringen in kr:ListData/kr:Contests."""
    contests = "".join(f'<kr:Contest Id="{n}">kieskring {n}</kr:Contest>' for n in numbers)
    assert b'<kr:ListData PublishGender="true"/>' in nomination
    return nomination.replace(b'<kr:ListData PublishGender="true"/>',
                              f'<kr:ListData PublishGender="true"><kr:Contests>{contests}</kr:Contests>'
                              "</kr:ListData>".encode())


def api(app: Any, token: str, body: dict[str, Any], path: str = DECLARATIONS, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key or f"k-{datetime.now().timestamp()}"}
    return app.test_client().post(path, json=body, headers=headers)


def counter_step2(clerk: Any, case: str) -> str:
    """The clerk's step 1 for a Haarlem voter with a Dutch passport; returns step 2 as the clerk sees it."""
    page = html(clerk.get(START))
    return html(clerk.post(START, data={"csrf_token": csrf(page), "bsn": bsn(case), "document_type": "paspoort",
                                        "document_country": "NL", "document_number": "NW4K82PL1"},
                                   follow_redirects=True))


def counter_request(case: str, list_id: int, **extra: Any) -> DeclarationRequest:
    return DeclarationRequest(election="TK2025", list_id=list_id, channel=Channel.COUNTER, bsn=bsn(case),
                              actor="clerk:GM0392:E1", counter_municipality="GM0392", document_type="paspoort",
                              document_number="NW4K82PL1", **extra)


# --- H 4 lid 2: a list stands where it is submitted ----------------------------------------------------

def test_H4_lid2_a_210_names_its_kieskringen_in_kr_contests_and_stands_only_there(app, session):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    now = now_open(session)
    nomination = with_contests(nomination_210("Kieskring Drie Vier", contest="alle"), 3, 4)
    result = elections.import_file(session, nomination, "210.eml.xml", "test", now=now)
    assert result.districts == [3, 4]
    (party,) = lists_named(session, "Kieskring Drie Vier")
    assert kieskringen(session, party.id) == [3, 4]

    # A Haarlem voter (kieskring 10) is refused: the list does not stand where they live.
    with pytest.raises(DeclarationRefused) as refused:
        record_declaration(session, person_registry(), counter_request("voter_haarlem_1", party.id))
    assert refused.value.code is Refusal.WRONG_KIESKRING

    # At the examination it is "not submitted" in the other 18 kieskringen, not short of declarations there.
    rows = [r for r in csb.examine(session, elections.get_election(session, "TK2025"), live=True).rows
            if r.list_id == party.id]
    assert {r.kieskring for r in rows if r.status != "not_submitted"} == {3, 4}
    assert all(r.status == "not_submitted" for r in rows if r.kieskring not in (3, 4))


def test_H4_lid2_without_kr_contests_the_contest_identifier_decides(app, session):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    now = now_open(session)
    elections.import_file(session, nomination_210("Alleen Tien", contest="10"), "210.eml.xml", "test", now=now)
    assert kieskringen(session, lists_named(session, "Alleen Tien")[0].id) == [10]


def test_H4_lid2_a_kieskring_in_kr_contests_that_the_election_lacks_is_refused(app, session):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    now = now_open(session)
    with pytest.raises(elections.ImportRefused, match="geen kieskring 21"):
        elections.import_file(session, with_contests(nomination_210("X", contest="alle"), 3, 21), "210.eml.xml",
                              "test", now=now)
    assert lists_named(session, "X") == []


# --- H 4 lid 8 and I 17: exempt by aanduiding, numbered without a duplicate ----------------------------

def test_H4_lid8_a_210_list_exempted_by_aanduiding_and_numbered_by_the_230b_is_one_list(app, session, cli):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    now = now_open(session)
    # The CSB records the exemption before the party has submitted anything.
    done = cli.invoke(args=["election", "exempt", "TK2025", "Volt", "--basis", "zetel bij TK2023"])
    assert done.exit_code == 0, done.output
    # The party submits its list for kieskring 10 without a number (the XSD forbids one in a 210).
    elections.import_file(session, nomination_210("Volt", contest="10"), "volt.eml.xml", "test", now=now)
    (volt,) = lists_named(session, "Volt")
    assert (volt.number, volt.exempt, volt.exempt_basis) == (None, True, "zetel bij TK2023")
    first_version = session.scalar(select(ListVersion.id).where(ListVersion.list_id == volt.id))

    # The CSB's 230b numbers it: the same list, now number 14, still exempt; no second Volt.
    elections.import_file(session, (EML / HAARLEM).read_bytes(), HAARLEM, "test", now=now)
    (volt,) = lists_named(session, "Volt")
    assert (volt.number, volt.exempt) == (14, True)
    assert session.scalar(select(func.count()).select_from(ListVersion).where(ListVersion.list_id == volt.id)) == 2
    assert first_version is not None
    rows = [r for r in csb.examine(session, elections.get_election(session, "TK2025"), live=True).rows
            if r.list_id == volt.id and r.kieskring == 10]
    assert [r.status for r in rows] == ["exempt"]


def test_I17_a_230b_whose_number_belongs_to_another_aanduiding_is_refused(app, session, tk2025):
    now = now_open(session)
    renumbered = (EML / HAARLEM).read_bytes().replace(
        b'<AffiliationIdentifier Id="14"><RegisteredName>Volt', b'<AffiliationIdentifier Id="13"><RegisteredName>Volt')
    renumbered = renumbered.replace(b'<AffiliationIdentifier Id="13"><RegisteredName>ChristenUnie',
                                    b'<AffiliationIdentifier Id="14"><RegisteredName>ChristenUnie')
    before = session.scalar(select(func.count()).select_from(CandidateList))
    with pytest.raises(elections.ImportRefused, match=r"AffiliationIdentifier 1[34]: "):
        elections.import_file(session, renumbered, HAARLEM, "test", now=now)
    assert session.scalar(select(func.count()).select_from(CandidateList)) == before


def test_H4_lid8_exempt_lists_are_not_offered_and_the_api_refuses_them(app, session, tk2025, login_as):
    forget_g_after_each_request(app)
    open_window(session)
    elections.set_exemption(session, "TK2025", "PVV (Partij voor de Vrijheid)", True, "zetel bij TK2025", "test")
    pvv = lists_named(session, "PVV (Partij voor de Vrijheid)")[0]

    clerk = login_as("clerk:GM0392")
    step2 = counter_step2(clerk, "voter_haarlem_1")
    assert "Lijst 14: Volt" in step2 and "PVV" not in step2
    assert "PVV" not in html(voter(app, "voter_haarlem_2").get(CHOOSE))

    answer = api(app, bearer_token(app.test_client(), "clerk:GM0392"),
                 {"list": pvv.id, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT})
    assert answer.status_code == 422 and answer.get_json()["type"].endswith("/list-exempt")
    assert "H 4 lid 8" in answer.get_json()["detail"]
    assert session.scalar(select(func.count()).select_from(Declaration)) == 0


# --- H 4 lid 1: the version the voter saw ----------------------------------------------------------------

def change_volt(session: Any, now: datetime, new_name: bytes = b"Dassen-Nieuw") -> None:
    changed = (EML / HAARLEM).read_bytes().replace(b"<xnl:LastName>Dassen</xnl:LastName>",
                                                    b"<xnl:LastName>" + new_name + b"</xnl:LastName>", 1)
    assert elections.import_file(session, changed, "volt-v2.eml.xml", "test", now=now).versions_created == 1
    session.commit()


def test_H4_lid1_a_list_changed_between_step_2_and_the_confirmation_is_refused_and_shown_again(app, session,
                                                                                               tk2025, login_as):
    forget_g_after_each_request(app)
    open_window(session)
    clerk = login_as("clerk:GM0392")
    step2 = counter_step2(clerk, "voter_haarlem_1")
    assert "Dassen" in step2 and "Dassen-Nieuw" not in step2
    volt = lists_named(session, "Volt")[0]

    change_volt(session, datetime.now(AMS))  # the party replaces its list while the voter is at the desk

    def confirm(page_html: str) -> Any:
        token = re.search(r'name="token" type="hidden" value="([^"]+)"', page_html).group(1)
        submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page_html).group(1)
        return clerk.post(f"{START}vastleggen", data={"csrf_token": csrf(page_html), "token": token,
                                                      "submission": submission, "list_id": str(volt.id),
                                                      "identity_checked": "y"})

    stale = confirm(step2)
    again = html(stale)
    assert stale.status_code == 409 and "De lijst is gewijzigd. Er is niets vastgelegd." in again
    assert "Dassen-Nieuw" in again  # the list as it stands now, to show the voter
    assert session.scalar(select(func.count()).select_from(Declaration)) == 0

    recorded = confirm(again)
    assert recorded.status_code == 303
    declaration = session.scalar(select(Declaration))
    version = session.get(ListVersion, declaration.list_version_id)
    assert version.version == 2 and version.candidates[0]["last_name"] == "Dassen-Nieuw"


def test_H4_lid1_online_the_confirmation_carries_the_version_on_the_page(app, session, tk2025):
    forget_g_after_each_request(app)
    open_window(session)
    browser = voter(app, "voter_haarlem_2")
    page = html(browser.get(CHOOSE))
    volt = lists_named(session, "Volt")[0]
    confirm_page = html(browser.post(f"{CHOOSE}bevestigen", data={"csrf_token": csrf(page), "list_id": str(volt.id)}))
    assert "Dassen" in confirm_page
    change_volt(session, datetime.now(AMS))
    stale = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(confirm_page))
    assert stale.status_code == 409 and "Deze lijst is net gewijzigd" in html(stale)
    assert "Dassen-Nieuw" in html(stale)
    assert session.scalar(select(func.count()).select_from(Declaration)) == 0
    done = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(html(stale)))
    assert done.status_code == 303 and "ontvangstbewijs" in done.location


def test_H4_lid1_the_api_takes_the_version_shown_and_refuses_a_stale_one(app, session, tk2025):
    open_window(session)
    token = bearer_token(app.test_client(), "clerk:GM0392")
    lists = app.test_client().get("/api/v1/elections/TK2025/lists",
                                  headers={"Authorization": f"Bearer {token}"}).get_json()
    volt = next(item for item in lists if item["designation"] == "Volt")
    shown = volt["versions"][0]
    change_volt(session, datetime.now(AMS))

    body = {"list": volt["id"], "bsn": bsn("voter_haarlem_1"), "identity_document": PASSPORT}
    stale = api(app, token, {**body, "list_version": shown["content_hash"]})
    problem = stale.get_json()
    assert stale.status_code == 409 and problem["type"].endswith("/list-changed")
    assert problem["list_version"] == 2 and problem["list_version_hash"] != shown["content_hash"]
    assert api(app, token, {**body, "list_version": 1}).status_code == 409
    bad = api(app, token, {**body, "list_version": "v1"})
    assert bad.status_code == 422 and "list_version" in bad.get_json()["detail"]

    current = api(app, token, {**body, "list_version": problem["list_version_hash"]})
    assert current.status_code == 201 and current.get_json()["list_version"] == 2

    # The OpenAPI document says so: the field, both slugs, and the bodies validate against it.
    import jsonschema

    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    request_schema = spec["components"]["schemas"]["DeclarationRequest"]["properties"]
    assert "list_version" in request_schema and "country" in request_schema["identity_document"]["properties"]
    answers = spec["paths"]["/elections/{election}/declarations"]["post"]["responses"]
    assert "list-changed" in answers["409"]["description"] and "list-exempt" in answers["422"]["description"]
    slugs = " ".join(spec["components"]["schemas"]["Problem"]["properties"]["type"]["enum"])
    assert "/list-changed" in slugs and "/list-exempt" in slugs
    for instance, name in ((current.get_json(), "Declaration"), (problem, "Problem")):
        jsonschema.validate(instance, {"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


# --- I 1: from nomination day 17:00 the lists are what was submitted --------------------------------------

def test_I1_after_nomination_day_a_list_cannot_be_replaced_but_it_can_be_numbered(app, session, tk2025, cli,
                                                                                   tmp_path):
    # TK2025's lists were submitted until 15 September 2025 17:00; this is a repair day after it.
    repair_day = datetime(2025, 9, 17, 10, 0, tzinfo=AMS)
    changed = (EML / HAARLEM).read_bytes().replace(b"<xnl:LastName>Dassen</xnl:LastName>",
                                                    b"<xnl:LastName>Dassen-Nieuw</xnl:LastName>", 1)
    versions = session.scalar(select(func.count()).select_from(ListVersion))
    with pytest.raises(elections.ImportRefused) as refused:
        elections.import_file(session, changed, "laat.eml.xml", "test", now=repair_day)
    assert "vastliggen" in str(refused.value) and "Volt" in str(refused.value) and "kieskring 10" in str(refused.value)
    with pytest.raises(elections.ImportRefused, match="kandidaatstelling"):
        elections.import_file(session, nomination_210("Te Laat"), "210.eml.xml", "test", now=repair_day)
    assert session.scalar(select(func.count()).select_from(ListVersion)) == versions
    assert lists_named(session, "Te Laat") == []

    # The same through the command line, today: refused with the reason, exit status 1.
    path = tmp_path / "laat.eml.xml"
    path.write_bytes(changed)
    result = cli.invoke(args=["election", "import", str(path)])
    assert result.exit_code == 1 and "vastliggen" in result.output

    # The unchanged file (the CSB's numbering) still goes through.
    assert elections.import_file(session, (EML / HAARLEM).read_bytes(), HAARLEM, "test",
                                 now=repair_day).versions_created == 0


# --- B 3 lid 2 b: five years of lawful residence, counted to nomination day -------------------------------

def test_B3_lid2b_residence_is_counted_to_nomination_day_on_every_channel(app, session, people):
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    now_open(session, "GR2026_Assen")
    election = elections.get_election(session, "GR2026_Assen")
    a_list = session.scalar(select(CandidateList.id).where(CandidateList.election_id == election.id,
                                                           CandidateList.number == 1))
    for channel in (Channel.COUNTER, Channel.ONLINE):
        with pytest.raises(DeclarationRefused) as refused:
            record_declaration(session, person_registry(), DeclarationRequest(
                election="GR2026_Assen", list_id=a_list, channel=channel, bsn=people["moroccan"],
                actor="clerk:GM0106:E1", counter_municipality="GM0106", document_type="verblijfsdocument",
                document_number="V12345678"))
        assert refused.value.code is Refusal.NOT_ELIGIBLE and refused.value.details["reason"] == "nationality"


# --- I 2 lid 1 a: a re-sent paper declaration is the same declaration -------------------------------------

def test_I2_lid1a_a_paper_declaration_sent_twice_is_one_valid_declaration(app, session, tk2025):
    open_window(session)
    token = bearer_token(app.test_client(), "clerk:GM0392")
    volt = lists_named(session, "Volt")[0].id
    signed = (datetime.now(AMS) - timedelta(hours=2)).isoformat()
    item = {"list": volt, "bsn": bsn("voter_haarlem_1"), "identity_document": PASSPORT, "signed_at": signed}
    batch = "/api/v1/elections/TK2025/declarations/batch"
    first = api(app, token, {"declarations": [{"id": "a1", **item}]}, batch).get_json()
    again = api(app, token, {"declarations": [{"id": "b7", **item}]}, batch).get_json()
    assert (first["recorded"], again["recorded"], again["resent"]) == (1, 0, 1)
    assert again["results"][0]["result"]["receipt_code"] == first["results"][0]["result"]["receipt_code"]
    rows = session.scalars(select(Declaration)).all()
    assert [r.ordinal for r in rows] == [1]  # one declaration, valid

    # A second, different signature of the same voter is a fact too: kept, and then both are void.
    later = {**item, "signed_at": (datetime.now(AMS) - timedelta(hours=1)).isoformat()}
    assert api(app, token, {"declarations": [{"id": "c3", **later}]}, batch).get_json()["recorded"] == 1
    session.rollback()
    assert sorted(r.ordinal for r in session.scalars(select(Declaration))) == [1, 2]


# --- H 4 lid 3 with the Wet op de identificatieplicht: EU/EEA passports and identity cards ----------------

def test_H4_lid3_a_german_passport_at_a_GR_counter(app, session, people, login_as):
    forget_g_after_each_request(app)
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    now_open(session, "GR2026_Assen")
    clerk = login_as("clerk:GM0106")
    start = "/balie/GR2026_Assen/"

    def step1(**document: str) -> Any:
        page = html(clerk.get(start))
        return clerk.post(start, data={"csrf_token": csrf(page), "bsn": people["german"], **document},
                          follow_redirects=True)

    refused = step1(document_type="rijbewijs", document_country="DE", document_number="B072RRE2I55")
    assert refused.status_code == 422 and "alleen een paspoort en een identiteitskaart" in html(refused)
    step2 = step1(document_type="paspoort", document_country="DE", document_number="C01X00T47")
    assert step2.status_code == 200 and "Kies de lijst en bevestig" in html(step2), html(step2)[:2000]
    page = html(step2)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page).group(1)
    election = elections.get_election(session, "GR2026_Assen")
    first_list = str(session.scalar(select(CandidateList.id).where(CandidateList.election_id == election.id,
                                                                   CandidateList.number == 1)))
    assert f'value="{first_list}"' in page
    done = clerk.post(f"{start}vastleggen", data={"csrf_token": csrf(page), "token": token, "submission": submission,
                                                  "list_id": first_list, "identity_checked": "y"})
    assert done.status_code == 303, html(done)[:1000]
    declaration = session.scalar(select(Declaration))
    assert declaration.attestation["document_type"] == "paspoort"
    assert declaration.attestation["document_country"] == "DE"


@pytest.mark.parametrize(("document", "field"), [
    ({"type": "paspoort", "number": "C01X00T47", "country": "US"}, "country"),  # not EU/EEA/CH
    ({"type": "rijbewijs", "number": "B072RRE2I55", "country": "DE"}, "type"),
    ({"type": "paspoort", "number": "C0", "country": "DE"}, "number"),
])
def test_H4_lid3_foreign_documents_outside_the_rule_are_refused_by_the_api(app, session, people, document, field):
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    now_open(session, "GR2026_Assen")
    election = elections.get_election(session, "GR2026_Assen")
    a_list = session.scalar(select(CandidateList.id).where(CandidateList.election_id == election.id))
    token = bearer_token(app.test_client(), "clerk:GM0106")
    answer = api(app, token, {"list": a_list, "bsn": people["german"], "identity_document": document},
                 "/api/v1/elections/GR2026_Assen/declarations")
    assert answer.status_code == 422 and answer.get_json()["type"].endswith("/invalid-document")
    assert answer.get_json()["field"] == field


def test_H4_lid8_the_csb_records_an_exemption_by_aanduiding_on_its_pages(app, session, login_as, page_audit):
    forget_g_after_each_request(app)
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    member = login_as("csb:TK2025")
    page = member.get("/csb/TK2025/vrijstellingen")
    assert page.status_code == 200 and "Nog geen vrijstellingen." in html(page)
    missing = member.post("/csb/TK2025/vrijstellingen", data={"csrf_token": csrf(html(page)), "designation": "Volt"})
    assert missing.status_code == 422 and "Noem de verkiezing waarbij de aanduiding een zetel won." in html(missing)
    done = member.post("/csb/TK2025/vrijstellingen", data={"csrf_token": csrf(html(page)), "designation": "Volt",
                                                           "basis": "zetel bij TK2023"})
    assert done.status_code == 303
    after = html(member.get(done.location))
    assert "De vrijstelling is vastgelegd." in after and "Volt" in after and "nog geen" in after
    (volt,) = lists_named(session, "Volt")
    assert volt.exempt and volt.exempt_basis == "zetel bij TK2023"
    # A clerk of a municipality has no business here.
    assert login_as("clerk:GM0392").get("/csb/TK2025/vrijstellingen").status_code in (403, 404)


def test_H4_lid1_one_aanduiding_with_other_candidates_in_other_groups_of_kieskringen(app, session):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    now = now_open(session)
    north = with_contests(nomination_210("Twee Groepen", contest="alle"), 1, 2)
    west = with_contests(nomination_210("Twee Groepen", contest="alle"), 9, 10).replace(
        b"<xnl:LastName>Tansen</xnl:LastName>", b"<xnl:LastName>Westra</xnl:LastName>")
    elections.import_file(session, north, "noord.eml.xml", "test", now=now)
    elections.import_file(session, west, "west.eml.xml", "test", now=now)
    (party,) = lists_named(session, "Twee Groepen")
    assert kieskringen(session, party.id) == [1, 2, 9, 10]
    per_district = dict(session.execute(
        select(District.number, ListVersion.candidates).join(ListDistrict, ListDistrict.district_id == District.id)
        .join(ListVersion, ListVersion.id == ListDistrict.version_id).where(ListDistrict.list_id == party.id)).all())
    assert per_district[1][0]["last_name"] == "Tansen" and per_district[10][0]["last_name"] == "Westra"
    # A Haarlem voter (kieskring 10) supports the western variant.
    recorded = record_declaration(session, person_registry(), counter_request("voter_haarlem_1", party.id))
    assert session.get(ListVersion, session.get(Declaration, recorded.id).list_version_id).candidates[0][
        "last_name"] == "Westra"
