"""RFC 9457 problem details: the one shape every JSON API error takes.

    return problem(403, "forbidden", "Geen toegang", "U mag niet optreden voor gemeente GM0392.")

``type`` is a URI under PROBLEM_BASE naming the kind of problem; ``title`` is the same for every
occurrence of that kind, ``detail`` explains this occurrence. Extra members (``invalid_params``,
``municipality``…) go in as keyword arguments.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

PROBLEM_BASE = "https://steunregister.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_RESERVED = frozenset({"type", "title", "status", "detail"})


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


def problem(status: int, slug: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    """A problem+json response. ``extra`` may not overwrite the four standard members."""
    clash = _RESERVED.intersection(extra)
    if clash:
        raise ValueError(f"problem(): extra members may not be named {sorted(clash)}")
    body = {"type": problem_type(slug), "title": title, "status": status, "detail": detail, **extra}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
