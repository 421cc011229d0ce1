"""`python -m spacy_clinkd serve`: one clear message for each thing a user can
get wrong before it serves, then the real command in a subprocess on
127.0.0.1 (a free port): it answers, checks its API key, logs sizes and
timings without text, and stops cleanly on Ctrl+C."""
import signal
import socket
import sys

import pytest
import typer

from spacy_clinkd.cli import app
from spacy_clinkd.serve.settings import API_KEY_ENV
from tests.util import run_cli

MARKER = "OKAPI-5521"  # note text that must never reach a log


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_without_the_extra_it_says_what_to_install(monkeypatch, capsys, tiny_pipeline, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # what an environment without it does on import
    code, _, err = run_cli(monkeypatch, capsys, "serve", tiny_pipeline, "--port", "0")
    assert code == 1 and "Traceback" not in err
    assert 'pip install "spacy_clinkd[serve]"' in err and f"not installed ({missing})" in err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--max-chars", "0"], "--max-chars must be at least 1, got 0"),
        (["--batch-size", "-2"], "--batch-size must be at least 1, got -2"),
        (["--api-key", " "], "--api-key must not be empty"),
    ],
)
def test_bad_settings_stop_before_anything_loads(monkeypatch, capsys, tiny_pipeline, args, message):
    code, _, err = run_cli(monkeypatch, capsys, "serve", tiny_pipeline, "--port", "0", *args)
    assert code == 1 and message in err and "Traceback" not in err


def test_a_port_in_use_is_one_clear_error(monkeypatch, capsys, tiny_pipeline):
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(monkeypatch, capsys, "serve", tiny_pipeline, "--port", str(port))
    assert code == 1 and f"Cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_a_pipeline_that_does_not_load_is_one_clear_error(monkeypatch, capsys, tmp_path):
    pytest.importorskip("uvicorn")
    code, _, err = run_cli(monkeypatch, capsys, "serve", tmp_path / "no-model", "--port", "0")
    assert code == 1 and "Could not load the pipeline" in err and "Traceback" not in err


def test_the_key_can_come_from_the_environment():
    params = {p.name: p for p in typer.main.get_command(app).commands["serve"].params}
    assert params["api_key"].envvar == API_KEY_ENV


@pytest.mark.slow
def test_the_command_serves_checks_the_key_and_stops_cleanly(tiny_pipeline, start_served, http):
    server = start_served(tiny_pipeline, "--api-key", "k3y", "--max-chars", "500")
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    assert http(f"{url}/healthz")[0] == 200
    status, _, body = http(f"{url}/v1/annotate", {"text": f"no chest pain {MARKER}"})
    assert status == 401 and body["error"]["code"] == "E477"
    status, _, body = http(f"{url}/v1/annotate", {"text": f"denies chest pain . no fever {MARKER}"}, {"X-API-Key": "k3y"})
    assert status == 200 and body["records"][0]["entities"]
    status, _, body = http(f"{url}/v1/annotate", {"text": MARKER * 60}, {"X-API-Key": "k3y"})
    assert status == 413 and body["error"]["code"] == "E473"
    status, headers, page = http(f"{url}/")
    assert status == 200 and "<textarea" in page and "default-src 'none'" in headers["content-security-policy"]
    assert http(f"{url}/{MARKER}?q={MARKER}")[0] == 404
    # a browser page elsewhere that rebinds its name to 127.0.0.1 is refused
    assert http(f"{url}/healthz", headers={"Host": "attacker.example"})[0] == 400

    # Ctrl+C: the batcher finishes, the app shuts down, and the process ends as
    # interrupted (uvicorn re-raises the signal: 128 + SIGINT), without a traceback
    assert server.stop() in (0, 128 + signal.SIGINT)
    logs = server.logs()
    assert "Application shutdown complete" in logs
    assert MARKER not in logs
    assert "POST /v1/annotate 401" in logs and "POST /v1/annotate 200" in logs and "texts=1 chars=" in logs
    assert "GET - 404" in logs and "Traceback" not in logs
