"""`serve MODEL`: load the pipeline once and run the app under uvicorn.

The socket is bound here, before the pipeline loads, so a port in use is
one clear error (E486) in a second rather than after the model loaded, and
`--port 0` takes any free port (the URL printed says which). A server bound
to a loopback address answers to localhost names only (`Guard`); bound to
another address it answers to any Host, and without an API key it warns
(W470): the README says to put it behind a reverse proxy with authentication.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import time

from ..errors import ClinkdError, Errors, Warnings
from ..pipeline.loading import load_pipeline, precision_of
from .settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_HOST,
    DEFAULT_MAX_CHARS,
    DEFAULT_PORT,
    LOOPBACK_HOSTS,
)

logger = logging.getLogger("spacy_clinkd.serve")


def require_serve_dependencies() -> None:
    """RAISES ClinkdError: E470 when FastAPI or uvicorn is not installed."""
    missing = []
    for name in ("fastapi", "uvicorn"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ClinkdError(Errors.E470.format(missing=", ".join(missing)))


def is_loopback(host: str) -> bool:
    """RETURNS (bool): whether `host` is an address only this machine reaches."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(host: str) -> tuple[str, ...] | None:
    """The Host names a server bound to `host` answers to; None: any."""
    if not is_loopback(host):
        return None
    return tuple(dict.fromkeys([*LOOPBACK_HOSTS, host.strip("[]").lower()]))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one).

    RAISES ClinkdError: E486 when it cannot be bound.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as err:
        raise ClinkdError(Errors.E486.format(host=host, port=port, reason=err)) from err
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        raise ClinkdError(Errors.E486.format(host=host, port=port, reason=err.strerror or err)) from err
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_settings(*, max_chars: int, batch_size: int, api_key: str | None) -> None:
    """RAISES ClinkdError: E116 (a limit below 1), E487 (an empty API key)."""
    for name, value in (("--max-chars", max_chars), ("--batch-size", batch_size)):
        if value < 1:
            raise ClinkdError(Errors.E116.format(name=name, value=value))
    if api_key is not None and not api_key.strip():
        raise ClinkdError(Errors.E487)


def configure_logging(level: int = logging.INFO) -> None:
    """The service's own log lines (sizes and timings, never text) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def serve(
    model: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_chars: int = DEFAULT_MAX_CHARS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    inference: str | None = None,
    api_key: str | None = None,
) -> None:
    """Serve a pipeline until interrupted (Ctrl+C or SIGTERM).

    model (str): pipeline directory or installed package name (`NAME@int8` too).
    host (str): the address to listen on.
    port (int): the port (0: any free one).
    max_chars (int): the longest text taken.
    batch_size (int): the most texts per `nlp.pipe` call.
    inference (Optional[str]): the encoder's precision, "fp32" or "int8"; None: as saved.
    api_key (Optional[str]): the X-API-Key that /v1/ requests must send.
    RAISES ClinkdError: E470 (FastAPI or uvicorn missing), E486 (the port),
        E011/E041 (the pipeline does not load), E116/E487 (settings).
    """
    check_settings(max_chars=max_chars, batch_size=batch_size, api_key=api_key)
    require_serve_dependencies()
    import uvicorn

    from ..annotate.engines import warm_up
    from .app import create_app

    configure_logging()
    sock = bind_socket(host, port)
    try:
        if api_key is None and not is_loopback(host):
            logger.warning(Warnings.W470.format(host=host))
        start = time.perf_counter()
        nlp = load_pipeline(model, inference)
        warm_up(nlp)  # a pipeline that cannot work stops here (E424), and torch is initialised
        app = create_app(
            nlp, max_chars=max_chars, batch_size=batch_size, api_key=api_key, allowed_hosts=allowed_hosts_for(host)
        )
        url = url_of(sock)
        meta = nlp.meta
        name = f"{meta.get('lang', 'en')}_{meta.get('name', 'pipeline')}"
        print(
            f"✔ Serving {name} {meta.get('version', '')} ({precision_of(nlp)}), loaded in "
            f"{time.perf_counter() - start:.1f} s: the page at {url}/ , the API at {url}/v1/annotate "
            "(Ctrl+C stops)",
            flush=True,
        )
        config = uvicorn.Config(app, access_log=False, log_level="info", timeout_graceful_shutdown=30)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
