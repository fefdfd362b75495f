"""Production shape: gunicorn started with the project's gunicorn.conf.py, several instances behind one
database, a configuration that production refuses, and the request size limit — all over real HTTP."""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.auth.helpers import with_params
from tests.conftest import TEST_MASTER_KEY
from tests.online.helpers import confirm_data, csrf, list_value
from tests.prod.conftest import Deployment, Http
from tests.support.servers import PROJECT, AppServer, ServerFailed

CHOOSE = "/verklaren/TK2025/"
# Every instance is reached under one public name, as behind the proxy of docs/deploy.md; under test
# that name is the mock issuer's (http://localhost/mock-idp), so the login stays on one "site".
PUBLIC_HOST = "localhost"


def digid_login(browser: Http, number: str) -> None:
    """The browser presses "Inloggen met DigiD"; the mock DigiD logs in as ``number``; back at CHOOSE."""
    start = browser.get(f"/login/digid?next={CHOOSE}")
    assert start.status == 302, start.text[:300]
    # The answers name http://localhost/...; the browser sends the path to the instance it talks to.
    authorize = browser.get(with_params(start.location, login_hint=f"bsn:{number}"))
    assert authorize.status == 302, authorize.text[:300]
    callback = browser.get(authorize.location)
    assert callback.status == 302 and urlsplit(callback.location).path == CHOOSE, callback.text[:300]


def problem_slug(answer) -> str:
    assert answer.headers.get("content-type", "").startswith("application/problem+json"), answer.text[:300]
    return answer.json()["type"].rsplit("/", 1)[-1]


def test_two_instances_on_one_database_are_one_registry(deployment: Deployment):
    """Sessions, the one-declaration rule and tokens hold across instances; both refuse an oversized body."""
    a, b = deployment.start(2, workers=1, MAX_REQUEST_BYTES=str(64 * 1024))
    voter = deployment.voters[0]
    browser = Http(a.url, host=PUBLIC_HOST)
    digid_login(browser, voter)

    # The same browser on instance b: the login lives in auth_sessions, not in a's memory, and the
    # CSRF token of a's page is signed with the shared SECRET_KEY.
    on_b = browser.on(b.url)
    choose = on_b.get(CHOOSE)
    assert choose.status == 200, choose.text[:500]
    confirm = on_b.post_form(f"{CHOOSE}bevestigen", {"csrf_token": csrf(choose.text),
                                                     "list_id": list_value(choose.text, "Volt")})
    assert confirm.status == 200, confirm.text[:500]
    recorded = browser.post_form(f"{CHOOSE}vastleggen", confirm_data(confirm.text))  # confirmed on a
    assert recorded.status == 303, recorded.text[:500]
    receipt = on_b.get(recorded.location)
    assert receipt.status == 200 and "Volt" in receipt.text

    # The one-declaration rule holds across instances: a Haarlem clerk through b is refused ...
    clerk = Http(b.url).post_json(deployment.declarations, deployment.counter_body(voter, "DENK"),
                                  deployment.api(deployment.clerk))
    assert clerk.status == 409 and problem_slug(clerk) == "already-declared"
    # ... and so is the voter on a, who is told so before choosing anything.
    again = browser.get(CHOOSE)
    assert again.status == 200 and "al een verklaring afgelegd" in again.text

    # Logging out on b ends the session everywhere: a sends the browser to the login page.
    page = on_b.get(CHOOSE)
    logout = on_b.post_form("/logout", {"csrf_token": csrf(page.text)})
    assert logout.status in (302, 303)
    after = browser.get(CHOOSE)
    assert after.status == 302 and urlsplit(after.location).path == "/login"

    # A staff login (eHerkenning) on b works on a.
    staff = Http(b.url, host=PUBLIC_HOST)
    start = staff.get("/login/eherkenning?next=/balie")
    authorize = staff.get(with_params(start.location, login_hint="clerk:GM0392"))
    assert staff.get(authorize.location).status == 302
    assert staff.get("/balie").status == 200 and staff.on(a.url).get("/balie").status == 200

    # API tokens: one voter recorded through each instance by the back-office system; the clerk's
    # attempt for the same voter through the other instance is refused.
    first, second = deployment.voters[1:3]
    for server, other, number in ((a, b, first), (b, a, second)):
        answer = Http(server.url).post_json(deployment.declarations, deployment.counter_body(number),
                                            deployment.api(deployment.system))
        assert answer.status == 201, answer.text
        answer = Http(other.url).post_json(deployment.declarations, deployment.counter_body(number),
                                           deployment.api(deployment.clerk))
        assert answer.status == 409 and problem_slug(answer) == "already-declared"

    # STEUNREGISTER_MAX_REQUEST_BYTES (64 kB here): 413 as problem+json under /api/, a Dutch page elsewhere.
    body = {"declarations": [deployment.paper_item("p-1", deployment.voters[3])], "note": "x" * 70_000}
    api = Http(a.url).post_json(deployment.batch, body, deployment.api(deployment.system, None))
    assert api.status == 413 and problem_slug(api) == "request-too-large"
    assert "64 kB" in api.json()["detail"]
    page = Http(b.url).post_form("/verklaren/TK2025/bevestigen", {"list_id": "1", "padding": "x" * 70_000})
    assert page.status == 413 and page.headers["content-type"].startswith("text/html")
    assert "Te veel gegevens verstuurd" in page.text and "64 kB" in page.text


