"""A deadline for reading a request body.

A client that announces a body (``Content-Length: 1000``) and then sends one byte would otherwise hold
a worker thread for as long as it likes. Every read from the body here waits at most until the
deadline (STEUNREGISTER_BODY_TIMEOUT seconds after the request arrived); then the request gets 408 and
the connection is shut for reading, so the server closes it after that answer instead of waiting for the
rest of the body. A reverse proxy that buffers whole request bodies before it passes them on
(nginx's default, ``proxy_request_buffering on``; docs/deploy.md) keeps slow clients away from gunicorn
altogether: this is the second line, for a deployment without one.

    app.wsgi_app = BodyDeadline(app.wsgi_app, seconds)    # outermost, before anything reads the body
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.exceptions import RequestTimeout


class BodyTimeout(RequestTimeout):
    description = ("Het versturen van de gegevens duurde te lang. Er is niets verwerkt. Probeer het opnieuw.")


class _DeadlineInput:
    """``wsgi.input`` whose every read ends by the deadline (the socket's own timeout, set per read)."""

    def __init__(self, stream: Any, sock: socket.socket | None, deadline: float) -> None:
        self._stream = stream
        self._socket = sock
        self._deadline = deadline

    def _bounded(self, read: Callable[..., Any], *args: Any) -> Any:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise BodyTimeout()
        previous = self._socket.gettimeout() if self._socket is not None else None
        if self._socket is not None:
            self._socket.settimeout(remaining)
        try:
            return read(*args)
        except TimeoutError:  # socket.timeout: the client sent nothing more in time
            self._shut()
            raise BodyTimeout() from None
        finally:
            if self._socket is not None:
                self._socket.settimeout(previous)

    def _shut(self) -> None:
        # gunicorn ignores an app's "Connection: close" and would drain the rest of the body before the
        # next request on this connection: with the reading side shut it sees the end and closes instead.
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RD)

    def read(self, size: int = -1) -> bytes:
        return self._bounded(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._bounded(self._stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._bounded(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class BodyDeadline:
    """WSGI middleware: bounds the time to read the body of every request that has one."""

    def __init__(self, app: Callable[..., Iterable[bytes]], seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH", "") not in ("", "0") or environ.get("HTTP_TRANSFER_ENCODING"):
            # gunicorn and Werkzeug's server both hand over the client's socket: its timeout bounds a read.
            sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
            environ["wsgi.input"] = _DeadlineInput(environ["wsgi.input"], sock, time.monotonic() + self.seconds)
        return self.app(environ, start_response)
