"""Real-browser fixtures: the app served over HTTP in a background thread, Debian's chromium driven by
Playwright, axe-core on every page, and a screenshot of every page.

    def test_something(live_server, page, audit, person):
        page.goto(live_server + "/")
        audit.check(page, "home")                    # axe (WCAG 2.0/2.1 A + AA) and a screenshot
        person.click(page.get_by_role("link", name="Inloggen"))   # mouse, or Tab + Enter
        audit.assert_clean()

Each test gets its own freshly migrated database and app, and its own server on a free port; the mock
IdP's issuer is that server's origin, so the whole login runs through the browser. Only on SQLite:
the pages are the same on both backends, the rest of the suite covers PostgreSQL, and a second run
would double the slowest part of the suite. The browser is Debian's chromium (``apt-get install
chromium``); Playwright's own browser download is never used.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from werkzeug.serving import BaseWSGIServer, make_server

from tests.browser.person import Keyboard, Mouse, Person
from tests.conftest import BACKENDS
from tests.online.helpers import open_window
from tests.support import pages

HERE = Path(__file__).resolve().parent
page_audit = pages.page_audit  # the fixture: every HTML page the live server sends is checked too
SCREENSHOTS = HERE / "screenshots"
DOCS_SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
# STEUNREGISTER_UPDATE_DOCS_SCREENSHOTS=1 also writes the pages named in audit.check(..., docs="x")
# to docs/screenshots/x.png (the README shows them); off by default so a test run changes no tracked file.
UPDATE_DOCS = os.environ.get("STEUNREGISTER_UPDATE_DOCS_SCREENSHOTS") == "1"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_databases = itertools.count()
# Some steps render a PDF with WeasyPrint before the next page comes; on a busy two-core CI machine
# that can take longer than Playwright's default 5 s.
expect.set_options(timeout=20_000)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")


def _chromium() -> str:
    found = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("chromium")
    if not found:
        # Fail, not skip: like PostgreSQL, a machine without the browser cannot run the suite.
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; scripts/test.sh does this). "
                    "The browser tests never download a browser.", pytrace=False)
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at Debian's chromium, headless."""
    return {
        **browser_type_launch_args,
        "executable_path": _chromium(),
        "headless": True,
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start;
        # --disable-dev-shm-usage: containers have a tiny /dev/shm.
        "args": ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "nl-NL",
            "timezone_id": "Europe/Amsterdam"}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-base-url's fixture (a deprecated instance-method fixture that warns on every run);
    the tests pass live_server's URL themselves."""
    return None


# --- the app over HTTP ------------------------------------------------------------------------------

class _Deferred:
    """A WSGI app that forwards to the real one once it exists: the server's port must be known before
    the app is created (the mock issuer's URL contains it), and the app only after the port."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def _http_server() -> Iterator[BaseWSGIServer]:
    server = make_server("127.0.0.1", 0, _Deferred(), threaded=True)
    yield server
    server.server_close()


@pytest.fixture(params=[b for b in BACKENDS if b == "sqlite"] or BACKENDS[:1])
def database_url(request: pytest.FixtureRequest, database_templates: dict[str, Any], tmp_path: Path) -> str:
    """A copy of the suite's migrated template database (tests/conftest.py), on SQLite unless that
    backend is switched off."""
    if request.param == "sqlite":
        path = tmp_path / "browser.sqlite"
        shutil.copy(database_templates["sqlite"], path)
        return f"sqlite:///{path}"
    server = database_templates["postgresql"]
    name = f"steun_browser_{os.getpid()}_{next(_databases)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE steun_template")
    return server.url_for(name)


@pytest.fixture
def app_config(app_config: dict[str, Any], _http_server: BaseWSGIServer) -> dict[str, Any]:
    """The suite's config plus the mock issuer at this server's origin (STEUNREGISTER_MOCK_IDP_ISSUER):
    its registered redirect URI becomes http://127.0.0.1:<port>/login/callback."""
    return {**app_config, "MOCK_IDP_ISSUER": f"http://127.0.0.1:{_http_server.server_port}/mock-idp"}


@pytest.fixture
def live_server(app: Any, _http_server: BaseWSGIServer) -> Iterator[str]:
    """The base URL of the running app. Every request runs in a thread of its own, with its own app
    context (and so its own ``g`` and database session), as under gunicorn."""
    _http_server.app.app = app
    thread = threading.Thread(target=_http_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{_http_server.server_port}"
    _http_server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def open_tk2025(session: Any, tk2025: Any) -> Any:
    """TK2025 with the real Haarlem lists (kieskring 10), its window around now and the online channel
    open (committed, so the server's threads see it)."""
    open_window(session, online=True)
    return tk2025


# --- how the person operates the page --------------------------------------------------------------

@pytest.fixture(params=["mouse", "keyboard"])
def person(request: pytest.FixtureRequest) -> Person:
    """Mouse and pointer, or keyboard only (Tab, Shift+Tab, Enter, Space, arrows, typing)."""
    return Mouse() if request.param == "mouse" else Keyboard()


# --- axe and screenshots ------------------------------------------------------------------------------

class Audit:
    """Runs axe-core (WCAG 2.0/2.1 level A and AA rules) on each page of a journey and keeps a full-page
    screenshot of it. Violations are collected so one run lists every page's problems;
    ``assert_clean()`` fails the test when there is any."""

    _axe = Axe()

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pages: list[str] = []
        self.problems: list[str] = []

    def check(self, page: Any, name: str, docs: str | None = None) -> None:
        page.wait_for_load_state("load")
        results = self._axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                               "resultTypes": ["violations"]})
        self.pages.append(f"{name}: {page.url}")
        for violation in results.response["violations"]:
            targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
            self.problems.append(f"[{name}] {violation['id']} ({violation['impact']}): {violation['help']} "
                                 f"— {len(violation['nodes'])}× at {targets} — {page.url}")
        self.folder.mkdir(parents=True, exist_ok=True)
        shot = self.folder / f"{len(self.pages):02d}-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        if docs and UPDATE_DOCS:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, DOCS_SCREENSHOTS / f"{docs}.png")

    def assert_clean(self) -> None:
        if self.problems:
            pytest.fail(f"axe-core found {len(self.problems)} WCAG A/AA violation(s) on {len(self.pages)} "
                        "page(s):\n" + "\n".join(self.problems), pytrace=False)


@pytest.fixture
def audit(request: pytest.FixtureRequest, page_audit: Any) -> Iterator[Audit]:
    # page_audit also checks every HTML page the live server sends: title, one h1, labelled inputs, nonces.
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    yield Audit(folder)
    assert page_audit.pages, "page_audit saw none of the live server's pages"
