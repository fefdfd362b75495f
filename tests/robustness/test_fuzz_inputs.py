"""Fuzzing every way in: the API's declaration bodies (single and batch), the clerk's counter forms, the
voter's online forms and the party agent's forms, with BSN-shaped strings, Unicode, wrong JSON types,
missing fields, malformed and huge bodies.

What must hold for every input: never a 5xx; on /api/ a 4xx problem+json with a title and a detail; on
the pages a Dutch page (a 4xx, or the form again with its errors); and nothing recorded that was not
acknowledged (every declaration row has its 201 or its receipt redirect). The fuzzer runs inside each
test (``run()``), after the fixtures, so one app and one login serve all examples.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.declarations.models import Declaration
from registry.elections.models import CandidateList
from tests.auth.helpers import auth_header, bearer_token, login
from tests.conftest import bsn
from tests.online.helpers import CHOOSE, csrf, hidden, voter

API = "/api/v1/elections/TK2025"
COUNTER = "/balie/TK2025/"
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}
REAL_CASES = ("voter_haarlem_1", "voter_haarlem_2", "minor", "voter_amsterdam_1", "not_in_brp", "deceased")
HUGE = 2 * 1024 * 1024


# --- strategies ------------------------------------------------------------------------------------

def bsn_variants(number: str) -> list[str]:
    """The ways a person types a real BSN, and a few ways they should not be accepted."""
    fullwidth = number.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    arabic = number.translate({ord(d): 0x0660 + int(d) for d in "0123456789"})
    return [number, f"{number[:3]}.{number[3:6]}.{number[6:]}", f"{number[:3]} {number[3:6]} {number[6:]}",
            f"{number[:4]}-{number[4:]}", f"  {number}\t", fullwidth, arabic, number + "0", number[:-1],
            number + "\x00", f"{number[:3]}\u00a0{number[3:]}", "0" + number]


bsn_strings = st.one_of(
    st.sampled_from(REAL_CASES).flatmap(lambda case: st.sampled_from(bsn_variants(bsn(case)))),
    st.text(alphabet="0123456789 .-", max_size=14),
    st.from_regex(r"[0-9]{9}", fullmatch=True),
    st.text(max_size=40),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                         st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30, -1, 0]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)
document_types = st.sampled_from(["paspoort", "identiteitskaart", "rijbewijs", "verblijfsdocument", "PASPOORT",
                                  "ov-chipkaart", ""])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is sometimes missing (None here means: leave the key out)."""
    return st.one_of(st.none(), strategy)


@st.composite
def counter_bodies(draw: st.DrawFn, list_ids: list[int]) -> dict[str, Any]:
    """Bodies a municipal system might send: mostly well-formed, each field sometimes wrong."""
    fields = {
        "list": maybe(st.one_of(st.sampled_from(list_ids), json_values)),
        "bsn": maybe(st.one_of(bsn_strings, json_values)),
        "identity_document": maybe(st.one_of(
            st.fixed_dictionaries({"type": st.one_of(document_types, json_values),
                                   "number": st.one_of(st.just("NW4K82PL1"), st.text(max_size=20), json_values)}),
            json_values)),
        "municipality": maybe(st.one_of(st.sampled_from(["GM0392", "GM0363", "gm0392", ""]), json_values)),
        "signed_at": maybe(st.one_of(st.sampled_from(["2025-09-10T14:30:00+02:00", "2025-09-10T14:30:00",
                                                      "gisteren", "9999-12-31T23:59:59Z"]), json_values)),
    }
    body = {name: value for name, strategy in fields.items() if (value := draw(strategy)) is not None}
    body.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return body


RAW_BODIES = [
    b"", b"{", b"}", b"null", b"[]", b'"list"', b"NaN", b"[1, 2, 3]", b'{"list": 1,}', b"{'list': 1}",
    b"[" * 100_000, b'{"a":' * 50_000, b'{"list": 1' + b"0" * 5000 + b"}", b'{"list": 1e999999}',
    b'\xef\xbb\xbf{"list": 1}', b"\xff\xfe{\x00}\x00", '{"list": 1}'.encode("utf-16"), b'{"bsn": "\xff\xfe"}',
    b'{"bsn": "\\ud800"}', b'{"list": 1, "list": "2"}', b'{"declarations": [{"id": "\\udfff"}]}',
    b'{"declarations": [{"id": "a\\u0001"}]}', b'{"\\u0000": 1}', b'{"bsn": "' + b"9" * HUGE + b'"}',
    b"[" + b"{}," * 200_000 + b"{}]",
]
raw_bodies = st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=300), st.text(max_size=300).map(str.encode))
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "",
                                 "application/x-www-form-urlencoded", "application/problem+json",
                                 "application/json; charset=latin-1"])
