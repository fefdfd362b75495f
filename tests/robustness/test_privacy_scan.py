"""After a realistic day, no BSN of anyone involved is anywhere: not in the database, not in the logs,
not in any answer or export.

The day: a clerk records walk-in voters (one typed with dots, one refused because they live elsewhere,
one who already declared, a typing error), a voter declares online and looks at their receipt and "Mijn
verklaring", a municipal system posts declarations and a batch of paper ones over the API (with a
replay, refusals and a kept duplicate), a party agent follows the progress and prints model H 4, and
the audit chain is verified from the command line. Every log record goes to a file at DEBUG (SQL
statements with their parameters included), every HTTP answer of the app is kept (body, headers, the
decoded session cookie; PDFs also as text), then every table is dumped (and pg_dump on PostgreSQL) and
all of it is searched for every BSN used, also in written forms like 999.900.183 and 9999.00.183.

One exception, checked on its own: a form with a typing error shows the clerk what they typed, in the
input field of that one answer, which is never stored (Cache-Control: no-store).
"""

from __future__ import annotations

import io
import logging
import re
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from auth.models import AuthSession
from registry.db import utcnow
from registry.declarations.models import IdempotencyKey
from registry.elections.models import CandidateList
from tests.auth.helpers import auth_header, bearer_token
from tests.conftest import bsn
from tests.online.helpers import CHOOSE, csrf, declare, hidden, list_value, voter
from tests.support.privacy_scan import Evidence, assert_no_bsn, bsn_forms, database_dump, record_responses, scan

COUNTER = "/balie/TK2025/"
API = "/api/v1/elections/TK2025"
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}
TYPO_BSN = "999900184"  # fails the 11-proof


def dotted(number: str, groups: tuple[int, ...] = (4, 2, 3)) -> str:
    parts, start = [], 0
    for size in groups:
        parts.append(number[start:start + size])
        start += size
    return ".".join(parts)


