"""Security headers come from one place (registry/security.py) and are on every kind of answer: a page,
an API answer and a PDF. Templates carry no inline script or style without the CSP nonce, and every
form that posts carries a CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

from flask import render_template_string

from registry.elections.models import CandidateList
from tests.auth.helpers import auth_header

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PDF_TEMPLATES = TEMPLATES / "pdf"  # rendered by WeasyPrint on the server, never served as a page
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";"))}


def assert_common_headers(response, hsts: bool = True) -> None:
    csp = policy(response)
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and NONCE.search(csp[directive]), csp[directive]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert ("Strict-Transport-Security" in response.headers) is hsts
    if hsts:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_page_has_every_header_and_is_never_cached(client, session):
    first, second = client.get("/"), client.get("/")
    assert first.status_code == 200 and first.mimetype == "text/html"
    assert_common_headers(first)
    assert first.headers["Cache-Control"] == "no-store"
    nonces = {NONCE.search(r.headers["Content-Security-Policy"]).group(1) for r in (first, second)}
    assert len(nonces) == 2  # a fresh nonce per request
    assert "'nonce-" in policy(first)["script-src"] and "'self'" in policy(first)["form-action"]


def test_error_pages_have_them_too(client, session):
    for response in (client.get("/bestaat-niet"), client.post("/logout", data={})):
        assert response.status_code in (400, 404)
        assert_common_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_an_api_answer_has_them_and_is_never_cached(client, session):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert_common_headers(answer)
    assert answer.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/whoami", headers=auth_header("not-a-token"))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert_common_headers(refused)
    assert refused.headers["Cache-Control"] == "no-store"


def test_a_personal_api_answer_is_never_cached(client, session, api_token):
    answer = client.get("/api/v1/whoami", headers=auth_header(api_token("bsn:999900146")))
    assert answer.status_code == 200
    assert_common_headers(answer)
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_pdf_has_them_and_is_never_cached(login_as, session, tk2025):
    clerk = login_as("clerk:GM0392")
    list_id = session.query(CandidateList.id).order_by(CandidateList.id).first()[0]
    pdf = clerk.get(f"/balie/TK2025/papier/{list_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert_common_headers(pdf)
    assert pdf.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_but_not_sniffable(client, session):
    css = client.get("/static/css/steunregister.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in css.headers.get("Cache-Control", "")
    css.close()


def test_no_hsts_in_development_only(app_config, session):
    from app import create_app

    development = create_app({**app_config, "ENV": "development"})
    response = development.test_client().get("/healthz")
    assert_common_headers(response, hsts=False)


def test_the_nonce_in_the_page_is_the_one_in_the_header(app, session):
    # A probe page rendered like any template, before the app has served a request.
    app.add_url_rule("/_nonce_probe", "nonce_probe", lambda: render_template_string(
        '<script nonce="{{ csp_nonce() }}" src="/static/x.js"></script>'
        '<style nonce="{{ csp_nonce() }}">p {}</style>'))
    response = app.test_client().get("/_nonce_probe")
    header = NONCE.search(response.headers["Content-Security-Policy"]).group(1)
    assert re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True)) == [header, header]


# --- the templates themselves ------------------------------------------------------------------------

def served_templates() -> list[Path]:
    return [path for path in sorted(TEMPLATES.rglob("*.html")) if PDF_TEMPLATES not in path.parents]


def test_no_template_has_an_inline_script_or_style_without_the_nonce():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, re.I):
            if "src=" not in tag and 'nonce="{{ csp_nonce() }}"' not in tag:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
        if path in served_templates():
            for tag in re.findall(r"<style\b[^>]*>", text, re.I):
                if 'nonce="{{ csp_nonce() }}"' not in tag:
                    offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
            offenders += [f"{path.relative_to(TEMPLATES)}: style attribute" for _ in re.findall(r"\sstyle=", text)]
            offenders += [f"{path.relative_to(TEMPLATES)}: inline event handler {handler}"
                          for handler in re.findall(r"\son[a-z]+=", text)]
    assert not offenders, "blocked by the Content-Security-Policy:\n" + "\n".join(offenders)


def test_every_form_that_posts_carries_a_csrf_token():
    missing = []
    for path in served_templates():
        for form in re.findall(r"<form\b.*?</form>", path.read_text(), re.S | re.I):
            opening = form[:form.index(">") + 1].lower()
            if 'method="post"' in opening and "csrf_token" not in form:
                missing.append(f"{path.relative_to(TEMPLATES)}: {opening}")
    assert not missing, "forms without a CSRF token:\n" + "\n".join(missing)
