"""What a clerk or a municipal system learns about a person who is not theirs: only "not registered here".

The attack: a Haarlem clerk (or Amsterdam's system) sends the BSNs of people living elsewhere and reads the
refusal for BRP facts: a court's exclusion from the vote, a death, an age, the municipality of residence.
"""

from __future__ import annotations

import re

import pytest

from tests.auth.helpers import login, mock_client_secret, system_token
from tests.conftest import bsn
from tests.test_api import counter_body, declare
from tests.test_counter import step1

ELSEWHERE = ("excluded_from_voting", "minor", "deceased", "voter_utrecht_1", "registered_abroad", "not_in_brp",
             "eu_citizen_belgian")
BRP_FACTS = re.compile(r"uitgesloten|overleden|18 jaar|nationaliteit|Utrecht|Amsterdam|Haarlem|RNI|buitenland",
                       re.IGNORECASE)


def alert(html: str) -> str:
    return re.search(r'<p class="outcome[^"]*">(.*?)</p>', html, re.S).group(1)


def test_a_clerk_learns_nothing_about_people_of_other_municipalities(client, session, open_tk2025):
    login(client, "clerk:GM0344")  # Utrecht; "deceased" lives in Haarlem, the others elsewhere too
    answers = set()
    for case in set(ELSEWHERE) - {"excluded_from_voting", "voter_utrecht_1"}:  # not Utrecht's own residents
        html = step1(client, bsn(case)).get_data(as_text=True)
        assert "outcome--not-registered-here" in html
        answers.add(alert(html))
    assert answers == {"Deze persoon staat niet ingeschreven in deze gemeente. Een verklaring aan de balie kan "
                       "alleen in de gemeente waar de kiezer staat ingeschreven (art. H 4 lid 3)."}
    assert not BRP_FACTS.search(answers.pop())


def test_the_haarlem_clerk_gets_the_same_answer_for_an_excluded_utrecht_resident(client, session, open_tk2025):
    login(client, "clerk:GM0392")
    excluded = step1(client, bsn("excluded_from_voting")).get_data(as_text=True)
    ordinary = step1(client, bsn("voter_utrecht_1")).get_data(as_text=True)
    assert alert(excluded) == alert(ordinary) and "outcome--not-registered-here" in excluded
    assert not BRP_FACTS.search(alert(excluded)) and "uitgesloten" not in excluded


def test_at_the_own_counter_an_exclusion_is_not_named(client, session, open_tk2025):
    login(client, "clerk:GM0344")  # the excluded person's own municipality
    html = step1(client, bsn("excluded_from_voting")).get_data(as_text=True)
    assert "outcome--not-eligible" in html and "geen ondersteuningsverklaring afleggen" in alert(html)
    assert "uitgesloten" not in html.lower() and "kiesrecht" not in alert(html)


@pytest.mark.parametrize("case", ELSEWHERE)
def test_a_municipal_system_gets_only_not_registered_here(app, client, session, open_tk2025, case):
    token = system_token(client, "gemeente-GM0363", mock_client_secret(app, "gemeente-GM0363"))
    response = declare(client, token, counter_body(session, case))
    body = response.get_json()
    if case == "minor" or case == "eu_citizen_belgian":  # Amsterdam's own residents: the real reason
        assert response.status_code == 422 and body["type"].endswith("not-eligible")
        return
    assert response.status_code == 422 and body["type"].endswith("not-registered-here")
    assert set(body) == {"type", "title", "status", "detail"}  # no municipality, no reason
    assert not BRP_FACTS.search(body["detail"])


def test_a_municipal_system_is_not_told_of_its_own_residents_exclusion(client, session, open_tk2025, api_token):
    token = api_token("clerk:GM0344")
    response = declare(client, token, counter_body(session, "excluded_from_voting"))
    body = response.get_json()
    assert response.status_code == 422 and body["type"].endswith("not-eligible") and body["reason"] == "withheld"
    assert "uitgesloten" not in body["detail"] and "kiesrecht" not in body["detail"]