# --- what production refuses --------------------------------------------------------------------------

def production_config(tmp_path: Path, **extra: str | None) -> dict[str, str | None]:
    return {"ENV": "production", "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}", "SECRET_KEY": "k" * 40,
            "MASTER_KEY": TEST_MASTER_KEY, "OIDC_ISSUER": "https://broker.example", "OIDC_CLIENT_SECRET": "s3cret",
            "OIDC_REDIRECT_URI": "https://steunregister.example/login/callback",
            "OIDC_POST_LOGOUT_REDIRECT_URI": "https://steunregister.example/uitgelogd", **extra}


REFUSED = {
    "no secret key": ({"SECRET_KEY": None}, "STEUNREGISTER_SECRET_KEY is not set"),
    "one-character secret key": ({"SECRET_KEY": "k"}, "STEUNREGISTER_SECRET_KEY must be at least 32 bytes"),
    "31-byte secret key": ({"SECRET_KEY": "k" * 31}, "STEUNREGISTER_SECRET_KEY must be at least 32 bytes"),
    "environment 'prod'": ({"ENV": "prod"}, "STEUNREGISTER_ENV must be one of development, test, production"),
    "environment with a trailing space": ({"ENV": "production "}, "STEUNREGISTER_ENV must be one of"),
    "environment in capitals": ({"ENV": "Production"}, "STEUNREGISTER_ENV must be one of"),
    "no redirect URI": ({"OIDC_REDIRECT_URI": None}, "STEUNREGISTER_OIDC_REDIRECT_URI is not set"),
    "plain http redirect URI": ({"OIDC_REDIRECT_URI": "http://steunregister.example/login/callback"},
                                "STEUNREGISTER_OIDC_REDIRECT_URI must be https://"),
    "no logout URI": ({"OIDC_POST_LOGOUT_REDIRECT_URI": None},
                      "STEUNREGISTER_OIDC_POST_LOGOUT_REDIRECT_URI is not set"),
    "plain http logout URI": ({"OIDC_POST_LOGOUT_REDIRECT_URI": "http://steunregister.example/uitgelogd"},
                              "STEUNREGISTER_OIDC_POST_LOGOUT_REDIRECT_URI must be https://"),
    "no master key": ({"MASTER_KEY": None}, "no master key"),
    "master key file missing": ({"MASTER_KEY": None, "MASTER_KEY_FILE": "/nonexistent/master.key"}, "does not exist"),
    "master key too short": ({"MASTER_KEY": "c2hvcnQ="}, "must be 32 bytes"),
    "mock issuer": ({"MOCK_IDP": "1"}, "mock identity provider"),
    "plain http issuer": ({"OIDC_ISSUER": "http://broker.example"}, "must be an https:// URL"),
    "no client secret": ({"OIDC_CLIENT_SECRET": None}, "no client secret"),
    "size limit not a number": ({"MAX_REQUEST_BYTES": "6MB"}, "STEUNREGISTER_MAX_REQUEST_BYTES"),
    "proxy hops not a number": ({"PROXY_HOPS": "yes"}, "STEUNREGISTER_PROXY_HOPS"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_production_refuses_to_start_without_what_docs_deploy_lists(tmp_path, monkeypatch, case):
    from app import create_app

    for name in [n for n in os.environ if n.startswith("STEUNREGISTER_")]:
        monkeypatch.delenv(name)  # only what the case sets
    changes, message = REFUSED[case]
    with pytest.raises(RuntimeError) as refused:
        create_app(production_config(tmp_path, **changes))
    assert message in str(refused.value)


def test_gunicorn_stops_at_start_when_create_app_refuses(tmp_path):
    # gunicorn.conf.py builds the app as each worker boots: a refused configuration never listens.
    env = {f"STEUNREGISTER_{k}": v for k, v in production_config(tmp_path, MOCK_IDP="1").items() if v is not None}
    server = AppServer(env, workers=1, log_dir=tmp_path)
    with pytest.raises(ServerFailed) as failed:
        server.start(timeout=30)
    server.stop()
    assert "mock identity provider" in str(failed.value)
    assert server.process is not None and server.process.returncode != 0


def test_a_production_instance_with_the_master_key_from_a_file_starts_without_the_mock(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(TEST_MASTER_KEY + "\n")
    key_file.chmod(0o600)
    config = production_config(tmp_path, MASTER_KEY=None, MASTER_KEY_FILE=str(key_file))
    env = {f"STEUNREGISTER_{k}": v for k, v in config.items() if v is not None}
    with AppServer(env, workers=1, log_dir=tmp_path).start() as server:
        http = Http(server.url)
        assert http.get("/healthz").status == 200
        assert http.get("/mock-idp/.well-known/openid-configuration").status == 404
        # Fully up: the API answers (here: no valid token) with its problem+json.
        answer = http.get("/api/v1/elections", headers={"Authorization": "Bearer nope"})
        assert answer.status == 401 and problem_slug(answer) == "invalid-token"


def test_the_deploy_guide_names_what_an_operator_must_set():
    deploy = (PROJECT / "docs" / "deploy.md").read_text()
    for needed in ("gunicorn -c gunicorn.conf.py", "flask --app app db upgrade", "STEUNREGISTER_MASTER_KEY_FILE",
                   "STEUNREGISTER_SECRET_KEY", "STEUNREGISTER_RATE_LIMIT_STORAGE", "STEUNREGISTER_PROXY_HOPS",
                   "STEUNREGISTER_MAX_REQUEST_BYTES", "auth_sessions", "/healthz"):
        assert needed in deploy, needed


# --- request size --------------------------------------------------------------------------------------

def test_a_5_mb_party_file_still_fits_under_the_default_limit(app, session, tk2025, login_as):
    """The default STEUNREGISTER_MAX_REQUEST_BYTES lets the largest file the party page takes reach it
    (which then answers in its own words); a larger upload gets the 413 page."""
    from registry.party.services import MAX_FILE_BYTES
    from tests.online.helpers import forget_g_after_each_request, open_window

    forget_g_after_each_request(app)
    open_window(session)
    agent = login_as("agent:Volt")

    def upload(size: int):
        form = agent.get("/partij/TK2025/bestand").get_data(as_text=True)
        return agent.post("/partij/TK2025/bestand", data={"csrf_token": csrf(form),
                                                          "file": (io.BytesIO(b"x" * size), "lijst.eml.xml")})

    fits = upload(MAX_FILE_BYTES)
    assert fits.status_code == 422 and "Niet ingediend" in fits.get_data(as_text=True)
    too_large = upload(app.config["MAX_CONTENT_LENGTH"] + 1)
    assert too_large.status_code == 413 and "Te veel gegevens verstuurd" in too_large.get_data(as_text=True)


# --- behind a reverse proxy ----------------------------------------------------------------------------

@pytest.mark.parametrize("hops", ["0", "1"])
def test_the_client_address_behind_a_proxy_is_used_only_when_configured(app_config, hops):
    """STEUNREGISTER_PROXY_HOPS=1: each voter behind the proxy has their own per-address limit.
    0 (the default): X-Forwarded-For is ignored, so nobody escapes a limit by forging it."""
    import random

    from app import create_app
    from registry.db import db

    application = create_app({**app_config, "PROXY_HOPS": hops, "RATE_LIMIT_PER_ADDRESS": "2 per minute"})
    proxy, voter_1, voter_2 = (f"10.{random.randrange(256)}.{random.randrange(256)}.{n}" for n in (1, 2, 3))
    client = application.test_client()

    def visit(forwarded_for: str) -> int:
        return client.get("/verklaren/", headers={"X-Forwarded-For": forwarded_for},
                          environ_base={"REMOTE_ADDR": proxy}).status_code

    statuses = [visit(voter_1), visit(voter_1), visit(voter_2), visit(voter_1)]
    expected = [200, 200, 200, 429] if hops == "1" else [200, 200, 429, 429]
    assert statuses == expected
    with application.app_context():
        db.engine.dispose()


def test_production_never_builds_the_login_uris_from_the_host_header(tmp_path, monkeypatch):
    """A forged Host header must not become the callback or logout address the broker is sent."""
    from app import create_app
    from auth.rp import services

    for name in [n for n in os.environ if n.startswith("STEUNREGISTER_")]:
        monkeypatch.delenv(name)
    app = create_app(production_config(tmp_path))
    with app.test_request_context("/login/digid", headers={"Host": "evil.example"}):
        assert services.redirect_uri() == "https://steunregister.example/login/callback"
        assert services.post_logout_redirect_uri() == "https://steunregister.example/uitgelogd"
        assert services.logout_url(None) == "https://steunregister.example/uitgelogd"
