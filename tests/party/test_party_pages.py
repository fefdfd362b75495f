"""The party agent: progress per kieskring (counts only), their own lists only, registering a list from
an EML 210 file or a form, versions, and the pre-filled paper form."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from registry.elections import services as elections
from registry.elections.models import CandidateList, District, ListDistrict, ListVersion
from registry.party.models import ListAgent
from tests.conftest import EML, bsn
from tests.online.helpers import csrf, list_id
from tests.party.helpers import at_counter, html, nomination_210, row, version_declarations


def page_of(client, designation: str) -> str:
    response = client.get(f"/partij/TK2025/lijst/{list_id(designation)}")
    assert response.status_code == 200, response.status_code
    return html(response)


def counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(CandidateList)),
            session.scalar(select(func.count()).select_from(ListVersion)),
            session.scalar(select(func.count()).select_from(ListDistrict)))


def upload(client, data: bytes, filename: str = "kandidaatstelling.eml.xml"):
    form = html(client.get("/partij/TK2025/bestand"))
    return client.post("/partij/TK2025/bestand", data={"csrf_token": csrf(form), "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def fill_in(client, candidates: str, kieskringen: list[str], designation: str = "", lijst: int | None = None):
    url = "/partij/TK2025/formulier" + (f"?lijst={lijst}" if lijst else "")
    form = html(client.get(url))
    return client.post(url, data={"csrf_token": csrf(form), "designation": designation, "kieskringen": kieskringen,
                                  "candidates": candidates})


def test_an_agent_sees_valid_declarations_per_kieskring_and_never_who(login_as, session, open_tk2025):
    at_counter("voter_haarlem_1", "Volt")
    at_counter("voter_haarlem_2", "Volt")
    at_counter("voter_haarlem_3", "Volt")
    at_counter("voter_haarlem_3", "DENK", paper=True)  # a second declaration: both of this voter's are void
    agent = login_as("agent:Volt")
    page = page_of(agent, "Volt")
    assert "<h1>Lijst 14: Volt</h1>" in page and page.count("<h1>") == 1
    assert row(page, 10) == {"valid": "2", "required": "30",
                             "status": "nog 28 nodig (1 ongeldig: kiezer heeft meer dan één verklaring)"}
    for secret in ("Brouwer", bsn("voter_haarlem_1"), bsn("voter_haarlem_3")):
        assert secret not in page
    assert version_declarations(page, 1) == 3


def test_agents_of_one_party_cannot_see_another_partys_lists(login_as, session, open_tk2025):
    at_counter("voter_haarlem_1", "DENK")
    agent = login_as("agent:Volt")
    denk = list_id("DENK")
    for url in (f"/partij/TK2025/lijst/{denk}", f"/partij/TK2025/lijst/{denk}/model-h4-kieskring-10.pdf",
                f"/partij/TK2025/formulier?lijst={denk}"):
        response = agent.get(url)
        assert response.status_code == 403 and "<h1>Geen toegang</h1>" in html(response), url
        assert "DENK" not in html(response)
    assert agent.get("/partij/TK2025/lijst/999999").status_code == 403  # not even whether it exists


def test_the_index_lists_only_the_agents_own_lists(login_as, session, open_tk2025):
    at_counter("voter_haarlem_1", "Volt")
    agent = login_as("agent:Volt")
    text = html(agent.get("/partij"))
    assert "<h1>Uw kandidatenlijsten</h1>" in text
    assert "Lijst 14: Volt (Tweede Kamer der Staten-Generaal 2025)" in text and "DENK" not in text
    assert "0 van 1" in text and ">1</td>" in text  # kieskringen with enough; valid declarations
    assert 'href="/partij/TK2025/bestand"' in text and 'href="/partij/TK2025/formulier"' in text


def test_an_exempt_list_shows_vrijgesteld(login_as, session, open_tk2025):
    elections.set_exemption(session, "TK2025", 1, True, "zetel bij TK2023", "test")
    agent = login_as(f"agent:{list_id('PVV (Partij voor de Vrijheid)')}")
    page = page_of(agent, "PVV (Partij voor de Vrijheid)")
    assert row(page, 10)["required"] == "vrijgesteld" and row(page, 10)["status"] == "vrijgesteld"
    assert "zetel bij TK2023" in page


def test_the_pre_filled_model_h4_per_kieskring(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    page = page_of(agent, "Volt")
    link = re.search(r'href="(/partij/TK2025/lijst/\d+/model-h4-kieskring-10\.pdf)"', page).group(1)
    pdf = agent.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    missing = agent.get(link.replace("kieskring-10", "kieskring-9"))
    assert missing.status_code == 404 and "doet niet mee in kieskring 9" in html(missing)


def test_an_eml_210_file_registers_a_new_list_linked_to_the_agents_organisation(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    done = upload(agent, nomination_210("Nieuwe Partij"))
    assert done.status_code == 303, html(done)
    created = session.scalar(select(CandidateList).where(CandidateList.designation == "Nieuwe Partij"))
    assert done.location == f"/partij/TK2025/lijst/{created.id}?ingediend=nieuw"
    page = html(agent.get(done.location))  # the roles of this login predate the list: list_agents links it
    assert "Uw lijst is ingediend" in page and row(page, 10) == {"valid": "0", "required": "30",
                                                                 "status": "nog 30 nodig"}
    link = session.scalar(select(ListAgent).where(ListAgent.list_id == created.id))
    assert link.created_by.startswith(f"agent:{list_id('Volt')}:") and link.organisation
    assert login_as("agent:Volt").get(done.location).status_code == 200  # a colleague of the same party
    assert login_as("agent:DENK").get(done.location).status_code == 403  # another party
    version = session.scalar(select(ListVersion).where(ListVersion.list_id == created.id))
    assert [c["last_name"] for c in version.candidates] == ["Tansen", "Bakker"]


@pytest.mark.parametrize(("data", "expected"), [
    (b"<EML", "niet ingelezen"),
    ((EML / "Kandidatenlijsten_TK2025_Haarlem.eml.xml").read_bytes(), "EML 230b"),
    ((EML / "Verkiezingsdefinitie_TK2025.eml.xml").read_bytes(), "EML 110a"),
    (nomination_210("DENK"), "u bent daarvan geen gemachtigde"),
    (nomination_210("Nieuwe Partij", contest="99"), "geen kieskring 99"),
])
def test_a_refused_file_says_why_in_dutch_and_changes_nothing(login_as, session, open_tk2025, data, expected):
    agent = login_as("agent:Volt")
    before = counts(session)
    response = upload(agent, data)
    assert response.status_code == 422 and expected in html(response), html(response)[-1500:]
    assert "Niet ingediend" in html(response)
    assert counts(session) == before


def test_a_file_for_another_election_is_refused(login_as, session, open_tk2025):
    from tests.conftest import import_eml

    import_eml(session, "Verkiezingsdefinitie_GR2026_Stadskanaal.eml.xml")
    agent = login_as("agent:Volt")
    response = upload(agent, nomination_210("Nieuwe Partij", election="GR2026_Stadskanaal"))
    assert response.status_code == 422 and "is voor verkiezing GR2026_Stadskanaal" in html(response)


def test_the_form_registers_a_new_list_in_the_chosen_kieskringen(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    done = fill_in(agent, "van der Velde, V.C., Texel\nJansen, AB, Diemen\n", ["9", "10"], "Partij van de Toekomst")
    assert done.status_code == 303, html(done)
    created = session.scalar(select(CandidateList).where(CandidateList.designation == "Partij van de Toekomst"))
    kieskringen = session.scalars(select(District.number).join(ListDistrict, ListDistrict.district_id == District.id)
                                  .where(ListDistrict.list_id == created.id).order_by(District.number)).all()
    assert kieskringen == [9, 10]
    version = session.scalar(select(ListVersion).where(ListVersion.list_id == created.id))
    assert [(c["prefix"], c["last_name"], c["initials"], c["locality"]) for c in version.candidates] == \
        [("van der", "Velde", "V.C.", "Texel"), (None, "Jansen", "A.B.", "Diemen")]
    page = html(agent.get(done.location))
    assert row(page, 9)["required"] == "30" and row(page, 10)["valid"] == "0"


def test_form_mistakes_are_shown_per_line_and_nothing_is_written(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    before = counts(session)
    response = fill_in(agent, "Jansen, A.B., Diemen\nPietersen Diemen\nKlaas, 12, Ede", [], "X")
    text = html(response)
    assert response.status_code == 422 and "Kies ten minste één kieskring" in text
    response = fill_in(agent, "Jansen, A.B., Diemen\nPietersen Diemen\nKlaas, 12, Ede", ["10"], "X")
    text = html(response)
    assert response.status_code == 422
    assert "Regel 2: schrijf &#39;Achternaam, Voorletters, Woonplaats&#39;" in text and "Regel 3: &#39;12&#39;" in text
    assert "Pietersen Diemen" in text  # what was typed is kept
    assert counts(session) == before


def test_a_changed_list_is_a_new_version_and_old_declarations_stay_with_the_old_one(login_as, session,
                                                                                   open_tk2025):
    at_counter("voter_haarlem_1", "Volt")
    agent = login_as("agent:Volt")
    volt = list_id("Volt")
    form = html(agent.get(f"/partij/TK2025/formulier?lijst={volt}"))
    assert "al 1 verklaring." in form
    current = re.search(r'<textarea[^>]*>\r?\n?(.*?)</textarea>', form, re.S).group(1)
    unchanged = fill_in(agent, current.replace("&#39;", "'"), ["10"], lijst=volt)
    assert unchanged.status_code == 303 and unchanged.location.endswith("ingediend=ongewijzigd")
    lines = current.replace("&#39;", "'").splitlines()
    swapped = "\n".join([lines[1], lines[0], *lines[2:]])
    done = fill_in(agent, swapped, ["10"], lijst=volt)
    assert done.status_code == 303 and done.location.endswith("ingediend=versie")
    page = html(agent.get(done.location))
    assert "nieuwe versie" in page
    assert row(page, 10)["valid"] == "0" and "1 voor een eerdere versie" in row(page, 10)["status"]
    assert version_declarations(page, 1) == 1 and version_declarations(page, 2) == 0
    versions = session.scalars(select(ListVersion).where(ListVersion.list_id == volt).order_by(ListVersion.version))
    first, second = versions.all()
    assert first.candidates[0]["last_name"] == "Dassen" and second.candidates[0]["last_name"] == "Koekkoek"
    assert second.candidates[0]["first_name"] == "Marieke"  # what the form cannot carry is kept


def test_another_partys_list_name_cannot_be_taken_over_by_the_form(login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    before = counts(session)
    response = fill_in(agent, "Jansen, A.B., Diemen", ["10"], "DENK")
    assert response.status_code == 422 and "geen gemachtigde" in html(response)
    assert counts(session) == before


def test_after_the_window_lists_cannot_be_registered(login_as, session, tk2025):
    agent = login_as("agent:Volt")  # TK2025's own window closed in 2025
    page = html(agent.get("/partij/TK2025/formulier"))
    assert "De termijn is voorbij" in page
    response = fill_in(agent, "Jansen, A.B., Diemen", ["10"], "Laatkomers")
    assert response.status_code == 422 and "De termijn is voorbij" in html(response)


def test_voters_and_clerks_cannot_use_the_party_pages(login_as, session, open_tk2025):
    volt = list_id("Volt")
    voter = login_as(f"bsn:{bsn('voter_haarlem_1')}")
    assert voter.get(f"/partij/TK2025/lijst/{volt}").status_code == 403
    clerk = login_as("clerk:GM0392")
    assert clerk.get(f"/partij/TK2025/lijst/{volt}").status_code == 403
    assert clerk.get("/partij/TK2025/bestand").status_code == 403
