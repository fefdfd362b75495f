"""GET /api/v1/me/declarations: a voter's own declarations, with status; nothing about anyone else."""

from __future__ import annotations

from registry.problems import PROBLEM_BASE
from tests.auth.helpers import auth_header, bearer_token
from tests.conftest import bsn
from tests.online.helpers import declare, voter
from tests.party.helpers import at_counter


def test_a_voter_gets_their_own_declarations_with_status(app, client, session, open_tk2025):
    token = bearer_token(client, f"bsn:{bsn('voter_haarlem_1')}")
    assert client.get("/api/v1/me/declarations", headers=auth_header(token)).get_json() == []
    declare(voter(app, "voter_haarlem_1"), "Volt")
    at_counter("voter_haarlem_2", "DENK")  # someone else's: never in this voter's answer
    body = client.get("/api/v1/me/declarations", headers=auth_header(token)).get_json()
    assert len(body) == 1
    mine = body[0]
    assert (mine["election"], mine["designation"], mine["kieskring"], mine["channel"], mine["status"]) == \
        ("TK2025", "Volt", 10, "online", "registered")
    assert set(mine) == {"election", "list", "number", "designation", "kieskring", "municipality", "channel",
                         "recorded_at", "receipt_code", "status"}
    at_counter("voter_haarlem_1", "DENK", paper=True)  # a kept paper declaration voids both
    body = client.get("/api/v1/me/declarations", headers=auth_header(token)).get_json()
    assert [d["status"] for d in body] == ["void-multiple", "void-multiple"]
    assert bsn("voter_haarlem_1") not in str(body)


def test_only_voters_may_ask(client, session, open_tk2025):
    clerk = bearer_token(client, "clerk:GM0392")
    response = client.get("/api/v1/me/declarations", headers=auth_header(clerk))
    assert response.status_code == 403 and response.get_json()["type"] == PROBLEM_BASE + "forbidden"
    assert client.get("/api/v1/me/declarations").status_code == 401


def test_the_answers_match_the_openapi_document(app, client, session, open_tk2025):
    import jsonschema

    spec = client.get("/api/v1/openapi.json").get_json()
    declare(voter(app, "voter_haarlem_1"), "Volt")
    token = bearer_token(client, f"bsn:{bsn('voter_haarlem_1')}")
    for item in client.get("/api/v1/me/declarations", headers=auth_header(token)).get_json():
        jsonschema.validate(item, {"$ref": "#/components/schemas/MyDeclaration", "components": spec["components"]})
    assert "/me/declarations" in spec["paths"] and "/elections/{election}/lists/{list}/progress" in spec["paths"]
