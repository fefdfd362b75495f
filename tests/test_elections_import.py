"""Importing the Kiesraad's own EML_NL files, and the settings the files do not carry."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.elections import services as elections
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.eml import EmlError
from tests.conftest import AMS, EML, TK2025_OPEN, import_eml


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_tk2025_definition_imports_with_20_kieskringen_and_its_municipalities(session):
    result = import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    assert result.kind == "110a" and result.election == "TK2025"
    election = elections.get_election(session, "TK2025")
    assert (election.category, election.seats) == ("TK", 150)
    assert str(election.nomination_date) == "2025-09-15" and str(election.election_date) == "2025-10-29"
    assert [d.number for d in election.districts] == list(range(1, 21))
    # 342 municipalities + Bonaire, Sint Eustatius, Saba; the NBSB postal region is not a counter.
    assert count(session, Municipality) == 345
    amsterdam = session.scalar(select(Municipality).where(Municipality.code == "GM0363"))
    assert amsterdam.name == "Amsterdam" and amsterdam.district.name == "Amsterdam"
    bonaire = session.scalar(select(Municipality).where(Municipality.region_number == 9001))
    assert bonaire.district.number == 20
    # H 4 lid 3 default window: 14 days before nomination day through nomination day 17:00 local.
    assert election.window_opens_at == datetime(2025, 9, 1, 0, 0, tzinfo=AMS)
    assert election.window_closes_at == datetime(2025, 9, 15, 17, 0, tzinfo=AMS)
    assert election.online_open is False


def test_tk2025_haarlem_lists_import_into_kieskring_10(session, tk2025):
    lists = session.scalars(select(CandidateList).where(CandidateList.election_id == tk2025.id)).all()
    assert len(lists) == 23
    links = session.scalars(select(ListDistrict)).all()
    assert {link.district.number for link in links} == {10}
    pvv = next(cl for cl in lists if cl.number == 1)
    assert pvv.designation == "PVV (Partij voor de Vrijheid)"
    version = session.scalar(select(ListVersion).where(ListVersion.list_id == pvv.id))
    assert version.candidates[0]["last_name"] == "Wilders" and version.candidates[0]["position"] == 1
    assert sum(len(v.candidates) for v in session.scalars(select(ListVersion))) == 1029


def test_reimporting_the_same_lists_creates_nothing_new(session, tk2025):
    again = import_eml(session, "Kandidatenlijsten_TK2025_Haarlem.eml.xml")
    assert (again.lists_created, again.versions_created) == (0, 0)
    assert count(session, ListVersion) == 23


def test_gr2026_assen_lists_create_their_municipal_election(session):
    result = import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    assert result.created_election and result.lists_created == 13
    election = elections.get_election(session, "GR2026_Assen")
    assert election.category == "GR" and election.seats is None
    assert [(d.number, d.name) for d in election.districts] == [(106, "Assen")]
    assert session.scalar(select(Municipality.code).where(Municipality.election_id == election.id)) == "GM0106"


def test_a_210_nomination_adds_a_list_with_its_candidates(session):
    import_eml(session, "Verkiezingsdefinitie_GR2026_Stadskanaal.eml.xml")
    nomination = (EML / "eml210_test.eml.xml").read_bytes()
    nomination = nomination.replace(b'Id="GR2026_Test"', b'Id="GR2026_Stadskanaal"').replace(
        b'<kr:ElectionDomain Id="0000">Test</kr:ElectionDomain>',
        b'<kr:ElectionDomain Id="0037">Stadskanaal</kr:ElectionDomain>')
    # Submitted before nomination day (2 February 2026) 17:00.
    result = elections.import_file(session, nomination, "nominatie.eml.xml", "test",
                                   now=datetime(2026, 1, 26, 10, 0, tzinfo=AMS))
    assert result.kind == "210" and result.lists_created == 1
    party = session.scalar(select(CandidateList).where(CandidateList.designation == "Test Party"))
    assert party.number is None  # numbers are assigned by the CSB later
    version = session.scalar(select(ListVersion).where(ListVersion.list_id == party.id))
    assert [c["last_name"] for c in version.candidates] == ["Tansen", "Bakker"]


def test_a_changed_list_becomes_a_new_version_and_old_declarations_keep_theirs(session, tk2025):
    changed = (EML / "Kandidatenlijsten_TK2025_Haarlem.eml.xml").read_bytes().replace(
        b"<xnl:FirstName>Geert</xnl:FirstName>", b"<xnl:FirstName>Gerard</xnl:FirstName>", 1)
    result = elections.import_file(session, changed, "gewijzigd.eml.xml", "test", now=TK2025_OPEN)
    assert (result.lists_created, result.versions_created) == (0, 1)
    pvv = session.scalar(select(CandidateList).where(CandidateList.number == 1))
    versions = session.scalars(select(ListVersion).where(ListVersion.list_id == pvv.id)
                               .order_by(ListVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].candidates[0]["first_name"] == "Geert"  # the old version is untouched
    link = session.get(ListDistrict, (pvv.id, session.scalar(select(District.id).where(
        District.election_id == tk2025.id, District.number == 10))))
    assert link.version_id == versions[1].id


@pytest.mark.parametrize(("mutation", "element", "fragment"), [
    (lambda b: b.replace(b"<kr:NominationDate>2025-09-15</kr:NominationDate>", b""), "NominationDate", ""),
    (lambda b: b.replace(b"<kr:NominationDate>2025-09-15", b"<kr:NominationDate>2025-13-15"), "NominationDate", ""),
    (lambda b: b.replace(b"<kr:NominationDate>2025-09-15", b"<kr:NominationDate>2025-11-15"),
     "NominationDate", ""),
    (lambda b: b[: len(b) // 2], None, ""),
    (lambda b: b"", None, ""),
    (lambda b: b.replace(b'Id="110a"', b'Id="510"'), "EML", "510"),
])
def test_a_malformed_definition_is_refused_whole_with_the_element_named(session, mutation, element, fragment):
    data = mutation((EML / "Verkiezingsdefinitie_TK2025.eml.xml").read_bytes())
    with pytest.raises(EmlError) as caught:
        elections.import_file(session, data, "kapot.eml.xml", "test")
    message = str(caught.value)
    assert "kapot.eml.xml" in message
    if element:
        assert element in message
    assert fragment in message
    assert count(session, Election) == 0 and count(session, AuditEvent) == 0


def test_a_list_file_refused_halfway_leaves_nothing_behind(session, tk2025):
    before = (count(session, CandidateList), count(session, ListVersion), count(session, AuditEvent))
    data = (EML / "Kandidatenlijsten_TK2025_Haarlem.eml.xml").read_bytes()
    # Affiliation 5 renamed: the first four are processed before the refusal.
    data = data.replace(b"<RegisteredName>VVD</RegisteredName>", b"<RegisteredName>Andere naam</RegisteredName>")
    data = data.replace(b"<xnl:FirstName>Geert</xnl:FirstName>", b"<xnl:FirstName>Gerard</xnl:FirstName>", 1)
    with pytest.raises(elections.ImportRefused, match="AffiliationIdentifier"):
        elections.import_file(session, data, "hernoemd.eml.xml", "test")
    assert (count(session, CandidateList), count(session, ListVersion), count(session, AuditEvent)) == before


def test_lists_for_an_unknown_election_are_refused(session):
    with pytest.raises(elections.ImportRefused, match="verkiezingsdefinitie"):
        import_eml(session, "Kandidatenlijsten_TK2025_Haarlem.eml.xml")
    assert count(session, Election) == 0


def test_a_definition_is_imported_once(session):
    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    with pytest.raises(elections.ImportRefused, match="bestaat al"):
        import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")


# --- the command line --------------------------------------------------------------------------

def test_cli_import_show_and_settings(cli, session):
    result = cli.invoke(args=["election", "import", str(EML / "Verkiezingsdefinitie_TK2025.eml.xml"),
                              str(EML / "Kandidatenlijsten_TK2025_Haarlem.eml.xml")])
    assert result.exit_code == 0, result.output
    assert "verkiezingsdefinitie ingelezen voor TK2025" in result.output
    assert "23 nieuwe lijsten" in result.output

    result = cli.invoke(args=["election", "set", "TK2025", "--online"])
    assert result.exit_code == 1 and "wettelijke grondslag" in result.output
    result = cli.invoke(args=["election", "set", "TK2025", "--online", "--legal-basis", "Experimentenwet X",
                              "--window-closes", "2025-09-15T16:00"])
    assert result.exit_code == 0, result.output

    result = cli.invoke(args=["election", "exempt", "TK2025", "1", "--basis", "zetel TK2023"])
    assert result.exit_code == 0, result.output

    result = cli.invoke(args=["election", "show", "TK2025"])
    assert result.exit_code == 0, result.output
    assert "2025-09-01 00:00 tot 2025-09-15 16:00" in result.output
    assert "open (grondslag: Experimentenwet X)" in result.output
    assert "PVV (Partij voor de Vrijheid) (kieskringen: 10)  vrijgesteld: zetel TK2023" in result.output


def test_cli_refuses_a_bad_file_with_its_element_and_exit_code(cli, tmp_path, session):
    bad = tmp_path / "kapot.eml.xml"
    bad.write_bytes((EML / "Verkiezingsdefinitie_TK2025.eml.xml").read_bytes().replace(
        b"<kr:ElectionDate>2025-10-29</kr:ElectionDate>", b"<kr:ElectionDate>morgen</kr:ElectionDate>"))
    result = cli.invoke(args=["election", "import", str(bad)])
    assert result.exit_code == 1
    assert "geweigerd, niets ingelezen" in result.output and "ElectionDate" in result.output
    assert count(session, Election) == 0


def test_cli_set_refuses_a_window_that_closes_before_it_opens(cli, session, tk2025):
    result = cli.invoke(args=["election", "set", "TK2025", "--window-opens", "2025-09-20T00:00"])
    assert result.exit_code == 1 and "openen vóór hij sluit" in result.output


def test_exemption_is_refused_for_a_blanco_list_and_without_basis(session, tk2025):
    with pytest.raises(elections.SettingsRefused, match="grondslag"):
        elections.set_exemption(session, "TK2025", 2, True, "", "test")
    blanco = CandidateList(election_id=tk2025.id, number=99, designation=None)
    session.add(blanco)
    session.commit()
    with pytest.raises(elections.SettingsRefused, match="H 4 lid 8"):
        elections.set_exemption(session, "TK2025", 99, True, "zetel", "test")


def test_settings_changes_are_audited(session, tk2025):
    elections.update_settings(session, "TK2025", "csb:TK2025:jan", seats=150)
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.actor) == ("election.settings_changed", "csb:TK2025:jan")