class LogToFile:
    """Every record of every logger at DEBUG into one file, as a deployment's file handler would write it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setLevel(logging.DEBUG)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.saved: dict[str, int] = {}

    def __enter__(self) -> LogToFile:
        root = logging.getLogger()
        self.saved = {name: logging.getLogger(name or None).level
                      for name in ("", "registry", "sqlalchemy.engine", "fontTools")}
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)
        logging.getLogger("registry").setLevel(logging.DEBUG)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)  # statements, parameters and rows
        logging.getLogger("fontTools").setLevel(logging.INFO)  # font subsetting chatter, megabytes of it
        return self

    def __exit__(self, *_exc: Any) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        self.handler.close()
        for name, level in self.saved.items():
            logging.getLogger(name or None).setLevel(level)


def typed_back(evidence: Evidence, response: Any, typed: str) -> None:
    """The one allowed echo: the clerk's own typing in the BSN field of the form that refused it. That
    answer goes into the evidence without the field; anything else in it is still scanned."""
    evidence.take_back(f"POST {COUNTER} → 422")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "no-store" in response.headers.get("Cache-Control", ""), \
        "a page that shows a typed BSN back must not be stored"
    field = re.search(r'<input[^>]*name="bsn"[^>]*>', page).group(0)
    assert f'value="{typed}"' in field
    evidence.add("counter: a typing error shown back, minus the clerk's own typing", page.replace(field, ""))


def counter_day(login_as: Any, evidence: Evidence) -> list[str]:
    clerk = login_as("clerk:GM0392")
    token = csrf(clerk.get(COUNTER).get_data(as_text=True))

    def step1(number: str, document_number: str = "NW4K82PL1") -> Any:
        return clerk.post(COUNTER, data={"csrf_token": token, "bsn": number, "document_type": "paspoort",
                                         "document_number": document_number}, follow_redirects=True)

    walk_in = bsn("voter_haarlem_1")
    step2 = step1(dotted(walk_in))
    page = step2.get_data(as_text=True)
    assert step2.status_code == 200 and "Brouwer-de Jong" in page, page[:500]
    done = clerk.post(f"{COUNTER}vastleggen", data={
        "csrf_token": token, "token": hidden(page, "token"), "submission": hidden(page, "submission"),
        "list_id": list_value(page, "Volt"), "identity_checked": "y"})
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    receipt = clerk.get(done.location)
    code = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt.get_data(as_text=True)).group(1)
    assert clerk.get(f"{COUNTER}verklaring/{code}.pdf").data.startswith(b"%PDF")
    assert "al een" in step1(walk_in).get_data(as_text=True)  # already declared
    elsewhere = step1(bsn("voter_amsterdam_1")).get_data(as_text=True)
    assert "niet ingeschreven in deze gemeente" in elsewhere and "Amsterdam" not in elsewhere  # nothing more
    typed_back(evidence, step1(TYPO_BSN), TYPO_BSN)
    typed_back(evidence, step1(bsn("voter_haarlem_3"), document_number="12"), bsn("voter_haarlem_3"))
    assert clerk.get(f"{COUNTER}overzicht").status_code == 200
    return [walk_in, bsn("voter_amsterdam_1"), TYPO_BSN, bsn("voter_haarlem_3")]


def online_day(app: Any) -> list[str]:
    number = bsn("voter_haarlem_2")
    browser = voter(app, "voter_haarlem_2")
    done = declare(browser, "DENK")
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    receipt = browser.get(done.location).get_data(as_text=True)
    code = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt).group(1)
    assert browser.get(f"{CHOOSE}ontvangstbewijs/{code}.pdf").data.startswith(b"%PDF")
    assert browser.get("/mijn-verklaring").status_code == 200
    token = bearer_token(app.test_client(), f"bsn:{number}")
    mine = app.test_client().get("/api/v1/me/declarations", headers=auth_header(token))
    assert mine.status_code == 200 and len(mine.get_json()) == 1
    return [number]


def api_day(app: Any, session: Any) -> list[str]:
    client = app.test_client()
    token = bearer_token(client, "clerk:GM0392")
    volt = session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt"))

    def post(number: str, key: str | None = None) -> Any:
        return client.post(f"{API}/declarations", json={"list": volt, "bsn": number, "identity_document": PASSPORT},
                           headers={**auth_header(token), "Idempotency-Key": key or str(uuid.uuid4())})

    spaced = " ".join((bsn("voter_haarlem_3")[:3], bsn("voter_haarlem_3")[3:6], bsn("voter_haarlem_3")[6:]))
    first = post(spaced, key="privacy-1")
    assert first.status_code == 201, first.get_json()
    assert post(spaced, key="privacy-1").headers.get("Idempotent-Replayed") == "true"
    assert post(bsn("minor")).status_code == 422
    assert post(bsn("not_in_brp")).status_code == 422
    assert post(TYPO_BSN).status_code == 422

    signed = (utcnow() - timedelta(hours=1)).isoformat()
    items = [{"id": f"paper-{i}", "list": volt, "bsn": number, "identity_document": PASSPORT, "signed_at": signed}
             for i, number in enumerate([bsn("dual_nationality"), bsn("voter_haarlem_1"), bsn("not_in_brp"),
                                         bsn("voter_amsterdam_2")])]
    batch = client.post(f"{API}/declarations/batch", json={"declarations": items}, headers=auth_header(token))
    assert batch.status_code == 200 and batch.get_json()["recorded"] == 2, batch.get_json()  # one a kept duplicate
    return [bsn(case) for case in ("voter_haarlem_3", "minor", "not_in_brp", "dual_nationality", "voter_haarlem_1",
                                   "voter_amsterdam_2")]


def party_day(app: Any, login_as: Any, session: Any) -> None:
    volt = session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt"))
    agent = login_as("agent:Volt")
    assert agent.get("/partij").status_code == 200
    assert agent.get(f"/partij/TK2025/lijst/{volt}").status_code == 200
    assert agent.get(f"/partij/TK2025/lijst/{volt}/model-h4-kieskring-10.pdf").data.startswith(b"%PDF")
    token = bearer_token(app.test_client(), "agent:Volt")
    progress = app.test_client().get(f"{API}/lists/{volt}/progress", headers=auth_header(token))
    assert progress.status_code == 200, progress.get_json()


def csb_day(app: Any, login_as: Any, session: Any, cli: Any, evidence: Evidence, folder: Path) -> None:
    """The CSB examines every page of the day's declarations and takes every export it can: the
    examination (page and API), a list's declarations with names, one declaration with its audit
    events, the multiple signers, and the dossier by API and command line. (The I 3 inspection copy
    exists only after the decision: tests/csb/test_csb_journey.py scans it with the purge.)"""
    volt = session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt"))
    member = login_as("csb:TK2025")
    pages = ["/csb/TK2025", f"/csb/TK2025/lijsten/{volt}", "/csb/TK2025/meervoudig"]
    for path in pages:
        assert member.get(path).status_code == 200, path
    district = member.get(f"/csb/TK2025/lijsten/{volt}/kieskring/10").get_data(as_text=True)
    assert "Brouwer-de Jong" in district  # the CSB sees names; never a BSN
    declaration = re.search(r'href="(/csb/TK2025/verklaringen/\d+)"', district)
    assert declaration, district[:500]
    assert member.get(declaration.group(1)).status_code == 200
    token = bearer_token(app.test_client(), "csb:TK2025")
    assert app.test_client().get(f"{API}/examination", headers=auth_header(token)).status_code == 200
    dossier = app.test_client().get(f"{API}/lists/{volt}/dossier", headers=auth_header(token))
    assert dossier.status_code == 200, dossier.get_data(as_text=True)[:300]
    add_zip(evidence, "export: dossier (API)", dossier.get_data())
    target = folder / "dossier-cli.zip"
    built = cli.invoke(args=["dossier", "build", "TK2025", f"id:{volt}", "-o", str(target)])
    assert built.exit_code == 0, built.output
    evidence.add("cli: dossier build", built.output)
    add_zip(evidence, "export: dossier (command line)", target.read_bytes())


def add_zip(evidence: Evidence, name: str, data: bytes) -> None:
    """Each member on its own (they are deflated in the ZIP), the PDF cover also as text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "declarations.csv" in archive.namelist()
        for member in archive.namelist():
            evidence.add(f"{name}: {member}", archive.read(member))


