"""Page language: Dutch (B1) by default, English when the visitor chooses it.

    from registry.i18n import init_i18n
    init_i18n(app)                 # in the app factory

The choice lives in one cookie (``steunregister_lang``), set by the language switch in the page header:
a plain link to ``/taal/<code>?next=<this page>``, so it works without JavaScript. Templates use ``_()``
(Flask-Babel's gettext); the English catalogue is translations/en/LC_MESSAGES/messages.po.

Catalogues are compiled at install (``pybabel compile -d translations`` in scripts/run.sh and
scripts/test.sh). When the compiled .mo is missing or older than its .po (a fresh checkout, an edit to
the .po), init_i18n compiles it once itself, atomically, so English never silently shows stale text; if
that is impossible (read-only install, broken .po) the pages fall back to Dutch and a warning is logged.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale, refresh
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from registry.calendar_utils import AMS, dutch_date, dutch_time
from registry.domain.elections import BLANK_LIST

log = logging.getLogger("registry.i18n")

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LANGUAGE = "nl"
# code -> the language's own name, as the switch shows it (in that language, with lang= set on the link)
LANGUAGES: dict[str, str] = {"nl": "Nederlands", "en": "English"}
COOKIE = "steunregister_lang"
EXTENSION = "steunregister.languages"
COOKIE_MAX_AGE = 365 * 24 * 3600


def available_languages() -> dict[str, str]:
    """The languages this installation can show: Dutch, and each language whose catalogue compiled."""
    from flask import current_app

    return current_app.extensions.get(EXTENSION, {DEFAULT_LANGUAGE: LANGUAGES[DEFAULT_LANGUAGE]})


def selected_language() -> str:
    if not has_request_context():  # the command line, jobs: Dutch
        return DEFAULT_LANGUAGE
    value = request.cookies.get(COOKIE, "")
    return value if value in available_languages() else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in available_languages() else DEFAULT_LANGUAGE


def has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)


# Dates on pages: one style, "5 december 2026" and "15.00 uur" in Dutch, "5 December 2026" and "15:00" on
# English pages. Printed documents stay Dutch (registry.calendar_utils.dutch_date).
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")


def page_date(value: date | datetime) -> str:
    if not has_request_context() or current_language() != "en":
        return dutch_date(value)
    day = value.astimezone(AMS).date() if isinstance(value, datetime) else value
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def page_time(value: datetime) -> str:
    if not has_request_context() or current_language() != "en":
        return dutch_time(value)
    return f"{value.astimezone(AMS):%H:%M}"


def count(n: int, one: str, many: str) -> str:
    """``1 gemeente``, ``2 gemeenten``: a number with its noun, for the command line and the printed
    documents (Dutch only; ``counted`` in templates). Pages use ngettext."""
    return f"{n} {one if n == 1 else many}"


# A list's label is built in Dutch ("Lijst 1: PVV", a blanco list "blanco lijst") and kept that way in
# the I 4 snapshot, the PDFs and the dossier; a page says it in its own language when it renders it.
_DUTCH_LIST_LABEL = re.compile(r"Lijst (\d+): (.+)", re.DOTALL)


def page_list_label(label: str | None) -> str:
    """``Lijst 1: PVV`` → ``List 1: PVV`` on an English page (the filter ``list_label``)."""
    from flask_babel import gettext

    if not label or not has_request_context() or current_language() == DEFAULT_LANGUAGE:
        return label or ""
    found = _DUTCH_LIST_LABEL.fullmatch(label)
    name = found.group(2) if found else label
    if name == BLANK_LIST:
        name = gettext("blanco lijst")
    return gettext("Lijst %(number)s: %(name)s", number=found.group(1), name=name) if found else name


def page_datetime(value: datetime) -> str:
    return f"{page_date(value)}, {page_time(value)}"


def safe_next(target: str | None) -> str:
    """A path on this site to return to after switching language; anything else goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def switch_url(code: str) -> str:
    """The language switch link for this page: back to this same page, if it can be fetched with GET
    (after a form post it cannot, and the switch leads to the home page)."""
    from flask import current_app, url_for

    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        adapter = current_app.url_map.bind("localhost")
        try:
            adapter.match(request.path, method="GET")
        except RequestRedirect:
            pass
        except HTTPException:
            target = "/"
    return url_for("public.language", code=code, next=target)


def compile_catalogues(directory: Path | None = None) -> set[str]:
    """Compile every messages.po whose messages.mo is missing or older (see the module docstring).
    Returns the languages that have a compiled catalogue now."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    directory = directory or TRANSLATIONS_DIR
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        try:
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            fd, temporary = tempfile.mkstemp(dir=po.parent, prefix=".messages-", suffix=".mo")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; it is no secret
            os.replace(temporary, mo)  # atomic: several workers may start at once
        except Exception:  # a broken or read-only catalogue must never stop the app: Dutch still works
            log.warning("could not compile %s; pages in that language fall back to Dutch", po, exc_info=True)
    return {mo.parent.parent.name for mo in directory.glob("*/LC_MESSAGES/messages.mo")}


def init_i18n(app: Flask) -> None:
    compiled = compile_catalogues()
    # Offered (in the switch, and honoured from the cookie) only with a catalogue: an English page
    # that says lang="en" must not be Dutch text.
    app.extensions[EXTENSION] = {code: name for code, name in LANGUAGES.items()
                                 if code == DEFAULT_LANGUAGE or code in compiled}
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    Babel(app, locale_selector=selected_language)

    def _fresh_locale() -> None:
        # Flask-Babel caches the locale on `g`; an app context that outlives one request (the test
        # harness) would otherwise keep the first request's language.
        refresh()

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_locale)

    app.add_template_filter(page_list_label, "list_label")
    app.add_template_global(count, "counted")

    @app.context_processor
    def _language_in_templates() -> dict[str, object]:
        return {"current_language": current_language, "language_switch_url": switch_url,
                "languages": available_languages()}
