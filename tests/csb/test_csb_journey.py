"""The centraal stembureau from the first declaration to the destruction, driven as its users do:
clerks at the counter and through their municipality's system, voters online, the CSB in its pages
and the API, the purge on the command line. The registry's clock is moved through the legal calendar.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import tempfile
import uuid
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, text

from registry.audit import services as audit
from registry.csb.models import CsbSession, Shortage
from registry.db import db, utcnow
from registry.declarations.models import Declaration
from registry.domain import AMS
from registry.elections import services as elections
from registry.elections.models import CandidateList, District, ListDistrict
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.models import ElectionKeys
from registry.privacy.services import election_cipher
from tests.auth.helpers import bearer_token, login, with_params
from tests.online.helpers import CHOOSE, confirm_data, forget_g_after_each_request, html
from tests.support.privacy_scan import Evidence, assert_no_bsn

LEGAL_BASIS = "Experimentenwet online ondersteuning (test)"
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}


def local(day: Any, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def list_id(designation: str) -> int:
    return db.session.scalar(select(CandidateList.id).where(CandidateList.designation == designation))


def api_post(client: Any, token: str, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}",
                                                 "Idempotency-Key": str(uuid.uuid4())})


def counter_declaration(app: Any, bsn: str, designation: str) -> str:
    """A clerk of Haarlem records a walk-in voter through the three counter steps; returns the receipt code."""
    from tests.test_counter import confirm, step1

    clerk = app.test_client()
    assert login(clerk, "clerk:GM0392").status_code == 200
    step2 = step1(clerk, bsn)
    assert step2.status_code == 200, html(step2)[:400]
    done = confirm(clerk, html(step2), designation)
    assert done.status_code == 303, html(done)[:400]
    receipt = html(clerk.get(done.headers["Location"]))
    return re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt).group(1)


def online_declaration(app: Any, bsn: str, designation: str) -> Any:
    """A voter logs in with (mock) DigiD and declares on the online pages; returns the last answer."""
    from tests.online.helpers import choose

    voter = app.test_client()
    start = voter.get("/login/digid", query_string={"next": CHOOSE})
    authorize = voter.get(with_params(start.location, login_hint=f"bsn:{bsn}"))
    assert voter.get(authorize.location).status_code == 302
    lists = voter.get(CHOOSE)
    if f": {designation}<" not in html(lists):
        return lists  # nothing to choose: the page says why
    page = choose(voter, designation)
    if page.status_code != 200:
        return page
    return voter.post(f"{CHOOSE}vastleggen", data=confirm_data(html(page)))


def csb_form(client: Any, path: str, data: dict[str, str]) -> Any:
    page = html(client.get("/csb/TK2025"))
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def dump_database() -> str:
    """Every row of every table as text (bytes as hex): what a copy of the database would reveal."""
    db.session.rollback()
    parts = []
    for table in inspect(db.engine).get_table_names():
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
            parts.append(" ".join(value.hex() if isinstance(value, bytes | memoryview) else str(value)
                                  for value in (bytes(v) if isinstance(v, memoryview) else v for v in row)))
    return "\n".join(parts)


def test_from_first_declaration_to_destruction(app, session, tk2025, csb_people, clock, cli):
    forget_g_after_each_request(app)
    haarlem, amsterdam, names = csb_people["haarlem"], csb_people["amsterdam"], csb_people["names"]
    real_now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=real_now - timedelta(days=1),
                              window_closes_at=real_now + timedelta(hours=1), online_open=True,
                              online_legal_basis=LEGAL_BASIS)
    volt, pvv = list_id("Volt"), list_id("PVV (Partij voor de Vrijheid)")
    # Volt also submitted its list in kieskring 9 (Amsterdam), the same version as in Haarlem.
    amsterdam_district = session.scalar(select(District).where(District.election_id == tk2025.id,
                                                               District.number == 9))
    haarlem_link = session.get(ListDistrict, (volt, session.scalar(
        select(District.id).where(District.election_id == tk2025.id, District.number == 10))))
    session.add(ListDistrict(list_id=volt, district_id=amsterdam_district.id, version_id=haarlem_link.version_id))
    session.commit()

    # --- the window: counter, municipal system (paper batch), online ------------------------------------
    receipts = [counter_declaration(app, haarlem[0], "Volt")]
    clerk_token = bearer_token(app.test_client(), "clerk:GM0392")
    batch = {"declarations": [
        {"id": f"paper-{i}", "list": volt, "bsn": haarlem[i], "identity_document": PASSPORT,
         "signed_at": (real_now - timedelta(hours=2)).isoformat()} for i in range(1, 32)]}
    answer = api_post(app.test_client(), clerk_token, "/api/v1/elections/TK2025/declarations/batch", batch)
    assert answer.status_code == 200 and answer.get_json()["recorded"] == 31, answer.get_json()
    receipts += [r["result"]["receipt_code"] for r in answer.get_json()["results"]]
    # A multiple signer: Haarlem voter 32 declares online for the PVV, and a paper form of the same voter
    # for Volt arrives later from the municipality's system. Both are kept, both are void.
    assert online_declaration(app, haarlem[32], "PVV (Partij voor de Vrijheid)").status_code == 303
    late_paper = {"declarations": [{"id": "paper-late", "list": volt, "bsn": haarlem[32],
                                    "identity_document": PASSPORT,
                                    "signed_at": (real_now - timedelta(hours=3)).isoformat()}]}
    answer = api_post(app.test_client(), clerk_token, "/api/v1/elections/TK2025/declarations/batch", late_paper)
    assert answer.get_json()["recorded"] == 1
    # Two Amsterdam voters support Volt online, in kieskring 9.
    for voter_bsn in amsterdam[:2]:
        assert online_declaration(app, voter_bsn, "Volt").status_code == 303

    # --- before the examination: the CSB looks and rules one declaration invalid ---------------------------
    member = app.test_client()
    assert login(member, "csb:TK2025").status_code == 200
    overview = html(member.get("/csb/TK2025"))
    assert "<h1>Centraal stembureau: " in overview and "Onderzoek houden" in overview
    multiple = html(member.get("/csb/TK2025/meervoudig"))
    assert multiple.count('class="signer"') == 1 and names[haarlem[32]] in multiple
    assert "PVV (Partij voor de Vrijheid)" in multiple and "Volt" in multiple and "Haarlem" in multiple
    assert "online" in multiple and "bestand van de gemeente" in multiple
    district = html(member.get(f"/csb/TK2025/lijsten/{volt}/kieskring/10"))
    assert names[haarlem[0]] in district and district.count("data-declaration=") == 33
    assert "<td>Haarlem</td>" in district and "GM0392" not in district  # municipalities by name
    ruled = session.scalar(select(Declaration.id).where(Declaration.receipt_code == receipts[5]))
    page = html(member.get(f"/csb/TK2025/verklaringen/{ruled}"))
    assert "verklaring vastgelegd" in page and "declaration.recorded" not in page  # its audit event, in words
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    bad = member.post(f"/csb/TK2025/verklaringen/{ruled}", data={"csrf_token": token, "reason": ""})
    assert bad.status_code == 422 and "Schrijf de reden op." in html(bad)
    ask = member.post(f"/csb/TK2025/verklaringen/{ruled}",
                      data={"csrf_token": token, "reason": "Handtekening ontbreekt op het papieren formulier"})
    # Irreversible: first the confirmation step, naming what will happen; nothing is recorded yet.
    assert ask.status_code == 200 and "Dit kan niet ongedaan worden gemaakt." in html(ask)
    assert f"Verklaring {ruled} voor Lijst" in html(ask)
    assert "“Handtekening ontbreekt op het papieren formulier”" in html(ask)
    assert "ongeldig: andere reden" not in html(member.get(f"/csb/TK2025/verklaringen/{ruled}"))
    done = member.post(f"/csb/TK2025/verklaringen/{ruled}",
                       data={"csrf_token": token, "reason": "Handtekening ontbreekt op het papieren formulier",
                             "confirmed": "1"})
    assert done.status_code == 303
    assert "ongeldig: andere reden" in html(member.get(done.headers["Location"]))

    # Too early for the examination: the window is still open.
    early = csb_form(member, "/csb/TK2025/onderzoek", {"confirm": "y"})
    assert early.status_code == 409 and "Het onderzoek kan pas worden gehouden vanaf" in html(early)

    # --- I 1: the examination -------------------------------------------------------------------------
    closes = tk2025.window_closes_at.astimezone(AMS)
    examination_day = closes.date() + timedelta(days=1)
    clock.travel_to(local(examination_day, 16, 5))
    member = app.test_client()  # a new login after the clock moved
    assert login(member, "csb:TK2025").status_code == 200
    unticked = csb_form(member, "/csb/TK2025/onderzoek", {})
    assert unticked.status_code == 422 and "Vink aan dat het centraal stembureau deze stap nu zet." in html(unticked)
    held = csb_form(member, "/csb/TK2025/onderzoek", {"confirm": "y"})
    assert held.status_code == 303
    assert "Het onderzoek is gehouden" in html(member.get(held.headers["Location"]))

    csb_token = bearer_token(app.test_client(), "csb:TK2025")
    examination = app.test_client().get("/api/v1/elections/TK2025/examination",
                                         headers={"Authorization": f"Bearer {csb_token}"}).get_json()
    assert examination["phase"] == "examined"
    rows = {(r["list_id"], r["kieskring"]): r for item in examination["lists"] for r in item["kieskringen"]}
    # Haarlem: 1 counter + 31 paper + 1 late paper = 33; one voter signed twice, one ruled invalid: 31 valid.
    assert rows[(volt, 10)] | {} == rows[(volt, 10)]
    assert (rows[(volt, 10)]["declarations"], rows[(volt, 10)]["valid"], rows[(volt, 10)]["void_multiple"],
            rows[(volt, 10)]["void_other"], rows[(volt, 10)]["required"], rows[(volt, 10)]["status"]) == \
           (33, 31, 1, 1, 30, "meets")
    assert (rows[(volt, 9)]["valid"], rows[(volt, 9)]["status"], rows[(volt, 9)]["shortage"]) == (2, "short", 28)
    assert (rows[(pvv, 10)]["declarations"], rows[(pvv, 10)]["valid"], rows[(pvv, 10)]["void_multiple"]) == (1, 0, 1)
    assert rows[(pvv, 9)]["status"] == "not_submitted"
    session.rollback()
    notices = session.scalars(select(Shortage).where(Shortage.list_id == volt)).all()
    assert [(n.kieskring, n.shortage) for n in notices] == [(9, 28)]
    report = member.get("/csb/TK2025/documenten/onderzoek.pdf")
    assert report.status_code == 200 and report.data.startswith(b"%PDF")
    assert hashlib.sha256(report.data).hexdigest() == examination["sessions"]["examination"]["report_sha256"]
    notice = member.get(f"/csb/TK2025/lijsten/{volt}/verzuim.pdf")
    assert notice.status_code == 200 and notice.data.startswith(b"%PDF")
    inspection = member.get(f"/csb/TK2025/lijsten/{volt}/inzage.pdf")
    assert inspection.status_code == 200 and inspection.data.startswith(b"%PDF")
    published = Evidence()  # I 3: names, municipality and date; never a BSN (nor, below, a pseudonym)
    published.add("I 3 inspection copy", inspection.data)
    assert_no_bsn(published, haarlem + amsterdam)
    assert not any(key.encode() in inspection.data for key in session.scalars(select(Declaration.voter_key)))

    # --- I 2: repair, only for the notified pair, only in the repair hours --------------------------------
    clock.travel_to(local(examination_day + timedelta(days=1), 8, 30))  # repair day 1, before 09:00
    assert "hersteltermijn" in html(online_declaration(app, amsterdam[2], "Volt"))
    clock.travel_to(local(examination_day + timedelta(days=1), 10, 0))
    assert online_declaration(app, amsterdam[3], "Volt").status_code == 303  # Volt in kieskring 9: notified
    # Volt met its minimum in kieskring 10, so a Haarlem voter is not offered Volt, and the API refuses it.
    offered = html(online_declaration(app, haarlem[35], "Not a list"))
    assert "Lijst 1: PVV (Partij voor de Vrijheid)" in offered and ": Volt<" not in offered
    voter_token = bearer_token(app.test_client(), f"bsn:{haarlem[35]}")
    refused = api_post(app.test_client(), voter_token, "/api/v1/elections/TK2025/declarations", {"list": volt})
    assert refused.status_code == 422 and "hersteltermijn" in refused.get_json()["detail"], refused.get_json()
    # The PVV has no valid declaration in kieskring 10: that shortage was notified, so it can be repaired.
    assert online_declaration(app, haarlem[36], "PVV (Partij voor de Vrijheid)").status_code == 303
    clock.travel_to(local(examination_day + timedelta(days=3), 15, 30))  # day 3 closes at 15:00
    assert "De termijn is gesloten" in html(online_declaration(app, amsterdam[4], "Volt"))

    # --- I 4: the decision -----------------------------------------------------------------------------
    member = app.test_client()
    assert login(member, "csb:TK2025").status_code == 200
    early = csb_form(member, "/csb/TK2025/beslissing", {"confirm": "y"})
    assert early.status_code == 409 and "16.00 uur" in html(early)
    clock.travel_to(local(examination_day + timedelta(days=3), 16, 0))
    member = app.test_client()
    assert login(member, "csb:TK2025").status_code == 200
    decided = csb_form(member, "/csb/TK2025/beslissing", {"confirm": "y"})
    assert decided.status_code == 303
    decision = member.get("/csb/TK2025/beslissing.json").get_json()
    rows = {(r["list_id"], r["kieskring"]): r for item in decision["lists"] for r in item["kieskringen"]}
    assert decision["frozen"] is True
    assert rows[(volt, 10)]["decision"] == "valid" and rows[(volt, 9)]["decision"] == "invalid"
    assert rows[(volt, 9)]["valid"] == 3  # the repair declaration counted
    volt_page = html(member.get(f"/csb/TK2025/lijsten/{volt}"))
    assert re.search(r'data-kieskring="10".*?class="decision">geldig<', volt_page, re.S)
    assert re.search(r'data-kieskring="9".*?class="decision">ongeldig<', volt_page, re.S)
    assert member.get("/csb/TK2025/documenten/beslissing.pdf").data.startswith(b"%PDF")
    # The counts are frozen: nothing more is recorded, and a ruling is refused.
    late = api_post(app.test_client(), clerk_token, "/api/v1/elections/TK2025/declarations/batch",
                    {"declarations": [{"id": "after-decision", "list": volt, "bsn": haarlem[38],
                                       "identity_document": PASSPORT, "signed_at": real_now.isoformat()}]})
    assert late.get_json()["recorded"] == 0 and "beslist" in late.get_json()["results"][0]["result"]["detail"]

    # --- the dossier ------------------------------------------------------------------------------------
    check_dossier(app, csb_token, volt, list(names.values()))

    # --- final, then I 19: destruction ------------------------------------------------------------------
    session.rollback()
    voter_keys = set(session.scalars(select(Declaration.voter_key)))
    ciphertexts = [c.hex() for c in session.scalars(select(Declaration.name_ciphertext)) if c]
    too_early = csb_form(member, "/csb/TK2025/onherroepelijk", {"ground": "geen beroep ingesteld"})
    assert too_early.status_code == 409 and "beroepstermijn" in html(too_early)
    assert cli.invoke(args=["csb", "purge", "TK2025"]).exit_code == 1  # not final yet
    clock.travel_to(local(examination_day + timedelta(days=3 + 5), 9, 0))
    member = app.test_client()
    assert login(member, "csb:TK2025").status_code == 200
    ask = csb_form(member, "/csb/TK2025/onherroepelijk", {"ground": "Geen beroep ingesteld binnen de termijn."})
    assert ask.status_code == 200 and "Bevestig: de beslissing is onherroepelijk" in html(ask)
    assert session.scalar(select(func.count()).select_from(CsbSession)) == 2  # nothing recorded yet
    final = csb_form(member, "/csb/TK2025/onherroepelijk", {"ground": "Geen beroep ingesteld binnen de termijn.",
                                                            "confirmed": "1"})
    assert final.status_code == 303

    dry = cli.invoke(args=["csb", "purge", "TK2025"])
    assert dry.exit_code == 0 and "proefrun" in dry.output and "38 namen" in dry.output, dry.output
    session.rollback()
    assert session.scalar(select(func.count()).where(Declaration.name_ciphertext.is_not(None))) == 38
    purged = cli.invoke(args=["csb", "purge", "TK2025", "--execute"])
    assert purged.exit_code == 0 and "Vernietigd voor TK2025: 38 namen" in purged.output, purged.output
    assert cli.invoke(args=["csb", "purge", "TK2025", "--execute"]).exit_code == 1  # once only

    # Nothing of those people is left: no name, no BSN, no pseudonym, no ciphertext, no receipt code.
    session.rollback()
    dump = dump_database()
    for bsn_value in haarlem + amsterdam:
        assert bsn_value not in dump
        assert names[bsn_value] not in dump
    for secret in voter_keys | set(ciphertexts) | set(receipts):
        assert secret not in dump
    assert session.get(ElectionKeys, tk2025.id) is None
    try:
        election_cipher(session, tk2025)
        raise AssertionError("the election's keys should be gone")
    except ElectionKeysDestroyed:
        pass
    # The counts stand: a recount of what is left gives the decision's numbers.
    from registry.csb.services import examine

    recount = {(r.list_id, r.kieskring): (r.valid, r.void_multiple, r.void_other)
               for r in examine(session, tk2025, live=True).rows}
    assert recount[(volt, 10)] == (31, 1, 1) and recount[(volt, 9)] == (3, 0, 0)
    assert member.get("/csb/TK2025/documenten/vernietiging.pdf").data.startswith(b"%PDF")
    assert "vernietigd" in html(member.get(f"/csb/TK2025/lijsten/{volt}/kieskring/10"))
    assert member.get(f"/csb/TK2025/lijsten/{volt}/inzage.pdf").status_code == 404
    # A dossier made after the destruction still verifies and carries no name, BSN or pseudonym.
    csb_token = bearer_token(app.test_client(), "csb:TK2025")
    after = check_dossier_after_purge(app, csb_token, volt)
    for bsn_value in haarlem + amsterdam:
        assert bsn_value not in after and names[bsn_value] not in after
    for secret in voter_keys | set(receipts):
        assert secret not in after
    assert audit.verify(session).ok
    assert session.scalar(select(func.count()).select_from(CsbSession)) == 4


def check_dossier_after_purge(app: Any, csb_token: str, list_id_: int) -> str:
    response = app.test_client().get(f"/api/v1/elections/TK2025/lists/{list_id_}/dossier",
                                     headers={"Authorization": f"Bearer {csb_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    from registry.dossier import verify as verifier

    assert verifier.verify(io.BytesIO(response.get_data())).ok
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def check_dossier(app: Any, csb_token: str, list_id_: int, names: list[str]) -> bytes:
    """The CSB downloads the list's dossier through the API; the stand-alone verifier (``python -m``,
    no app) accepts it, and refuses it once a single byte is flipped."""
    response = app.test_client().get(f"/api/v1/elections/TK2025/lists/{list_id_}/dossier",
                                     headers={"Authorization": f"Bearer {csb_token}"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    with tempfile.TemporaryDirectory() as folder:
        intact, flipped = Path(folder, "intact.zip"), Path(folder, "flipped.zip")
        intact.write_bytes(data)
        changed = bytearray(data)
        changed[len(changed) // 3] ^= 0x01
        flipped.write_bytes(bytes(changed))
        key = Path(folder, "registry.pem")  # the published key: without it the verifier never says "in orde"
        published = app.test_cli_runner().invoke(args=["dossier", "public-key", "-o", str(key)])
        assert published.exit_code == 0, published.output
        for path, code in ((intact, 0), (flipped, 1)):
            run = subprocess.run([sys.executable, "-m", "registry.dossier.verify", str(path), "--public-key", str(key)],
                                 capture_output=True, text=True, timeout=120)
            assert run.returncode == code, run.stdout + run.stderr
        assert "in orde" in subprocess.run([sys.executable, "-m", "registry.dossier.verify", str(intact),
                                            "--public-key", str(key)],
                                           capture_output=True, text=True, timeout=120).stdout
    # The CSB's copy carries the declarants' names (they are its to examine); the BSN never.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        declarations = archive.read("declarations.json").decode()
    assert any(name in declarations for name in names)
    return data
