"""The ASGI layer every request passes before the app, and every response after.

In order, a request is refused (a JSON error, the app never runs) when:

1. its Host is not one this server answers to (`allowed_hosts`; a server
   bound to 127.0.0.1 answers to localhost names only, which stops a web
   page from reaching it through DNS rebinding) → 400 E484;
2. it asks for /v1/... without the API key the server was started with → 401 E477;
3. it posts to a JSON endpoint with another content type → 415 E476;
4. its body is over `max_body` bytes (Content-Length, or counted as it
   arrives) → 413 E475; or not UTF-8 → 400 E471.

The body is read here, whole, and handed on to the app. An exception that
escapes the app becomes a 500 JSON error (E480) here, so nothing reaches the
server's own error log with a message that could quote a note; the log gets
the exception's type and frames only.

Every response gets the security headers (a content security policy that
lets the page load nothing from elsewhere and connect nowhere else,
`no-store`, `nosniff`, no referrer, no framing), and every request one log
line: method, route, status, bytes, milliseconds and, for /v1/annotate,
what the endpoint put in `scope["state"]["serve_log"]` (counts and timings).
Never a note's text, and never a path that is not one of the server's
routes (a client could put text in a URL).
"""
from __future__ import annotations

import email.message
import hmac
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from ..errors import Errors
from .settings import API_KEY_HEADER, LOOPBACK_HOSTS

logger = logging.getLogger("spacy_clinkd.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_PREFIX = "/v1/"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def error_body(status: int, code: str, *, problems: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """The JSON body of an error (`ErrorBody` in schemas.py).

    status (int): the HTTP status.
    code (str): the numbered error of errors.py, e.g. "E473".
    problems (Optional[List[str]]): the problems of a request that does not fit the schema.
    fields: the values of the message's placeholders.
    """
    detail: dict[str, Any] = {"code": code, "status": status, "message": getattr(Errors, code).format(**fields)}
    if problems is not None:
        detail["problems"] = problems
    return {"error": detail}


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: Collection[tuple[bytes, bytes]] = ()
) -> None:
    """Send a whole JSON response through a raw ASGI `send`."""
    data = json.dumps(body, ensure_ascii=False).encode("utf8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode("latin-1")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data, "more_body": False})


def host_name(host: str) -> str:
    """The name of a Host header, without the port: "[::1]:8000" → "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_json_type(content_type: str | None) -> bool:
    """RETURNS (bool): whether a Content-Type is JSON in UTF-8 (application/json or
    application/*+json, without a charset or with charset utf-8)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    charset = message.get_param("charset")
    return charset is None or str(charset).lower() in ("utf-8", "utf8")


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.fields = fields


class Guard:
    """ASGI middleware (module docstring).

    app (ASGIApp): the app it guards.
    api_key (Optional[str]): the key /v1/ requests must send in X-API-Key; None: no key.
    allowed_hosts (Optional[Collection[str]]): Host names answered; None: any.
    max_body (int): the largest request body in bytes.
    json_paths (Collection[str]): paths whose POST body must be JSON.
    routes (Collection[str]): the paths the log may name (any other is logged as "-").
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        api_key: str | None = None,
        allowed_hosts: Collection[str] | None = LOOPBACK_HOSTS,
        max_body: int,
        json_paths: Collection[str] = ("/v1/annotate",),
        routes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.api_key = api_key.encode("utf8") if api_key is not None else None
        self.allowed_hosts = None if allowed_hosts is None else {host_name(h) for h in allowed_hosts}
        self.max_body = max_body
        self.json_paths = set(json_paths)
        self.routes = set(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        sent = {"status": 0, "bytes": 0}

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        received = 0
        try:
            refusal = self.refusal(scope)
            if refusal is not None:
                await send_json(send_secured, refusal["error"]["status"], refusal)
                return
            body = await self.read_body(scope, receive)
            received = len(body)
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # after the body: a disconnect, if any

            await self.app(scope, replay, send_secured)
        except BodyRefused as err:
            if not sent["status"]:
                await send_json(send_secured, err.status, error_body(err.status, err.code, **err.fields))
        except Exception as err:  # never crash, never log the message (it may quote a note)
            frames = "".join(traceback.format_tb(err.__traceback__))
            logger.error("unhandled %s (message withheld: it may quote a note)\n%s", type(err).__name__, frames)
            if not sent["status"]:
                await send_json(send_secured, 500, error_body(500, "E480", error=type(err).__name__))
        finally:
            self.log(scope, state, sent, received, time.perf_counter() - start)

    def refusal(self, scope: Scope) -> dict[str, Any] | None:
        """The error body of a request refused on its headers alone, or None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path, method = scope.get("path", ""), scope.get("method", "")
        if self.allowed_hosts is not None:
            host = host_name(headers.get("host", ""))
            if host not in self.allowed_hosts:
                return error_body(400, "E484", allowed=sorted(self.allowed_hosts), host=host)
        if self.api_key is not None and path.startswith(API_PREFIX):
            given = headers.get(API_KEY_HEADER.lower(), "").encode("latin-1")
            if not hmac.compare_digest(given, self.api_key):
                return error_body(401, "E477")
        if method == "POST" and path in self.json_paths and not is_json_type(headers.get("content-type")):
            return error_body(415, "E476", content_type=headers.get("content-type", ""))
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return error_body(413, "E475", limit=self.max_body)
        return None

    async def read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole request body, refused past `max_body` bytes or (for a JSON
        path) when it is not UTF-8."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyRefused(413, "E475", limit=self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if scope.get("path") in self.json_paths:
            try:
                body.decode("utf8")
            except UnicodeDecodeError as err:
                reason = f"not UTF-8: byte 0x{body[err.start]:02x} at byte {err.start}"
                raise BodyRefused(400, "E471", reason=reason) from None
        return body

    def log(self, scope: Scope, state: dict[str, Any], sent: dict[str, int], received: int, seconds: float) -> None:
        path = scope.get("path", "")
        route = path if path in self.routes else "-"
        extra = state.get("serve_log")
        logger.info(
            "%s %s %d in=%dB out=%dB %.1fms%s",
            scope.get("method", "?"),
            route,
            sent["status"],
            received,
            sent["bytes"],
            seconds * 1000,
            f" {extra}" if extra else "",
        )
