"""`python -m spacy_clinkd serve MODEL`: the local annotation service and page."""
from __future__ import annotations

from typing import Annotated

import typer

from ..serve.settings import API_KEY_ENV, DEFAULT_BATCH_SIZE, DEFAULT_HOST, DEFAULT_MAX_CHARS, DEFAULT_PORT
from ._app import USER_PANEL, app


@app.command("serve", rich_help_panel=USER_PANEL)
def serve_cli(
    model: Annotated[
        str, typer.Argument(help="Pipeline directory or installed package name (NAME@int8 works too).")
    ],
    *,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps the service on this machine.")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one, printed at start).")] = DEFAULT_PORT,
    max_chars: Annotated[
        int, typer.Option("--max-chars", help="The longest text taken, in characters (longer: HTTP 413).")
    ] = DEFAULT_MAX_CHARS,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="The most texts of concurrent requests per nlp.pipe call.")
    ] = DEFAULT_BATCH_SIZE,
    inference: Annotated[
        str | None,
        typer.Option("--inference", help="Run clinkd_ner at this precision (fp32 or int8); default: as saved."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar=API_KEY_ENV,
            help=f"Require this key in the X-API-Key header of /v1/ requests (or set ${API_KEY_ENV}).",
        ),
    ] = None,
) -> None:
    """Serve MODEL locally: a web page at / and a REST API (POST /v1/annotate,
    GET /v1/model, GET /healthz); needs FastAPI and uvicorn (the extra
    spacy_clinkd\\[serve]: `pip install fastapi uvicorn`)."""
    from ..serve.server import serve

    serve(
        model,
        host=host,
        port=port,
        max_chars=max_chars,
        batch_size=batch_size,
        inference=inference,
        api_key=api_key,
    )