header_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"),
                      max_size=250)


# --- what every answer must look like ---------------------------------------------------------------

def assert_problem(response: Any, ok: tuple[int, ...] = (201,)) -> None:
    """A 4xx problem+json with a title and a detail (or one of the ``ok`` statuses)."""
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, f"{status}: {text[:500]}"
    if status in ok:
        return
    assert 400 <= status < 500, f"{status}: {text[:300]}"
    assert response.mimetype == "application/problem+json", f"{status} {response.mimetype}: {text[:300]}"
    body = response.get_json()
    assert body["status"] == status
    assert isinstance(body.get("title"), str) and body["title"].strip()
    assert isinstance(body.get("detail"), str) and body["detail"].strip()


def assert_dutch_page(response: Any, ok: tuple[int, ...] = (200, 303), form_errors: bool = True) -> str:
    """Never a 5xx; a 4xx is a Dutch page of this site that says what went wrong (on a 422, next to the
    field, unless ``form_errors`` is off because only hidden fields were tampered with)."""
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, f"{status}: {text[:500]}"
    assert "Traceback" not in text
    if status in ok:
        return text
    assert 400 <= status < 500, status
    assert response.mimetype == "text/html", response.mimetype
    assert re.search(r'<html lang="nl"', text), f"{status} is not a page of this site: {text[:300]}"
    assert re.search(r"<h1[^>]*>\s*\S", text), f"{status} page without a heading: {text[:300]}"
    if status == 422 and form_errors:
        assert 'class="error-summary"' in text or 'role="alert"' in text or "form-field__error" in text, text[:2000]
    return text


def no_bsn_echoed(response: Any, value: Any) -> None:
    """A refusal never repeats the BSN it was given (the answer may end up in a log or a screenshot)."""
    if isinstance(value, str):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8:
            assert digits not in re.sub(r"\D", "", json.dumps(response.get_json() or {})), value


def counts(session: Any) -> tuple[int, int]:
    session.rollback()  # end our read snapshot: the requests wrote in sessions of their own
    return (session.scalar(select(func.count()).select_from(Declaration)),
            session.scalar(select(func.count()).select_from(AuditEvent)))


def haarlem_lists(session: Any) -> list[int]:
    return list(session.scalars(select(CandidateList.id).order_by(CandidateList.number)))


# --- the API ---------------------------------------------------------------------------------------

def test_api_declaration_bodies_from_a_municipal_system(client, session, open_tk2025):
    token = bearer_token(client, "clerk:GM0392")
    before = counts(session)
    acknowledged = []

    @FUZZ
    @given(body=counter_bodies(haarlem_lists(session)))
    @example(body={"list": 2**63, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT})
    @example(body={"list": -(2**63) - 1, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT})
    @example(body={"list": 10**30, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT})
    @example(body={"list": 1, "bsn": "9" * 100_000, "identity_document": PASSPORT})
    @example(body={"list": 1, "bsn": bsn("voter_haarlem_3"), "identity_document": {"type": "paspoort",
                                                                                   "number": "\x00" * 30}})
    @example(body={"list": 1, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT, "municipality": "\x00"})
    def run(body: dict[str, Any]) -> None:
        response = client.post(f"{API}/declarations", json=body,
                               headers={**auth_header(token), "Idempotency-Key": str(uuid.uuid4())})
        assert_problem(response)
        no_bsn_echoed(response, body.get("bsn"))
        if response.status_code == 201:
            acknowledged.append(response.get_json()["id"])

    run()
    declarations, events = counts(session)
    assert declarations - before[0] == len(acknowledged)  # nothing recorded without its 201
    assert events - before[1] == len(acknowledged)