def test_the_scanner_finds_every_written_form():
    number = bsn("voter_haarlem_1")
    for form in ("999900183", "999.900.183", "9999.00.183", "999 900 183", "9999 00 183", "999-900-183"):
        assert form in bsn_forms(number)
        evidence = Evidence()
        evidence.add("sample", f"… de kiezer {form} …".encode("utf-16-le"))
        assert scan(evidence, [number]), form
    assert not scan(Evidence([("other", b"1999900183 is een ander getal? nee: 99990018")]), ["999900184"])


def test_no_bsn_anywhere_after_a_full_day(app, session, cli, login_as, open_tk2025, app_config, tmp_path):
    evidence = Evidence()
    record_responses(app, evidence)
    log_file = tmp_path / "steunregister.log"
    used: list[str] = []
    with LogToFile(log_file):
        used += counter_day(login_as, evidence)
        used += online_day(app)
        used += api_day(app, session)
        party_day(app, login_as, session)
        verify = cli.invoke(args=["audit", "verify"])
        assert verify.exit_code == 0, verify.output
        evidence.add("cli: audit verify", verify.output)
        csb_day(app, login_as, session, cli, evidence, tmp_path)
    session.remove()

    log = log_file.read_bytes()
    assert b"INSERT INTO declarations" in log and b"registry" in log, "the log should show the whole day"
    evidence.add("log file", log)
    dump = database_dump(app_config["DATABASE_URL"])
    assert any(b"burgemeester-note" in content for content in dump.values()), "the dump should hold the day"
    for name, content in dump.items():
        evidence.add(name, content)

    # The stored API and form answers: scoped by a keyed hash, never by a login subject, which is the same
    # in every election and would link a voter's choices across them.
    session.rollback()
    stored = session.execute(select(IdempotencyKey.scope, IdempotencyKey.election)).all()
    subjects = set(session.scalars(select(AuthSession.subject)))
    assert len(stored) >= 5 and len(subjects) >= 3 and {election for _scope, election in stored} == {"TK2025"}
    for scope, _election in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", scope), scope
        assert not any(subject in scope or subject.split(":")[-1] in scope for subject in subjects)

    pdfs = [name for name in evidence.names() if name.endswith("(PDF streams)")]
    assert len(pdfs) >= 3, evidence.names()  # two receipts and a model H 4
    answers = [name for name in evidence.names() if name.startswith(("GET ", "POST "))]
    assert len(answers) > 30, answers
    assert_no_bsn(evidence, used)


def test_the_access_log_holds_no_receipt_code_bsn_or_query_string(tmp_path):
    """gunicorn as docs/deploy.md starts it, its access log on stdout: a receipt code in a path (the receipt
    pages) is masked, like a BSN, and the query string is never written."""
    from tests.conftest import TEST_MASTER_KEY
    from tests.support.servers import AppServer, Http

    env = {"STEUNREGISTER_ENV": "test", "STEUNREGISTER_DATABASE_URL": f"sqlite:///{tmp_path / 'log.sqlite'}",
           "STEUNREGISTER_INSTANCE_PATH": str(tmp_path / "instance"), "STEUNREGISTER_MASTER_KEY": TEST_MASTER_KEY,
           "STEUNREGISTER_SECRET_KEY": "k" * 40}
    code, number = "K7QP-M2XW-9RTB", bsn("voter_haarlem_1")
    paths = [f"/verklaren/TK2025/ontvangstbewijs/{code}", f"/balie/TK2025/verklaring/{code}.pdf",
             f"/balie/TK2025/verklaring/{code.lower()}", f"/x/{number}?bsn={number}&code={code}"]
    with AppServer(env, workers=1, log_dir=tmp_path).start() as server:
        http = Http(server.url)
        for path in paths:
            assert http.get(path).status < 500
        server.stop(graceful=True)  # the access log line is written after the answer: let it finish
    log = server.log.read_text()
    assert log.count('"GET /verklaren/TK2025/ontvangstbewijs/****-****-**** HTTP/1.1"') == 1, log[-2000:]
    assert "\"GET /x/********* HTTP/1.1\"" in log, log  # the path, without its query string
    for secret in (code, code.lower(), number, "bsn=", "code="):
        assert secret not in log
