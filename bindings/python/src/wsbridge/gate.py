"""Who gets in, before a connection costs the trainer anything (``docs/security.md``).

- **Connection caps**, checked the moment a TCP connection is accepted: at most
  ``max_connections`` at once, of which at most ``max_handshakes`` have not yet passed the
  token check (half-open or slow handshakes). An extra connection gets a fixed HTTP 503 and is
  closed without reading it, so a flood of them cannot exhaust the process's file descriptors.
- **The token**, checked in the HTTP request, before the WebSocket upgrade: a request without
  exactly one right token gets HTTP 401, the same answer whatever its path.
- **The refusal log**: one line per refusal, at most ``burst`` lines per ``window`` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http
import logging
import resource
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection

from .batch import BatchedConnection
from websockets.http11 import Request, Response

__all__ = ["Gate", "RefusalLog", "check_file_limit"]

def _busy(server: str) -> bytes:
    """The fixed HTTP 503 answer of a server at its connection limit."""
    text = b"the %s is at its connection limit; retry later\n" % server.encode()
    return (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s" % (len(text), text))

#: The body of every 401: it says nothing about the path or what was wrong with the token.
UNAUTHORIZED_TEXT = "missing or wrong token\n"


class RefusalLog:
    """Logs one WARNING line per refusal, at most ``burst`` lines per ``window`` seconds; refusals
    past that are counted, and the count is logged with the first line of the next window."""

    def __init__(self, logger: logging.Logger, *, burst: int = 20, window: float = 60.0) -> None:
        self.logger, self.burst, self.window = logger, burst, window
        self._start, self._lines, self._unlogged = time.monotonic(), 0, 0

    def __call__(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._start >= self.window:
            if self._unlogged:
                self.logger.warning("%d more refusals in the last %.0f s were not logged", self._unlogged,
                                    now - self._start)
            self._start, self._lines, self._unlogged = now, 0, 0
        if self._lines < self.burst:
            self._lines += 1
            self.logger.warning(message, *args)
        else:
            self._unlogged += 1


class Gate:
    """The admission checks of one hub; used on its event loop thread only.

    Pass :meth:`connection_class` as ``create_connection`` and :meth:`process_request` as
    ``process_request`` to ``websockets``' ``serve``.
    """

    def __init__(self, *, token: str | None, max_connections: int, max_handshakes: int,
                 refused: RefusalLog, path_tokens: Mapping[str, str | None] | None = None,
                 server: str = "hub") -> None:
        self._digest = _digest(token)
        #: Paths with a token of their own (the lobby's ``/lobby/hubs``); every other path takes ``token``.
        self._path_digests = {path: _digest(t) for path, t in (path_tokens or {}).items()}
        self.max_connections, self.max_handshakes = max_connections, max_handshakes
        self.refused = refused
        #: What the server is called in its refusals (the 503's body says "the trainer" for a hub).
        self.server = server
        self._busy = _busy("trainer" if server == "hub" else server)
        #: Connections open now, and those among them that have not passed the token check.
        self.open = 0
        self.handshaking = 0

    def connection_class(self) -> type[ServerConnection]:
        """A ``ServerConnection`` that counts itself in this gate, or refuses to start."""
        gate = self

        class Counted(_Counted):
            pass

        Counted.gate = gate
        return Counted

    def admit(self, connection: _Counted, transport: asyncio.BaseTransport) -> bool:
        """Counts a new connection in, or answers it 503 and closes it (``False``)."""
        if self.open >= self.max_connections or self.handshaking >= self.max_handshakes:
            transport.write(self._busy)  # type: ignore[attr-defined]
            transport.close()
            which = (f"{self.open} connections (max_connections)" if self.open >= self.max_connections
                     else f"{self.handshaking} handshakes in progress (max_handshakes)")
            self.refused("refused a connection from %s: HTTP 503, the %s has %s", _peer(transport), self.server, which)
            return False
        self.open += 1
        self.handshaking += 1
        connection.handshaking = True
        return True

    def leave(self, connection: _Counted) -> None:
        self.open -= 1
        self._handshake_over(connection)

    def _handshake_over(self, connection: _Counted) -> None:
        if connection.handshaking:
            connection.handshaking = False
            self.handshaking -= 1

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Checks the token before the upgrade: ``None`` to go on, or the 401 response."""
        problem = self.token_problem(request)
        if problem is not None:
            response = connection.respond(http.HTTPStatus.UNAUTHORIZED, UNAUTHORIZED_TEXT)
            response.headers["WWW-Authenticate"] = 'Bearer realm="wsbridge"'
            self.refused("refused a connection from %s: HTTP 401, %s", _peer(connection.transport), problem)
            return response
        if isinstance(connection, _Counted):
            self._handshake_over(connection)
        return None

    def token_problem(self, request: Request) -> str | None:
        """What is wrong with the request's token (never the token itself), or ``None``.

        The token is that of the request's path if it has one of its own (``path_tokens``), else
        ``token``. A request offers exactly one token: ``Authorization: Bearer <token>`` (the scheme in any
        case) or one ``token`` in the query. The comparison is constant-time (of SHA-256
        digests, so not even the length leaks).
        """
        digest = self._path_digests.get(urlsplit(request.path).path, self._digest)
        if digest is None:
            return None
        offered: list[str] = []
        headers = request.headers.get_all("Authorization")
        if len(headers) > 1:
            return "more than one Authorization header"
        if headers:
            scheme, _, credentials = headers[0].strip().partition(" ")
            if scheme.lower() != "bearer":
                return "an Authorization header whose scheme is not Bearer"
            offered.append(credentials.strip())
        offered += parse_qs(urlsplit(request.path).query, keep_blank_values=True).get("token", [])
        if not offered:
            return "no token"
        if len(offered) > 1:
            return f"{len(offered)} tokens (one is allowed)"
        if not hmac.compare_digest(hashlib.sha256(offered[0].encode()).digest(), digest):
            return "a wrong token"
        return None


class _Counted(BatchedConnection):
    """A connection that is counted by its gate from accept to close (or refused at once); it
    can answer a hub's batched round trip (:mod:`wsbridge.batch`)."""

    gate: Gate
    admitted = False
    handshaking = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.gate.admit(self, transport):
            self.admitted = True
            super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            super().data_received(data)

    def eof_received(self) -> None:
        if self.admitted:
            super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.admitted:
            self.admitted = False
            self.gate.leave(self)
            super().connection_lost(exc)


def _digest(token: str | None) -> bytes | None:
    return None if token is None else hashlib.sha256(token.encode()).digest()


def check_file_limit(connections: int, logger: logging.Logger) -> None:
    """Warns if ``connections`` (a ``max_connections``) could run the process out of file
    descriptors."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and connections + 64 > soft:
        logger.warning("max_connections=%d leaves fewer than 64 of the process's %d file descriptors "
                       "(ulimit -n) for everything else", connections, soft)


def _peer(transport: Any) -> str:
    peer = transport.get_extra_info("peername") if transport is not None else None
    return "%s:%s" % tuple(peer[:2]) if isinstance(peer, tuple) else str(peer)