def test_api_raw_bodies_content_types_and_idempotency_keys(client, session, open_tk2025):
    token = bearer_token(client, "clerk:GM0392")
    before = counts(session)
    for data in RAW_BODIES:  # each of the nasty ones, every run
        for path in (f"{API}/declarations", f"{API}/declarations/batch"):
            headers = {**auth_header(token), "Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
            assert_problem(client.post(path, data=data, headers=headers), ok=())

    @FUZZ
    @given(data=raw_bodies, content_type=content_types, key=st.one_of(st.uuids().map(str), header_text))
    @example(data=b'{"list": 1}', content_type="application/json", key="\x00")
    @example(data=b'{"list": 1}', content_type="application/json", key="k" * 201)
    @example(data=b'{"list": 1}', content_type="application/json", key=" ")
    def run(data: bytes, content_type: str, key: str) -> None:
        headers = {**auth_header(token), "Idempotency-Key": key}
        if content_type:
            headers["Content-Type"] = content_type
        for path in (f"{API}/declarations", f"{API}/declarations/batch"):
            assert_problem(client.post(path, data=data, headers=headers), ok=())

    run()
    assert counts(session) == before


def test_api_batches_with_odd_items_and_ids(client, session, open_tk2025):
    token = bearer_token(client, "clerk:GM0392")
    lists = haarlem_lists(session)
    before = counts(session)
    acknowledged = []
    item = st.one_of(
        st.builds(lambda body, item_id: {**body, "id": item_id}, counter_bodies(lists),
                  st.one_of(st.uuids().map(str), st.text(max_size=120), json_values)),
        json_values)

    @FUZZ
    @given(items=st.one_of(st.lists(item, max_size=5), json_values))
    @example(items=[{"id": "\x00", "list": 1, "bsn": bsn("voter_haarlem_3"), "identity_document": PASSPORT,
                     "signed_at": "2025-09-10T14:30:00+02:00"}])
    @example(items=[{"id": "a"}, {"id": "a"}])
    @example(items=[{"id": str(i)} for i in range(1001)])
    def run(items: Any) -> None:
        response = client.post(f"{API}/declarations/batch", json={"declarations": items}, headers=auth_header(token))
        assert_problem(response, ok=(200,))
        if response.status_code == 200:
            for result in response.get_json()["results"]:
                assert result["status"] < 500, result
                if result["status"] == 201:
                    acknowledged.append(result["result"]["id"])
                else:
                    assert result["result"]["title"] and result["result"]["detail"], result

    run()
    declarations, _events = counts(session)
    assert declarations - before[0] == len(set(acknowledged))


def test_api_voter_bodies_and_election_names(client, session, open_tk2025):
    token = bearer_token(client, f"bsn:{bsn('voter_haarlem_2')}")
    lists = haarlem_lists(session)
    before = counts(session)
    acknowledged = []

    @FUZZ
    @given(body=st.one_of(st.fixed_dictionaries({"list": st.one_of(st.sampled_from(lists), json_values)},
                                                optional={"bsn": bsn_strings, "extra": json_values}),
                          st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
           election=st.one_of(st.just("TK2025"), st.text(min_size=1, max_size=40)))
    @example(body={"list": 1}, election="\x00")
    @example(body={"list": 1}, election="TK2025\x00")
    @example(body={"list": 1}, election="x" * 5000)
    def run(body: dict[str, Any], election: str) -> None:
        path = f"/api/v1/elections/{quote(election, safe='')}/declarations"
        # An encoded "/" becomes a double slash that Werkzeug merges with a 308 to the canonical address.
        moved = (308,) if "/" in election else ()
        response = client.post(path, json=body, headers={**auth_header(token), "Idempotency-Key": str(uuid.uuid4())})
        assert_problem(response, ok=(201, *moved))
        if response.status_code == 201:
            acknowledged.append(response.get_json()["id"])
        for reader in (f"/api/v1/elections/{quote(election, safe='')}/lists",
                       f"/api/v1/elections/{quote(election, safe='')}/lists/1/progress"):
            assert_problem(client.get(reader, headers=auth_header(token)), ok=(200, *moved))

    run()
    declarations, _events = counts(session)
    assert declarations - before[0] == len(acknowledged) <= 1  # one voter, one declaration


# --- the pages ---------------------------------------------------------------------------------------

def test_counter_step_one_with_any_bsn_and_document(client, session, open_tk2025):
    login(client, "clerk:GM0392")
    token = csrf(client.get(COUNTER).get_data(as_text=True))
    before = counts(session)

    @FUZZ
    @given(number=maybe(bsn_strings), document_type=maybe(st.one_of(document_types, st.text(max_size=20))),
           document_number=maybe(st.one_of(st.just("NW4K82PL1"), st.text(max_size=40))),
           municipality=maybe(st.one_of(st.just("GM0392"), st.text(max_size=10))))
    @example(number="1" * 100_000, document_type="paspoort", document_number="NW4K82PL1", municipality=None)
    @example(number=bsn("voter_haarlem_1"), document_type="paspoort", document_number="\x00" * 9, municipality=None)
    @example(number=bsn("voter_haarlem_1"), document_type="paspoort", document_number="NW4K82PL1",
             municipality="\x00")
    def run(number: str | None, document_type: str | None, document_number: str | None,
            municipality: str | None) -> None:
        data = {"csrf_token": token, "bsn": number, "document_type": document_type,
                "document_number": document_number}
        query = {"gemeente": municipality} if municipality is not None else {}
        response = client.post(COUNTER, data={k: v for k, v in data.items() if v is not None}, query_string=query)
        assert_dutch_page(response, ok=(200,))

    run()
    # Step 1 only checks; it never records a declaration. Its one write is the lookup's audit event.
    after = counts(session)
    lookups = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "voter.lookup"))
    assert after[0] == before[0] and after[1] - before[1] == lookups


