"""Page-level checks for every HTML page a test makes the app serve.

    from tests.support import pages
    page_audit = pages.page_audit          # in a test module: the fixture below

    def test_something(app, page_audit):
        client.get("/…")                   # every text/html answer is checked as it is served
        page_audit.check(html, nonce)      # or check a rendered string directly

A page fails when it has no <title> (or an empty one), not exactly one <h1>, no lang on <html>, an
<input>/<select>/<textarea> without a label (label[for], a wrapping <label>, aria-label or
aria-labelledby; hidden inputs and buttons excepted), a <script> or <style> without this response's CSP
nonce, a style="…" attribute (the CSP blocks it), a duplicate id, or an aria-labelledby/aria-describedby
that points at no element. The fixture fails the test at teardown, listing every page and problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, request_finished

UNLABELLED_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})
CONTROLS = frozenset({"input", "select", "textarea"})
NONCE = re.compile(r"'nonce-([^']+)'")


@dataclass
class _Control:
    tag: str
    id: str | None
    labelled: bool


@dataclass
class _Parsed:
    lang: str | None = None
    title: str | None = None
    h1: int = 0
    ids: list[str] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    controls: list[_Control] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)  # (attribute, id)
    problems: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.page = _Parsed()
        self._in_title = False
        self._title: list[str] = []
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        page = self.page
        if tag == "html":
            page.lang = values.get("lang") or None
        elif tag == "title":
            self._in_title = True
        elif tag == "h1":
            page.h1 += 1
        elif tag == "label":
            self._label_depth += 1
            if values.get("for"):
                page.label_for.add(values["for"])
        elif tag in ("script", "style"):
            if self.nonce is None or values.get("nonce") != self.nonce:
                what = values.get("src") or "inline"
                page.problems.append(f"<{tag}> ({what}) without this response's CSP nonce")
        if "style" in values:
            page.problems.append(f'<{tag}> has a style="…" attribute (blocked by the CSP; use a class)')
        if values.get("id"):
            page.ids.append(values["id"])
        for attribute in ("aria-labelledby", "aria-describedby"):
            for ref in values.get(attribute, "").split():
                page.references.append((attribute, ref))
        if tag in CONTROLS and not (tag == "input" and values.get("type", "text").lower() in UNLABELLED_TYPES):
            labelled = bool(values.get("aria-label", "").strip() or values.get("aria-labelledby", "").strip()
                            or self._label_depth)
            page.controls.append(_Control(tag, values.get("id") or None, labelled))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "label":
            self._label_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            self.page.title = " ".join("".join(self._title).split())
        elif tag == "label" and self._label_depth:
            self._label_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)


def problems(html: str, nonce: str | None) -> list[str]:
    """What is wrong with this page (empty: nothing)."""
    parser = _PageParser(nonce)
    parser.feed(html)
    parser.close()
    page = parser.page
    found = list(page.problems)
    if not page.lang:
        found.append("<html> has no lang attribute")
    if not page.title:
        found.append("no <title>, or an empty one")
    if page.h1 != 1:
        found.append(f"{page.h1} <h1> elements instead of exactly one")
    seen: set[str] = set()
    for element_id in page.ids:
        if element_id in seen:
            found.append(f'duplicate id="{element_id}"')
        seen.add(element_id)
    for control in page.controls:
        if not control.labelled and not (control.id and control.id in page.label_for):
            found.append(f"<{control.tag} id={control.id!r}> has no label")
    for attribute, ref in page.references:
        if ref not in seen:
            found.append(f'{attribute}="{ref}" points at no element')
    return found


def response_nonce(response: Any) -> str | None:
    match = NONCE.search(response.headers.get("Content-Security-Policy", ""))
    return match.group(1) if match else None


class PageAudit:
    """Collects the problems of every page served while it listens; ``assert_clean`` fails on any."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.pages: list[str] = []

    def check(self, html: str, nonce: str | None, where: str = "page") -> list[str]:
        self.pages.append(where)
        found = problems(html, nonce)
        self.failures.extend(f"{where}: {problem}" for problem in found)
        return found

    def check_response(self, response: Any, where: str) -> list[str]:
        if (response.mimetype != "text/html" or 300 <= response.status_code < 400
                or response.direct_passthrough or response.is_streamed):
            return []  # not a page: a redirect's stub body, a file, a stream
        html = response.get_data(as_text=True)
        return self.check(html, response_nonce(response), where)

    def assert_clean(self) -> None:
        assert not self.failures, "pages that fail the page checks:\n  " + "\n  ".join(self.failures)

    def listen(self, app: Flask) -> Any:
        def _served(sender: Flask, response: Any, **_extra: Any) -> None:
            from flask import request

            self.check_response(response, f"{request.method} {request.full_path.rstrip('?')} "
                                          f"({response.status_code})")

        request_finished.connect(_served, app)
        return _served


@pytest.fixture
def page_audit(app: Flask) -> Iterator[PageAudit]:
    """Every HTML page the app serves during the test is checked; the test fails at teardown on any
    problem (after its own assertions, so both show)."""
    audit = PageAudit()
    receiver = audit.listen(app)
    yield audit
    request_finished.disconnect(receiver, app)
    audit.assert_clean()
