"""Load check of `python -m spacy_clinkd serve` (issue 28): CLIENTS concurrent
clients send REQUESTS requests, one note each, to a server on this machine,
and the same notes go through `annotate` (one process, local engine) for the
throughput it should be compared with.

    python scripts/serve_load.py MODEL --notes NOTES [--requests 1000] [--clients 32]
        [--batch-size 32] [--inference fp32|int8] [--annotate] [--output FILE.json]
    python scripts/serve_load.py --url http://127.0.0.1:8000 [--pid PID] --notes NOTES ...

MODEL: the script starts `serve MODEL --port 0` itself, measures its RSS
(/proc/PID/status: VmRSS before and after the load, VmHWM at the end), and
stops it. `--url`: a server already running on 127.0.0.1 (its RSS only with
`--pid`). NOTES: what `annotate` reads (a folder of .txt, a .jsonl of
{"id", "text"}, a .csv); the requests cycle through its notes.

Each client keeps one HTTP/1.1 connection and sends `{"text", "id"}`; a
request is an error unless it answers 200 with the record of its own note.
Printed and written (`--output`): requests/s, latency p50/p95/p99/max (ms),
errors, RSS (MiB), and with `--annotate` the notes/s of
`annotate MODEL NOTES OUT --summary` on the same REQUESTS notes (run after
the server stopped, so they do not share the CPU) and the ratio of the two.
Only 127.0.0.1 / localhost / ::1 are accepted: this is not a tool for
loading other people's servers.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from spacy_clinkd.annotate.inputs import open_source

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def read_notes(path: str) -> list[tuple[str, str]]:
    """(id, text) of every readable note of an annotate input."""
    source = open_source(path)
    try:
        notes = [(note.id, note.text) for note in source.notes() if note.text is not None]
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if not notes:
        sys.exit(f"✘ {path} holds no readable notes")
    return notes


def rss_mib(pid: int | None) -> dict[str, float | None]:
    """VmRSS and VmHWM (peak) of a process, in MiB (Linux /proc; None elsewhere)."""
    found: dict[str, float | None] = {"rss": None, "peak": None}
    if pid is None:
        return found
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return found
    for key, field in (("rss", "VmRSS"), ("peak", "VmHWM")):
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            found[key] = round(int(match.group(1)) / 1024, 1)
    return found


def start_server(model: str, folder: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    """`python -m spacy_clinkd serve MODEL --port 0 EXTRA`; RETURNS the process and its URL."""
    stdout = (folder / "serve.stdout").open("w")
    stderr = (folder / "serve.stderr").open("w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "spacy_clinkd", "serve", model, "--port", "0", *extra],
        stdout=stdout, stderr=stderr, env=env,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        match = re.search(r"the page at (http://[^ ]+)/ ", (folder / "serve.stdout").read_text())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            sys.exit(f"✘ serve exited with {process.returncode}:\n{(folder / 'serve.stderr').read_text()[-3000:]}")
        time.sleep(0.2)
    process.kill()
    sys.exit("✘ serve did not start within 10 minutes")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Load:
    """CLIENTS threads, each with one connection, sharing REQUESTS requests."""

    def __init__(self, url: str, notes: list[tuple[str, str]], *, requests: int, clients: int) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.hostname not in LOOPBACK:
            sys.exit(f"✘ {url}: the load check runs against this machine only ({', '.join(LOOPBACK)})")
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.notes = notes
        self.requests = requests
        self.clients = clients
        self.next = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.requests:
                return None
            self.next += 1
            return self.next - 1

    def client(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        while (index := self.take()) is not None:
            note_id, text = self.notes[index % len(self.notes)]
            body = json.dumps({"text": text, "id": f"{index}:{note_id}"}).encode("utf8")
            start = time.perf_counter()
            try:
                connection.request("POST", "/v1/annotate", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                seconds = time.perf_counter() - start
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                if json.loads(payload)["records"][0]["id"] != f"{index}:{note_id}":
                    raise ValueError("the record of another note")
            except (OSError, ValueError, KeyError, http.client.HTTPException) as err:
                with self.lock:
                    self.errors.append(f"{type(err).__name__}: {err}")
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
                continue
            with self.lock:
                self.latencies.append(seconds)
        connection.close()

    def run(self) -> float:
        threads = [threading.Thread(target=self.client) for _ in range(self.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start


def percentile_ms(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)


def annotate_rate(model: str, notes: list[tuple[str, str]], requests: int, folder: Path, extra: list[str]) -> dict[str, Any]:
    """notes/s of `annotate` (one process) on the notes the load sent."""
    jsonl = folder / "load_notes.jsonl"
    with jsonl.open("w", encoding="utf8") as out:
        for index in range(requests):
            note_id, text = notes[index % len(notes)]
            out.write(json.dumps({"id": f"{index}:{note_id}", "text": text}, ensure_ascii=False) + "\n")
    summary = folder / "annotate_summary.json"
    command = [
        sys.executable, "-m", "spacy_clinkd", "annotate", model, str(jsonl), str(folder / "annotated.jsonl"),
        "--summary", str(summary), "--no-progress", *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"✘ annotate failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(summary.read_text())
    shown = ["python", *command[1:]]
    return {"notes_per_second": result["notes_per_second"], "seconds": result["seconds"], "command": " ".join(shown)}


def batch_sizes(log: str, requests: int) -> list[int]:
    """The `batch=N` of the server's last `requests` annotate log lines: how
    many texts each request shared its nlp.pipe call with."""
    return [int(n) for n in re.findall(r"POST /v1/annotate 200 .* batch=(\d+)", log)][-requests:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="pipeline to serve (the script starts and stops the server)")
    parser.add_argument("--url", help="a server already running on 127.0.0.1 instead of MODEL")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its RSS")
    parser.add_argument("--notes", required=True, help="annotate input: folder of .txt, .jsonl or .csv")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=32, help="untimed requests first")
    parser.add_argument("--batch-size", type=int, default=32, help="serve's (and annotate's) --batch-size")
    parser.add_argument("--inference", choices=["fp32", "int8"], help="serve's (and annotate's) precision")
    parser.add_argument("--annotate", action="store_true", help="also time annotate on the same notes (needs MODEL)")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if (args.model is None) == (args.url is None):
        parser.error("give MODEL or --url")
    if args.annotate and args.model is None:
        parser.error("--annotate needs MODEL")
    if args.requests < 1 or args.clients < 1:
        parser.error("--requests and --clients must be at least 1")

    notes = read_notes(args.notes)
    serve_extra = ["--batch-size", str(args.batch_size)]
    if args.inference:
        serve_extra += ["--inference", args.inference]
    longest = max(len(text) for _, text in notes)
    serve_extra += ["--max-chars", str(max(100_000, longest))]
    with tempfile.TemporaryDirectory(prefix="serve_load_") as tmp:
        folder = Path(tmp)
        process = None
        if args.model is not None:
            process, url = start_server(args.model, folder, serve_extra)
            pid = process.pid
        else:
            url, pid = args.url.rstrip("/"), args.pid
        try:
            if args.warmup:
                Load(url, notes, requests=args.warmup, clients=min(args.clients, args.warmup)).run()
            before = rss_mib(pid)
            load = Load(url, notes, requests=args.requests, clients=args.clients)
            seconds = load.run()
            after = rss_mib(pid)
        finally:
            if process is not None:
                stop_server(process)
        batches = batch_sizes((folder / "serve.stderr").read_text(), args.requests) if process is not None else []
        result: dict[str, Any] = {
            "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "url": url,
            "requests": args.requests,
            "clients": args.clients,
            "notes": {"path": args.notes, "count": len(notes), "mean_chars": round(statistics.mean(len(t) for _, t in notes))},
            "seconds": round(seconds, 4),
            "requests_per_second": round(len(load.latencies) / seconds, 2) if seconds > 0 else None,
            "latency_ms": {
                "p50": percentile_ms(load.latencies, 50),
                "p95": percentile_ms(load.latencies, 95),
                "p99": percentile_ms(load.latencies, 99),
                "max": round(max(load.latencies) * 1000, 1) if load.latencies else None,
            },
            "errors": len(load.errors),
            "error_examples": sorted(set(load.errors))[:5],
            "rss_mib": {"before": before["rss"], "after": after["rss"], "peak": after["peak"]},
            "batch_size": args.batch_size,
            # texts per nlp.pipe call as the server logged them (MODEL mode): > 1 when requests share calls
            "mean_batch_texts": round(statistics.mean(batches), 2) if batches else None,
            "inference": args.inference or "as saved",
        }
        if args.annotate:
            annotate_extra = ["--batch-size", str(args.batch_size)]
            result["annotate"] = annotate_rate(args.model, notes, args.requests, folder, annotate_extra)
            rate = result["annotate"]["notes_per_second"]
            result["ratio_to_annotate"] = round(result["requests_per_second"] / rate, 3) if rate else None

    latency = result["latency_ms"]
    rss = result["rss_mib"]
    print(
        f"{result['requests']} requests, {result['clients']} clients, {result['notes']['count']} notes "
        f"(mean {result['notes']['mean_chars']} chars) in {result['seconds']} s\n"
        f"requests/s {result['requests_per_second']}  latency ms p50 {latency['p50']}  p95 {latency['p95']}  "
        f"p99 {latency['p99']}  max {latency['max']}\n"
        f"errors {result['errors']}  RSS MiB before {rss['before']}  after {rss['after']}  peak {rss['peak']}  "
        f"texts per nlp.pipe call {result['mean_batch_texts']}"
    )
    if "annotate" in result:
        print(
            f"annotate (one process) {result['annotate']['notes_per_second']:.2f} notes/s; "
            f"serve / annotate = {result['ratio_to_annotate']}"
        )
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    if load.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
