"""--n-process workers and signals, with real processes and real signals.

SIGTERM to the run, SIGKILL to the run and Ctrl-C to its process group leave
no worker behind and no lock held; the run exits at once (128 + the signal
number, or killed), and the resumed output equals an uninterrupted run record
for record. A worker that dies stops the run with a message, not a hang."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from spacy_clinkd.annotate.run import annotate
from tests.util import NOTE_TEXTS, ROOT

pytestmark = [pytest.mark.hostile, pytest.mark.slow]

N_NOTES = 3000
WORKER_ARGS = ["--n-process", 2, "--partition-size", 16, "--batch-size", 8]


@pytest.fixture(scope="module")
def notes_file(tmp_path_factory, annotate_io):
    """Notes of about 1,500 characters, so that the run lasts a few seconds."""
    notes = []
    for i in range(N_NOTES):
        lines = [f"{NOTE_TEXTS[(i + k) % len(NOTE_TEXTS)]} , day {k} of stay {i} ." for k in range(30)]
        notes.append({"id": f"note-{i:05d}", "text": "\n".join(lines)})
    return annotate_io.write_jsonl(tmp_path_factory.mktemp("notes") / "notes.jsonl", notes)


@pytest.fixture(scope="module")
def reference(rule_pipeline, notes_file, annotate_io, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out.jsonl"
    summary = annotate(str(rule_pipeline), notes_file, out, progress=False)
    assert (summary.written, summary.failed) == (N_NOTES, 0)
    return annotate_io.read_jsonl(out)


def session_processes(session: int) -> list[int]:
    """Live (not zombie) processes of a session: the run and whatever it started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z" and os.getsid(int(entry.name)) == session:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # gone meanwhile
    return found


def wait_until(condition, seconds: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def lines_of(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.fixture
def run_in_session(annotate_io, tmp_path):
    """Start annotate in a session of its own; kill (by pid) whatever of it is left at the end.
    Its stderr goes to a file, `proc.err()` reads it: a worker that outlives the run
    would hold a pipe open, and reading it would never end."""
    started = []

    def start(*args) -> subprocess.Popen:
        log = tmp_path / f"stderr-{len(started)}.txt"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                annotate_io.command(*args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        proc.err = lambda: log.read_text(encoding="utf8", errors="replace")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        for pid in session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


def run_midway(start, rule_pipeline, notes_file, out: Path) -> tuple[subprocess.Popen, list[int]]:
    """Start a 2-worker run and wait until it has written some records."""
    proc = start(rule_pipeline, notes_file, out, *WORKER_ARGS)
    started = wait_until(lambda: lines_of(out) >= 40 or proc.poll() is not None, 240)
    assert started and proc.poll() is None, proc.err()
    workers = [pid for pid in session_processes(proc.pid) if pid != proc.pid]
    assert len(workers) == 2, workers
    return proc, workers


def resume_equals_reference(annotate_io, rule_pipeline, notes_file, out, reference):
    killed_lines = lines_of(out)
    assert 0 < killed_lines < N_NOTES, "the run was not stopped midway"
    resumed = annotate_io.run(rule_pipeline, notes_file, out, *WORKER_ARGS)
    assert resumed.returncode == 0, resumed.stderr.decode()  # no worker holds the lock
    assert f"{N_NOTES - killed_lines} written, {killed_lines} skipped" in resumed.stdout.decode()
    assert annotate_io.read_jsonl(out) == reference  # in order, none lost, none twice


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "Ctrl-C"])
def test_a_signal_stops_the_workers_and_the_run_resumes(
    how, rule_pipeline, notes_file, reference, annotate_io, run_in_session, tmp_path
):
    out = tmp_path / "out.jsonl"
    proc, _ = run_midway(run_in_session, rule_pipeline, notes_file, out)
    sent = time.monotonic()
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    elif how == "SIGKILL":
        proc.kill()
    else:  # what a terminal does: SIGINT to every process of the foreground group
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    seconds = time.monotonic() - sent
    assert wait_until(lambda: not session_processes(proc.pid), 10, step=0.1), "workers outlived the run"
    expected = {"SIGTERM": 128 + signal.SIGTERM, "SIGKILL": -signal.SIGKILL, "Ctrl-C": 128 + signal.SIGINT}[how]
    assert proc.returncode == expected, proc.err()
    assert seconds < 15, f"exit took {seconds:.1f} s"
    err = proc.err()
    assert "Traceback" not in err, err
    if how != "SIGKILL":
        name = "SIGINT" if how == "Ctrl-C" else how
        assert err.count("✘ Interrupted by") == 1 and f"Interrupted by {name}" in err, err
        assert "Run the same command to resume" in err
    resume_equals_reference(annotate_io, rule_pipeline, notes_file, out, reference)


def test_a_worker_that_dies_stops_the_run_with_a_message(
    rule_pipeline, notes_file, reference, annotate_io, run_in_session, tmp_path
):
    out = tmp_path / "out.jsonl"
    proc, workers = run_midway(run_in_session, rule_pipeline, notes_file, out)
    os.kill(workers[0], signal.SIGKILL)  # what the kernel's OOM killer does
    proc.wait(timeout=60)
    err = proc.err()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert f"worker process (pid {workers[0]}) died (exit code -9)" in err and "resume" in err, err
    assert wait_until(lambda: not session_processes(proc.pid), 10, step=0.1), "workers outlived the run"
    resume_equals_reference(annotate_io, rule_pipeline, notes_file, out, reference)
