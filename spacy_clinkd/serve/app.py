"""The FastAPI app of `serve`: the API, its errors and the page.

- `POST /v1/annotate`: `{"text", "id"?}`, `{"texts"}` or `{"notes": [{"id", "text"}]}` →
  `{"records": [...]}`, one annotate record per text (`doc_record`);
- `GET /v1/model`: name, version, labels, licence, precision, the model
  card's headline scores and this server's limits;
- `GET /healthz`: `{"status": "ok", "queued": N}` (503 once the batcher stopped);
- `GET /`: the page (`static/`), `GET /static/...` its files;
- `GET /openapi.json`: the schema. No /docs: Swagger UI would load from a CDN.

Every error is `{"error": {"code", "status", "message", "problems"?}}`
with a numbered code of errors.py (E471-E485): malformed JSON 400, a body
that does not fit the schema 422, a text over `max_chars` or too many texts
413, another content type 415, a wrong API key 401, a busy or stopping
server 503, a pipeline failure 500. The server keeps running after each.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..about import __version__
from ..errors import ClinkdError
from .batcher import Busy, PipeBatcher, PipelineFailed, ShuttingDown
from .guard import Guard, error_body
from .model_info import model_info
from .schemas import AnnotateRequest, AnnotateResponse, ErrorBody, Health, ModelInfo, limit_request_schema
from .settings import DEFAULT_BATCH_SIZE, DEFAULT_MAX_CHARS, DEFAULT_MAX_QUEUED, LOOPBACK_HOSTS, MAX_TEXTS

logger = logging.getLogger("spacy_clinkd.serve")

STATIC_DIR = Path(__file__).parent / "static"
ROUTES = ("/", "/healthz", "/v1/annotate", "/v1/model", "/openapi.json")


def max_body_bytes(max_chars: int) -> int:
    """The largest request body: room for one text of `max_chars` characters
    even if every one is sent as a JSON surrogate-pair escape (12 bytes), or
    for many shorter texts."""
    return 16 * max_chars + 2**20


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed JSON, a body that is not UTF-8, or a Host this server does not answer to.",
        401: "Missing or wrong X-API-Key (only when the server was started with --api-key).",
        413: "A text over --max-chars, too many texts, or a body too large.",
        415: "The body is not sent as application/json.",
        422: "The JSON does not fit the request schema (each problem listed).",
        500: "The pipeline failed on a text; the server keeps running.",
        503: "The server is busy or shutting down; retry.",
    }
    return {status: {"model": ErrorBody, "description": descriptions[status]} for status in statuses}


def unencodable(text: str) -> str | None:
    """Why a text cannot be annotated and sent back as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf8")
    except UnicodeEncodeError as err:
        return f"character {err.start} is a lone surrogate"
    return None


def _is_id_member(loc: list[str]) -> bool:
    """Whether a location is one member of the id union (str | int | integral
    float), which pydantic reports one by one: `id.str`, `id.int`, ..."""
    if len(loc) < 2 or loc[-2] != "id":
        return False
    return loc[-1] in ("str", "int", "float") or loc[-1].startswith("function-after[")


def _problem(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "body"]
    if _is_id_member(loc):  # one problem for the id, not one per member
        return f"{'.'.join(loc[:-1])}: an id is a string or an integer"
    where = ".".join(loc) if loc else "body"
    kind = error.get("type", "")
    if kind == "missing" and not loc:
        return "the request has no body"
    if kind in ("model_attributes_type", "dict_type", "model_type") and not loc:
        return "the body must be a JSON object"
    if kind == "extra_forbidden":
        return f"{where}: unknown field (a request holds text and id, texts, or notes of id and text)"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if loc else message