def test_counter_confirmation_with_tampered_hidden_fields(client, session, open_tk2025):
    login(client, "clerk:GM0392")
    token = csrf(client.get(COUNTER).get_data(as_text=True))
    step2 = client.post(COUNTER, data={"csrf_token": token, "bsn": bsn("voter_haarlem_1"),
                                       "document_type": "paspoort", "document_number": "NW4K82PL1"})
    page = step2.get_data(as_text=True)
    sealed = hidden(page, "token")
    lists = [str(i) for i in haarlem_lists(session)]
    before = counts(session)
    recorded = []

    @FUZZ
    @given(seal=st.one_of(st.just(sealed), st.text(max_size=80), st.just(sealed[:-3] + "AAA"), st.just("x" * 3000)),
           submission=maybe(st.one_of(st.uuids().map(str), st.text(max_size=80))),
           list_id=maybe(st.one_of(st.sampled_from(lists), st.text(max_size=12), st.just("9" * 40))),
           checked=maybe(st.one_of(st.just("y"), st.text(max_size=5))))
    @example(seal=sealed, submission="\x00", list_id=lists[0], checked="y")
    @example(seal=sealed, submission="s" * 5000, list_id=lists[0], checked="y")
    @example(seal=sealed, submission=str(uuid.uuid4()), list_id="9" * 40, checked="y")
    def run(seal: str, submission: str | None, list_id: str | None, checked: str | None) -> None:
        data = {"csrf_token": token, "token": seal, "submission": submission, "list_id": list_id,
                "identity_checked": checked}
        response = client.post(f"{COUNTER}vastleggen", data={k: v for k, v in data.items() if v is not None})
        assert_dutch_page(response, ok=(200, 303, 409), form_errors=False)  # hidden fields: no message there
        if response.status_code == 303:
            recorded.append(response.location)

    run()
    declarations, _events = counts(session)
    # One voter: at most one declaration, and only if some confirmation answered with the receipt.
    assert declarations - before[0] == (1 if recorded else 0)


