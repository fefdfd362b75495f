"""Every route is either on the explicit public list or guarded by a role check (auth.access)."""

from __future__ import annotations

import re
from pathlib import Path

from registry.routes import BLUEPRINTS, DEVELOPMENT, GUARDED, PUBLIC, PUBLIC_ENDPOINTS, mounted

PROJECT = Path(__file__).resolve().parent.parent


def _endpoints(app) -> dict[str, list]:
    rules: dict[str, list] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, []).append(rule)
    return rules


def test_every_route_is_public_or_guarded(app):
    unguarded, both = [], []
    for endpoint, rules in _endpoints(app).items():
        view = app.view_functions[endpoint]
        guarded = getattr(view, "_access", None) is not None
        public = endpoint in PUBLIC_ENDPOINTS
        if not guarded and not public:
            unguarded.append(f"{endpoint} ({', '.join(r.rule for r in rules)})")
        if guarded and public:
            both.append(endpoint)
    assert not unguarded, ("routes that are neither in registry.routes.PUBLIC_ENDPOINTS nor guarded by "
                           f"@role_required/@api_role_required: {unguarded}")
    assert not both, f"routes both public and guarded (which is meant?): {both}"


def test_the_public_list_names_only_routes_that_exist(app):
    stale = PUBLIC_ENDPOINTS - set(_endpoints(app))
    assert not stale, f"PUBLIC_ENDPOINTS names endpoints that do not exist: {sorted(stale)}"


def test_guarded_routes_turn_anonymous_visitors_away(app, client):
    # The marker is not enough: each guarded GET route, opened without a login, must send the visitor to
    # the login page (pages) or answer 401 problem+json (API), never show its content.
    checked = 0
    for endpoint, rules in _endpoints(app).items():
        if getattr(app.view_functions[endpoint], "_access", None) is None:
            continue
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
            response = client.get(path)
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (rule.rule, response.status_code)
                assert response.headers["Content-Type"] == "application/problem+json"
            else:
                assert response.status_code == 302, (rule.rule, response.status_code)
                assert response.location.startswith("/login?next="), (rule.rule, response.location)
            checked += 1
    assert checked >= 5


def test_no_two_routes_claim_the_same_url(app):
    # Werkzeug sends a URL to the first matching rule: a second rule with the same shape and method is
    # unreachable (a placeholder page shadowing a feature's page, or the other way round).
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<(?:[^:>]+:)?[^>]+>", "<>", rule.rule).rstrip("/") or "/"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            other = seen.setdefault((shape, method), rule.endpoint)
            if other != rule.endpoint:
                clashes.append(f"{method} {rule.rule}: {other} and {rule.endpoint}")
    assert not clashes, clashes


def test_placeholder_pages_step_aside_for_a_feature(app):
    from auth import pages

    served = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    for url in pages.PAGES:
        assert url in served or url.rstrip("/") + "/" in served
    # /balie is still the placeholder (the counter serves /balie/<election>/); registering again adds nothing.
    before = len(list(app.url_map.iter_rules()))
    pages.register(app)
    assert len(list(app.url_map.iter_rules())) == before


def test_no_url_takes_an_id_beyond_the_database_integer(app):
    # PostgreSQL refuses to compare 2**31 with an int4 column (a 500 on every page or API call that looked
    # one up); every <int:…> in a URL stops at the column's largest value, so a larger one is a 404.
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import IntegerConverter, RequestRedirect

    from registry.db import MAX_ID

    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        converters = rule._converters  # the rule's own view of its placeholders
        if not any(isinstance(c, IntegerConverter) for c in converters.values()):
            continue
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        for value, matches in ((MAX_ID, True), (MAX_ID + 1, False)):
            values = {name: value if isinstance(c, IntegerConverter) else "TK2025" for name, c in converters.items()}
            path = rule.build(values, append_unknown=False)[1]
            try:
                endpoint, _ = adapter.match(path, method)
            except (NotFound, RequestRedirect):
                endpoint = None
            assert (endpoint == rule.endpoint) is matches, (rule.rule, value, endpoint)
        checked += 1
    assert checked >= 10


def test_the_transparency_log_is_public(app, client):
    # Heads, consistency and inclusion proofs reveal counts and hashes only (docs/transparency.md): anyone may
    # read them without a login; the proof lookup is rate-limited instead.
    public = {"log_api.heads", "log_api.consistency", "log_api.proof", "log_pages.heads_page", "log_pages.proof_page"}
    assert public <= PUBLIC_ENDPOINTS
    for path in ("/api/v1/elections/XX2025/log/heads", "/api/v1/elections/XX2025/log/consistency?first=0&second=0",
                 "/api/v1/elections/XX2025/log/proof?receipt=ABCD-EFGH-JKLM", "/logboek/XX2025",
                 "/logboek/XX2025/bewijs"):
        answer = client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)  # no such election: not "log in first"


# --- the blueprints are registered in one place, next to their access rule ----------------------------------

def test_the_app_mounts_exactly_the_declared_blueprints(app):
    assert list(app.blueprints) == [mount.blueprint.name for mount in mounted(app)]
    # The test app is a development one with the mock issuer: every blueprint of the table is mounted.
    assert list(app.blueprints) == [mount.blueprint.name for mount in BLUEPRINTS]
    assert {mount.access for mount in BLUEPRINTS} == {PUBLIC, GUARDED, DEVELOPMENT}


def test_each_blueprint_keeps_the_access_rule_it_is_declared_with(app):
    by_blueprint = {mount.blueprint.name: mount for mount in BLUEPRINTS}
    for endpoint in app.view_functions:
        name = endpoint.partition(".")[0]
        if name not in by_blueprint:
            continue
        guarded = getattr(app.view_functions[endpoint], "_access", None) is not None
        if by_blueprint[name].access == GUARDED:  # a few views of a guarded blueprint are named public
            assert guarded or endpoint in PUBLIC_ENDPOINTS, endpoint
        else:  # public, and the development-only ones (the mock issuer, the demo panel)
            assert endpoint in PUBLIC_ENDPOINTS and not guarded, endpoint


def test_production_mounts_no_development_blueprint(tmp_path, monkeypatch):
    import os

    from app import create_app
    from tests.prod.test_prod_instances import production_config

    for name in [n for n in os.environ if n.startswith("STEUNREGISTER_")]:
        monkeypatch.delenv(name)
    production = create_app(production_config(tmp_path))
    development_only = {mount.blueprint.name for mount in BLUEPRINTS if mount.access == DEVELOPMENT}
    assert development_only == {"mock_idp", "demo"}
    assert list(production.blueprints) == [m.blueprint.name for m in BLUEPRINTS if m.access != DEVELOPMENT]
    with production.app_context():
        from registry.db import db

        db.engine.dispose()


def test_no_module_but_registry_routes_registers_a_blueprint():
    others = [str(path.relative_to(PROJECT)) for root in ("registry", "auth") for path in (PROJECT / root).rglob("*.py")
              if "register_blueprint(" in path.read_text() and path != PROJECT / "registry" / "routes.py"]
    assert (PROJECT / "app.py").read_text().count("register_blueprint(") == 0
    assert not others, f"blueprints registered outside registry.routes.register_blueprints: {others}"
