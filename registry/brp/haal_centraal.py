"""A client for Haal Centraal "BRP Personen Bevragen" v2, operation RaadpleegMetBurgerservicenummer.

POST {base_url}/personen with a JSON body; the BSN travels only in the body, never in the URL
(that is why v2 uses POST). Standard library only (urllib).

Privacy: no log line and no exception message of this module contains the BSN, the answer body or
the API key. Failures are raised as PersonRegistryUnavailable `from None`, so a traceback does not
show the underlying exception (whose attributes may hold the answer body) either.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

from .model import Person, PersonRegistryUnavailable
from .v2 import FIELDS, OPERATION, person_from_v2

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES: Final = 1_000_000  # one person is a few kB; anything far larger is not an answer
_BSN: Final = re.compile(r"[0-9]{9}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would resend the API key to another address, and
    urllib would turn the POST into a GET without the body."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class HttpPersonRegistry:
    def __init__(self, base_url: str, api_key: str | None, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("BRP base URL must be an http:// or https:// URL")
        if timeout <= 0:
            raise ValueError("BRP timeout must be positive")
        self.url = base_url.rstrip("/") + "/personen"
        self.timeout = float(timeout)
        self._api_key = api_key
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        return f"HttpPersonRegistry(url={self.url!r}, timeout={self.timeout})"  # never the API key

    def lookup(self, bsn: str) -> Person | None:
        if not isinstance(bsn, str) or not _BSN.fullmatch(bsn):
            raise ValueError("bsn must be 9 digits")
        status, raw = self._post({"type": OPERATION, "burgerservicenummer": [bsn], "fields": list(FIELDS)})
        if status == 404:
            return None
        if status != 200:
            raise _unavailable(f"BRP answered HTTP {status}")
        return _person_from_answer(raw, bsn)

    def _post(self, body: dict[str, Any]) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self._api_key:
            headers["X-API-KEY"] = self._api_key
        # The scheme of self.url is checked (http/https only) in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
        except urllib.error.HTTPError as exc:  # 4xx/5xx (and 3xx, see _NoRedirect); the body is not read
            exc.close()
            return exc.code, b""
        except TimeoutError:
            raise _unavailable(f"BRP did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _unavailable(f"BRP did not answer within {self.timeout:g} s") from None
            raise _unavailable(f"BRP not reachable ({type(exc.reason).__name__})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _unavailable(f"BRP connection failed ({type(exc).__name__})") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise _unavailable("BRP answer is too large")
        return status, raw


def _person_from_answer(raw: bytes, bsn: str) -> Person | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _unavailable("BRP answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("personen"), list):
        raise _unavailable('BRP answer has no "personen" list')
    if data.get("type", OPERATION) != OPERATION:
        raise _unavailable("BRP answer is of another type")
    personen = data["personen"]
    if not personen:
        return None
    matches = [p for p in personen if isinstance(p, dict) and p.get("burgerservicenummer") == bsn]
    if len(matches) != 1:
        raise _unavailable("BRP answer does not hold exactly the person asked for")
    try:
        return person_from_v2(matches[0])
    except ValueError as exc:  # person_from_v2 names fields, never values
        raise _unavailable(f"BRP answer is malformed: {exc}") from None


def _unavailable(reason: str) -> PersonRegistryUnavailable:
    log.warning("BRP lookup failed: %s", reason)
    return PersonRegistryUnavailable(reason)
