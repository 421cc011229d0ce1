"""The local annotation service: `python -m spacy_clinkd serve MODEL`.

- `batcher.py`: one worker thread owns the pipeline; requests that arrive
  together are annotated together, in one `nlp.pipe` call;
- `schemas.py`: the API's request, response and error bodies (the OpenAPI schema);
- `guard.py`: the ASGI layer every request passes first (host, API key,
  content type, body size, JSON errors, security headers, one log line
  without note text);
- `app.py`: the FastAPI app (`create_app`): POST /v1/annotate, GET /v1/model,
  GET /healthz and the page at / (`static/`, served from the package);
- `model_info.py`: what GET /v1/model says (meta, labels, the model card's
  headline scores);
- `server.py`: load the pipeline once and run uvicorn (`serve`).
"""
