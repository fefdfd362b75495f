"""The demo calendar (issue 16): the demo election walks from its open window to the I 19 purge, by the
command line and by the start page's panel, with every CSB session held by the CSB's own services and
every step an audit event; production has none of it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from registry import demo_calendar
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.csb.models import CsbSession
from registry.db import set_clock_offset, utcnow
from registry.declarations.models import Declaration
from registry.demo import eighteen_years_before
from registry.domain import AMS
from registry.domain.eligibility import is_of_age
from registry.people import person_registry
from tests.conftest import bsn
from tests.demo.conftest import advance
from tests.online.helpers import csrf, html


def status(cli: Any) -> str:
    result = cli.invoke(args=["demo", "status"])
    assert result.exit_code == 0, result.output
    return result.output


def events(session: Any) -> list[str]:
    session.rollback()
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("csb.%")
                                                               | AuditEvent.action.like("demo.%"))
                                .order_by(AuditEvent.seq)))


def test_the_command_line_walks_the_demo_from_its_window_to_the_purge(cli, session, demo):
    assert "(open)" in status(cli)
    out = advance(cli, "--to", "closed")
    assert "dag van kandidaatstelling voorbij" in out and "17:30" in out
    local_now = utcnow().astimezone(AMS)
    assert local_now.date() == demo.nomination_date and local_now.hour == 17

    out = advance(cli, "--to", "examined")
    assert "onderzoek (art. I 1) gehouden" in out
    assert local_now.date() < utcnow().astimezone(AMS).date()

    # Straight to day 2 of the repair: day 1 is passed on the way, nothing is held twice.
    out = advance(cli, "--to", "repair-2")
    assert "herstel van verzuim, dag 2" in out and "10:00" in out
    assert "(repair-2)" in status(cli)
    assert advance(cli).count("herstel van verzuim, dag 3") == 1  # no --to: the next phase
    out = advance(cli, "--to", "decided")
    assert "beslissing (art. I 4) genomen" in out and "16:05" in out
    out = advance(cli, "--to", "purged")
    assert "vastgelegd dat de beslissing onherroepelijk is" in out and "verklaringen vernietigd" in out

    kinds = list(session.scalars(select(CsbSession.kind).where(CsbSession.election_id == demo.id)
                                 .order_by(CsbSession.id)))
    assert kinds == ["examination", "decision", "final", "purge"]
    assert events(session) == [
        "demo.clock_advanced",  # closed
        "demo.clock_advanced", "csb.examination_held",  # the examination at its moment
        "demo.clock_advanced",  # repair day 2
        "demo.clock_advanced",  # repair day 3
        "demo.clock_advanced", "csb.decision_taken",
        "demo.clock_advanced", "csb.decision_final",
        "demo.clock_advanced", "csb.purged",
    ]
    assert audit.verify(session).ok
    # The sessions stand at the law's moments: the examination the day after nomination day, 16.05 uur.
    held = {row.kind: row.held_at.astimezone(AMS) for row in session.scalars(select(CsbSession))}
    assert held["examination"].date() == demo.nomination_date + timedelta(days=1)
    assert (held["examination"].hour, held["examination"].minute) == (16, 5)
    assert held["decision"].date() == demo.nomination_date + timedelta(days=4)


def test_the_calendar_only_goes_forward(cli, session, demo):
    advance(cli, "--to", "repair-1")
    refused = cli.invoke(args=["demo", "advance", "--to", "closed"])
    assert refused.exit_code != 0
    assert "De kalender gaat alleen vooruit" in refused.output
    assert "(repair-1)" in status(cli)
    # Asking for the phase it is in changes nothing.
    before = len(events(session))
    advance(cli, "--to", "repair-1")
    assert len(events(session)) == before


def test_a_new_process_runs_on_the_recorded_demo_clock(cli, session, demo, monkeypatch):
    advance(cli, "--to", "repair-1")
    moved = utcnow()
    # As a server started afterwards: real time, and nothing taken over yet, until it reads the record.
    set_clock_offset(timedelta(0))
    monkeypatch.setattr(demo_calendar, "_applied", None)
    demo_calendar.apply_recorded_offset(session)
    assert abs(utcnow() - moved) < timedelta(seconds=30)
    set_clock_offset(timedelta(0))
    monkeypatch.setattr(demo_calendar, "_applied", None)
    assert "(repair-1)" in status(cli)  # the command line reads the record too
    # A clock set by hand (a test's) stays until a new record comes.
    demo_calendar.apply_recorded_offset(session)
    set_clock_offset(timedelta(0))
    demo_calendar.apply_recorded_offset(session)
    assert abs(utcnow() - moved) > timedelta(days=1)


def test_without_a_demo_the_command_says_what_to_do(cli, session, tk2025):
    refused = cli.invoke(args=["demo", "advance"])
    assert refused.exit_code != 0 and "flask --app app demo load" in refused.output


def test_the_start_page_panel_moves_the_demo_on(client, session, demo):
    page = html(client.get("/"))
    assert "Demokalender (alleen in ontwikkeling)" in page
    assert "termijn open: verklaringen afleggen" in page
    options = re.findall(r'<option value="([a-z0-9-]+)"', page)
    assert options == ["closed", "examined", "repair-1", "repair-2", "repair-3", "decided", "final", "purged"]

    moved = client.post("/demo/kalender", data={"csrf_token": csrf(page), "to": "repair-1"})
    assert moved.status_code == 302 and moved.location.endswith("/#demokalender")
    page = html(client.get("/"))
    assert "De demo staat nu in de fase: herstel van verzuim, dag 1 (art. I 2)." in page
    assert re.findall(r'<option value="([a-z0-9-]+)"', page)[0] == "repair-2"
    assert session.scalar(select(func.count()).select_from(CsbSession)) == 1  # the examination

    back = client.post("/demo/kalender", data={"csrf_token": csrf(page), "to": "open"})
    assert back.status_code == 302
    assert "De kalender gaat alleen vooruit" in html(client.get("/"))
    # A post without the CSRF token moves nothing.
    assert client.post("/demo/kalender", data={"to": "purged"}).status_code in (400, 403)
    assert session.scalar(select(func.count()).select_from(CsbSession)) == 1


def test_the_start_page_has_no_panel_without_a_demo(client, session, tk2025):
    assert "Demokalender" not in html(client.get("/"))


def test_production_has_no_demo_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from app import create_app
    from registry.db import db
    from tests.prod.test_prod_instances import production_config

    for name in [n for n in os.environ if n.startswith("STEUNREGISTER_")]:
        monkeypatch.delenv(name)
    app = create_app(production_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite'}"))
    assert "demo.advance_page" not in app.view_functions
    with app.app_context():
        assert app.test_client().post("/demo/kalender", data={"to": "purged"}).status_code == 404
        refused = app.test_cli_runner().invoke(args=["demo", "advance", "--to", "purged"])
        db.engine.dispose()
    assert refused.exit_code != 0
    assert "alleen in ontwikkeling en tests, niet in productie" in refused.output


def test_the_person_who_turns_18_on_election_day_does_so_on_the_demos_election_day(app, session, demo):
    registry = person_registry()
    turns_18 = registry.lookup(bsn("turns_18_on_election_day"))
    day_after = registry.lookup(bsn("turns_18_day_after_election_day"))
    assert turns_18.birth_date == eighteen_years_before(demo.election_date)
    assert day_after.birth_date == eighteen_years_before(demo.election_date + timedelta(days=1))


def test_the_person_who_turns_18_on_election_day_is_of_age_the_other_not(app, session, demo):
    registry = person_registry()
    assert is_of_age(registry.lookup(bsn("turns_18_on_election_day")).birth_date, demo.election_date)
    assert not is_of_age(registry.lookup(bsn("turns_18_day_after_election_day")).birth_date, demo.election_date)


def test_a_declaration_made_in_the_window_is_destroyed_by_the_purge_the_demo_holds(app, cli, session, demo):
    from tests.online.helpers import confirm_data, digid_login

    choose_url = f"/verklaren/{demo.identifier}/"
    voter = app.test_client()
    assert digid_login(voter, "voter_haarlem_1", next_url=choose_url).status_code == 302
    page = html(voter.get(choose_url))
    value = re.search(r'value="(\d+)"[^>]*>\s*<label[^>]*>Lijst \d+: [^<]*Piratenpartij', page)
    if value is None:  # the Haarlem lists carry other names; take the first offered list
        value = re.search(r'name="list_id"[^>]*value="(\d+)"', page)
    confirm = voter.post(f"{choose_url}bevestigen", data={"csrf_token": csrf(page), "list_id": value.group(1)})
    assert confirm.status_code == 200, html(confirm)[:400]
    done = voter.post(f"{choose_url}vastleggen", data=confirm_data(html(confirm)))
    assert done.status_code == 303
    advance(cli, "--to", "purged")
    session.rollback()
    row = session.scalar(select(Declaration))
    assert row.name_ciphertext is None and row.voter_key.startswith("purged-")