def create_app(
    nlp: Any,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_texts: int = MAX_TEXTS,
    max_queued: int = DEFAULT_MAX_QUEUED,
    max_wait: float = 0.0,
    api_key: str | None = None,
    allowed_hosts: Collection[str] | None = LOOPBACK_HOSTS,
) -> FastAPI:
    """The app for one loaded pipeline.

    nlp (Language): the pipeline (from `load_pipeline`); only the batcher's thread runs it.
    max_chars (int): the longest text taken (longer: 413).
    batch_size (int): the most texts per `nlp.pipe` call of the batcher.
    max_texts (int): the most texts per request (more: 413).
    max_queued (int): the most texts waiting (more: 503).
    max_wait (float): seconds the batcher waits for company before a batch
        that is not full (0: it never waits; under load batches fill anyway).
    api_key (Optional[str]): the X-API-Key that /v1/ requests must send; None: none.
    allowed_hosts (Optional[Collection[str]]): the Host names answered; None: any.
    RETURNS (FastAPI): the app (its batcher is `app.state.batcher`).
    """
    batcher = PipeBatcher(nlp, batch_size=batch_size, max_queued=max_queued, max_wait=max_wait)
    info = {**model_info(nlp), "max_chars": max_chars, "max_texts": max_texts, "batch_size": batch_size}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await asyncio.to_thread(batcher.stop)

    app = FastAPI(
        title="spacy_clinkd annotation service",
        version=__version__,
        description=(
            "Clinical named entities with assertion status (present, absent, possible), from a local "
            "spaCy pipeline. Records have the shape of `python -m spacy_clinkd annotate`'s JSONL; "
            "offsets count Unicode code points of the text as sent."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        for error in errors:
            if error.get("type") == "json_invalid":
                reason = (error.get("ctx") or {}).get("error", "invalid JSON")
                pos = error.get("loc", ("body", "?"))[-1]
                return JSONResponse(error_body(400, "E471", reason=f"{reason} at character {pos}"), status_code=400)
        problems = list(dict.fromkeys(_problem(error) for error in errors))
        return JSONResponse(error_body(422, "E472", issues="; ".join(problems), problems=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path if request.url.path in ROUTES else "this path"
        if exc.status_code == 404:
            body = error_body(404, "E481", path=path)
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            body = error_body(405, "E482", method=request.method, path=path, allowed=allowed or "another method")
        else:
            body = error_body(exc.status_code, "E480", error=str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.post(
        "/v1/annotate",
        response_model=AnnotateResponse,
        responses=_errors(400, 401, 413, 415, 422, 500, 503),
        summary="Annotate one or several notes",
    )
    async def annotate(body: AnnotateRequest, request: Request) -> Any:
        """Entities with label, score and assertion status for each text, in
        the record shape of `annotate`'s JSONL (one record per text)."""
        texts, ids = body.items()
        if len(texts) > max_texts:
            return JSONResponse(error_body(413, "E474", n=len(texts), limit=max_texts), status_code=413)
        for index, text in enumerate(texts):
            if len(text) > max_chars:
                return JSONResponse(
                    error_body(413, "E473", index=index, n=len(text), limit=max_chars), status_code=413
                )
            reason = unencodable(text)
            if reason is not None:
                return JSONResponse(error_body(422, "E483", index=index, reason=reason), status_code=422)
        chars = sum(len(text) for text in texts)
        try:
            result = await asyncio.wrap_future(batcher.submit(texts, ids))
        except Busy as err:
            body_ = error_body(503, "E478", queued=err.queued, limit=err.limit)
            return JSONResponse(body_, status_code=503, headers={"Retry-After": "1"})
        except ShuttingDown:
            return JSONResponse(error_body(503, "E485"), status_code=503, headers={"Retry-After": "5"})
        except PipelineFailed as err:
            request.state.serve_log = f"texts={len(texts)} chars={chars} failed=text{err.index}"
            logger.error("pipeline failed on text %d of %d (%d chars)", err.index, len(texts), len(texts[err.index]))
            return JSONResponse(error_body(500, "E479", index=err.index, reason=err.reason), status_code=500)
        except ClinkdError as err:  # about the pipeline, not one text (annotate's E425): say what
            logger.error("batch failed: %s", type(err).__name__)
            return JSONResponse(error_body(500, "E480", error=str(err)), status_code=500)
        request.state.serve_log = (
            f"texts={len(texts)} chars={chars} queue={result.queue_seconds * 1000:.1f}ms "
            f"pipe={result.pipe_seconds * 1000:.1f}ms batch={result.batch_texts}"
        )
        return JSONResponse({"records": result.records})

    @app.get("/v1/model", response_model=ModelInfo, responses=_errors(401), summary="The loaded model")
    async def model() -> Any:
        """Name, version, labels, licence and precision of the pipeline, the
        model card's headline scores, and this server's limits."""
        return JSONResponse(info)

    @app.get("/healthz", response_model=Health, responses=_errors(503), summary="Liveness")
    async def healthz() -> Any:
        if not batcher.alive:
            return JSONResponse(error_body(503, "E485"), status_code=503)
        return JSONResponse({"status": "ok", "queued": batcher.queued})

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)  # generated once, cached on the app
            limit_request_schema(schema["components"]["schemas"], max_chars=max_chars, max_texts=max_texts)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    static_routes = [f"/static/{p.name}" for p in STATIC_DIR.iterdir() if p.is_file()]
    app.add_middleware(
        Guard,
        api_key=api_key,
        allowed_hosts=allowed_hosts,
        max_body=max_body_bytes(max_chars),
        routes=[*ROUTES, *static_routes],
    )
    return app
