"""scripts/serve_load.py against the served tiny pipeline: it counts what it
sent, and refuses any server but this machine's."""
import json
import subprocess
import sys

import pytest

from tests.util import ROOT, synthetic_notes

SCRIPT = ROOT / "scripts" / "serve_load.py"


def run_script(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_load_check_against_a_running_server(served, tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps(note) + "\n" for note in synthetic_notes(7)), encoding="utf8")
    output = tmp_path / "load.json"
    done = run_script(
        "--url", served.url, "--pid", served.process.pid, "--notes", notes,
        "--requests", 40, "--clients", 8, "--warmup", 4, "--output", output,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(output.read_text())
    assert (result["requests"], result["clients"], result["errors"], result["notes"]["count"]) == (40, 8, 0, 7)
    assert result["latency_ms"]["p50"] > 0
    # the rate is the requests answered over the wall time of the load
    assert result["requests_per_second"] == pytest.approx(40 / result["seconds"], rel=0.05)
    assert result["rss_mib"]["after"] > 100  # the server's, a loaded pipeline (this script's is ~30 MiB)
    assert "requests/s" in done.stdout and "errors 0" in done.stdout


def test_the_load_check_refuses_other_machines(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"id": "a", "text": "no fever"}) + "\n", encoding="utf8")
    done = run_script("--url", "http://10.0.0.5:8000", "--notes", notes, "--requests", 1)
    assert done.returncode != 0 and "against this machine only" in done.stderr
