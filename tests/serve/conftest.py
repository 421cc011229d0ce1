"""Fixtures of the serve tests: the tiny pipeline loaded once, an app on it
behind FastAPI's TestClient, and the real command (`python -m spacy_clinkd
serve`) running in a subprocess on a free port of 127.0.0.1."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.util import ROOT


def needs_the_extra() -> None:
    for name in ("fastapi", "uvicorn"):
        pytest.importorskip(name, reason="serve needs the extra spacy_clinkd[serve] (fastapi, uvicorn)")

# What the TestClient sends as Host: the app answers to loopback names only.
BASE_URL = "http://127.0.0.1"


@pytest.fixture(scope="session")
def serve_nlp(tiny_pipeline):
    """The tiny pipeline, loaded the one way the package loads pipelines."""
    from spacy_clinkd.pipeline.loading import load_pipeline

    return load_pipeline(tiny_pipeline)


@pytest.fixture(scope="session")
def boom_nlp(tiny_pipeline):
    """The tiny pipeline with a last component that raises on texts holding "BOOM"."""
    from spacy.language import Language

    from spacy_clinkd.pipeline.loading import load_pipeline

    if "serve_test_boom" not in Language.factories:

        @Language.component("serve_test_boom")
        def boom(doc):
            if "BOOM" in doc.text:
                raise ValueError("this component refuses BOOM")
            return doc

    nlp = load_pipeline(tiny_pipeline)
    nlp.add_pipe("serve_test_boom")
    return nlp


@pytest.fixture
def make_client():
    """Build an app with `create_app(nlp, **settings)` and open a TestClient on
    it (lifespan included, so its batcher stops at the end of the test)."""
    needs_the_extra()
    from fastapi.testclient import TestClient

    from spacy_clinkd.serve.app import create_app

    opened = []

    def make(nlp, **settings):
        app = create_app(nlp, **settings)
        client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(serve_nlp, make_client):
    return make_client(serve_nlp, max_chars=2000)


@dataclass
class Served:
    """A `serve` subprocess: its URL, process and log files."""

    url: str
    process: subprocess.Popen
    stdout: Path
    stderr: Path

    def logs(self) -> str:
        return self.stdout.read_text(encoding="utf8") + self.stderr.read_text(encoding="utf8")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(model: Path | str, folder: Path, *args: str, timeout: float = 180.0) -> Served:
    """Run `python -m spacy_clinkd serve MODEL --port 0 ARGS` and wait until it
    prints its URL (the pipeline is loaded then).

    The interpreter is this one, or $SPACY_CLINKD_SERVE_PYTHON: e.g. a fresh
    virtualenv where the README's install put `en_clinkd_ner`, run from
    `folder` so that this checkout is not what it imports."""
    needs_the_extra()
    stdout, stderr = folder / "serve.stdout", folder / "serve.stderr"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    python = os.environ.get("SPACY_CLINKD_SERVE_PYTHON")
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [python or sys.executable, "-m", "spacy_clinkd", "serve", str(model), "--port", "0", *args],
            cwd=folder if python else ROOT, env=env, stdout=out, stderr=err,
        )
    served = Served("", process, stdout, stderr)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"the page at (http://[^ ]+)/ ", stdout.read_text(encoding="utf8"))
        if match:
            served.url = match.group(1)
            return served
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{served.logs()}")
        time.sleep(0.2)
    served.stop()
    raise AssertionError(f"serve did not start in {timeout} s:\n{served.logs()}")


@pytest.fixture
def start_served(tmp_path):
    """`start_server(model, *args)` in this test's tmp folder; stopped after the test."""
    started = []

    def start(model: Path, *args: str) -> Served:
        folder = tmp_path / f"served{len(started)}"
        folder.mkdir()
        server = start_server(model, folder, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def served(tiny_pipeline, tmp_path_factory):
    """The real command on 127.0.0.1:(a free port), serving the tiny pipeline,
    or the pipeline named by $SPACY_CLINKD_SERVE_MODEL (the README's screenshot)."""
    model = os.environ.get("SPACY_CLINKD_SERVE_MODEL") or tiny_pipeline
    server = start_server(model, tmp_path_factory.mktemp("served"))
    yield server
    server.stop()


@pytest.fixture
def http():
    """`http(url, body=None, headers=None, method=None)` → (status, headers,
    parsed JSON or text) over a real connection; a JSON body is sent as JSON."""

    def call(url: str, body=None, headers=None, method=None):
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf8")
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, got, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            status, got, raw = err.code, err.headers, err.read()
        text = raw.decode("utf8")
        return status, got, json.loads(text) if "json" in got.get("content-type", "") else text

    return call