def test_online_choice_and_confirmation_with_any_list_and_submission(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_2")
    token = csrf(browser.get(CHOOSE).get_data(as_text=True))
    lists = [str(i) for i in haarlem_lists(session)]
    before = counts(session)
    recorded = []

    @FUZZ
    @given(list_id=maybe(st.one_of(st.sampled_from(lists), st.text(max_size=14), st.just("9" * 12))),
           submission=maybe(st.one_of(st.just("a" * 24), st.text(max_size=70))),
           understood=maybe(st.one_of(st.just("y"), st.text(max_size=5))),
           election=st.one_of(st.just("TK2025"), st.text(min_size=1, max_size=20)))
    @example(list_id="\u0661", submission="b" * 24, understood="y", election="TK2025")
    @example(list_id="999999999999", submission="c" * 24, understood="y", election="TK2025")
    @example(list_id=lists[0], submission="d" * 24, understood="y", election="\x00")
    def run(list_id: str | None, submission: str | None, understood: str | None, election: str) -> None:
        base = f"/verklaren/{quote(election, safe='')}/"
        choose = browser.post(f"{base}bevestigen", data={k: v for k, v in {
            "csrf_token": token, "list_id": list_id}.items() if v is not None})
        # 308: Werkzeug merges the double slash of an encoded "/" in the election with a redirect
        assert_dutch_page(choose, ok=(200, 308))
        data = {"csrf_token": token, "list_id": list_id, "submission": submission, "understood": understood}
        response = browser.post(f"{base}vastleggen", data={k: v for k, v in data.items() if v is not None})
        assert_dutch_page(response, ok=(200, 303, 308, 409))
        if response.status_code == 303 and "ontvangstbewijs" in (response.location or ""):
            recorded.append(response.location)

    run()
    declarations, _events = counts(session)
    assert declarations - before[0] == (1 if recorded else 0)


def test_party_list_form_and_upload_with_any_text_and_file(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    form_page = agent.get("/partij/TK2025/formulier")
    assert form_page.status_code == 200
    token = csrf(form_page.get_data(as_text=True))
    volt = str(session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt")))
    hostile_xml = [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><EML>&c;</EML>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><EML>&e;</EML>',
        b"<EML>" + b"<a>" * 100_000 + b"</EML>", b"\x00\x01\x02", b"", b"<?xml version='1.0'?>",
    ]

    @FUZZ
    @given(designation=maybe(st.text(max_size=400)),
           kieskringen=st.lists(st.one_of(st.just("10"), st.text(max_size=4)), max_size=3),
           candidates=maybe(st.one_of(st.text(max_size=200), st.just("Jansen, A., Haarlem\n" * 60))),
           existing=maybe(st.one_of(st.just(volt), st.text(max_size=8))),
           upload=st.one_of(st.sampled_from(hostile_xml), st.binary(max_size=200)))
    @example(designation="\x00", kieskringen=["10"], candidates="Jansen, A., Haarlem", existing=None, upload=b"")
    @example(designation="Volt", kieskringen=["10"], candidates="Jansen\x00, A., Haarlem", existing=volt,
             upload=b"")
    def run(designation: str | None, kieskringen: list[str], candidates: str | None, existing: str | None,
            upload: bytes) -> None:
        data: dict[str, Any] = {k: v for k, v in {"csrf_token": token, "designation": designation,
                                                  "candidates": candidates}.items() if v is not None}
        data["kieskringen"] = kieskringen
        query = {"lijst": existing} if existing is not None else {}
        assert_dutch_page(agent.post("/partij/TK2025/formulier", data=data, query_string=query))
        file_data = {"csrf_token": token, "file": (io.BytesIO(upload), "lijst.eml.xml")}
        assert_dutch_page(agent.post("/partij/TK2025/bestand", data=file_data, content_type="multipart/form-data"))

    run()


def test_page_addresses_headers_and_cookies_with_odd_text(app, login_as, open_tk2025):
    clerk, agent, anonymous = login_as("clerk:GM0392"), login_as("agent:Volt"), app.test_client()

    @settings(FUZZ, max_examples=30)  # eleven requests per example
    @given(segment=st.text(min_size=1, max_size=30), header=header_text)
    @example(segment="\x00", header="\x00")
    @example(segment="\ud800", header="\x7f\x01")
    @example(segment="TK2025", header="x" * 250)
    def run(segment: str, header: str) -> None:
        quoted = quote(segment, safe="", errors="surrogatepass")
        headers = {"X-Fuzz": header, "Accept-Language": header}
        for browser, path in ((clerk, f"/balie/{quoted}/"), (clerk, f"/balie/TK2025/verklaring/{quoted}"),
                              (clerk, f"/balie/TK2025/?gemeente={quoted}"), (agent, f"/partij/{quoted}/lijst/1"),
                              (agent, f"/partij/TK2025/formulier?lijst={quoted}"), (anonymous, f"/verklaren/{quoted}/"),
                              (anonymous, f"/?q={quoted}")):
            # 308: Werkzeug merges the double slash of an encoded "/" in a segment with a redirect
            assert_dutch_page(browser.get(path, headers=headers), ok=(200, 302, 308))
        for cookie in ("steunregister_sid", "steunregister_flask"):
            assert_dutch_page(anonymous.get("/partij", headers={"Cookie": f"{cookie}={quote(header)}"}), ok=(302,))
            assert_dutch_page(anonymous.get("/partij", headers={"Cookie": f"{cookie}={header}"}), ok=(302,))

    run()
