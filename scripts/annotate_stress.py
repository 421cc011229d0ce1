"""Stress `annotate` (issue 31): a run killed midway and resumed ends with
exactly the records of an uninterrupted run.

Builds a JSONL of --notes notes (default 10,000): 1 % of them longer than
--long-chars (default 1.1 million characters, entities at both ends), 1 %
with bytes that are not UTF-8 in their text, the rest short. Then runs
`python -m spacy_clinkd annotate` on it twice, in fresh processes:

1. uninterrupted, into `uninterrupted.jsonl`;
2. into `resumed.jsonl`, killed with --signal (default KILL) once
   --kill-at of the notes have a record, then the same command again to the end.

and compares the two outputs and their errors files record for record, in
order. Prints counts and times; exits 1 if anything differs, if a run's
counts do not add up, if an exit status is not the documented one (3: some
notes failed), or if an entity of a long note is not at its offset.

    python scripts/annotate_stress.py MODEL [--notes 10000] [--long-chars 1100000] [--n-process 1]
    python scripts/annotate_stress.py --rules ...   # a small rule pipeline (clinical tokenizer + entity ruler)
"""
import argparse
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILLER = "the patient slept well overnight and ate a full breakfast .\n"
TEXTS = [
    "has fever and a dry cough since monday",
    "denies chest pain , no fever today",
    "took aspirin 100 mg with breakfast",
    "history of diabetes , no cough",
]
RULES = [
    {"label": "SYMPTOM", "pattern": "fever"},
    {"label": "SYMPTOM", "pattern": "cough"},
    {"label": "SYMPTOM", "pattern": [{"LOWER": "chest"}, {"LOWER": "pain"}]},
    {"label": "MEDICATION", "pattern": "aspirin"},
    {"label": "DISEASE", "pattern": "diabetes"},
]
FAILED = 3  # annotate's exit status when some notes have no record


def make_rule_pipeline(path: Path) -> Path:
    import spacy

    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("entity_ruler").add_patterns(RULES)
    nlp.meta["name"] = "clinkd_stress_rules"
    nlp.to_disk(path)
    return path


def long_text(i: int, chars: int) -> str:
    body = FILLER * (chars // len(FILLER) + 1)
    return f"admitted {i} with fever .\n{body}at discharge {i} : no chest pain , takes aspirin"


def write_notes(path: Path, n: int, long_chars: int) -> dict[str, int]:
    """The input; RETURNS how many notes of each kind it holds."""
    kinds = {"short": 0, "long": 0, "undecodable": 0}
    with path.open("wb") as file:
        for i in range(n):
            note_id = f"note-{i:06d}"
            if i % 100 == 50:
                line = json.dumps({"id": note_id, "text": long_text(i, long_chars)}).encode() + b"\n"
                kinds["long"] += 1
            elif i % 100 == 75:
                line = b'{"id": "%s", "text": "caf\xe9 and fever"}\n' % note_id.encode()
                kinds["undecodable"] += 1
            else:
                line = json.dumps({"id": note_id, "text": f"{TEXTS[i % len(TEXTS)]} ({i})"}).encode() + b"\n"
                kinds["short"] += 1
            file.write(line)
    return kinds


def command(model: str, notes: Path, out: Path, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "spacy_clinkd", "annotate", model, str(notes), str(out),
        "--n-process", str(args.n_process), "--partition-size", str(args.partition_size),
        "--summary", str(out.with_suffix(".summary.json")), "--no-progress",
    ]


def run(cmd: list[str]) -> tuple[int, float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return done.returncode, time.perf_counter() - start, done.stdout + done.stderr


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="pipeline directory or package (or use --rules)")
    parser.add_argument("--rules", action="store_true", help="build and use a small rule pipeline")
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--long-chars", type=int, default=1_100_000)
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--partition-size", type=int, default=64)
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of the notes recorded at the kill")
    parser.add_argument("--signal", choices=["KILL", "TERM", "INT"], default="KILL")
    parser.add_argument("--workdir", type=Path, default=Path("stress"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.rules and not args.model:
        parser.error("give MODEL or --rules")
    random.seed(args.seed)
    args.workdir.mkdir(parents=True, exist_ok=True)
    for old in args.workdir.glob("*.json*"):
        old.unlink()
    model = str(make_rule_pipeline(args.workdir / "rules")) if args.rules else args.model

    start = time.perf_counter()
    notes = args.workdir / "notes.jsonl"
    kinds = write_notes(notes, args.notes, args.long_chars)
    print(f"input: {notes} ({notes.stat().st_size / 1e6:.1f} MB, {kinds}) in {time.perf_counter() - start:.1f} s")

    whole = args.workdir / "uninterrupted.jsonl"
    code, seconds, log = run(command(model, notes, whole, args))
    print(f"uninterrupted: exit {code}, {seconds:.1f} s\n  {log.strip()}")
    problems = [] if code == FAILED else [f"uninterrupted run: exit {code}, expected {FAILED}"]

    resumed = args.workdir / "resumed.jsonl"
    # a kill point drawn around --kill-at, so that it may land mid-line
    kill_at = max(1, int(args.notes * args.kill_at * random.uniform(0.9, 1.1)))
    proc = subprocess.Popen(command(model, notes, resumed, args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.perf_counter()
    while lines(resumed) + lines(resumed.with_name("resumed.errors.jsonl")) < kill_at and proc.poll() is None:
        time.sleep(0.002)
    proc.send_signal(getattr(signal, f"SIG{args.signal}"))
    proc.wait()
    killed_seconds = time.perf_counter() - start
    at_kill = lines(resumed)
    torn = not resumed.read_bytes().endswith(b"\n") if resumed.exists() and resumed.stat().st_size else False
    print(f"killed (SIG{args.signal}): exit {proc.returncode} after {killed_seconds:.1f} s, "
          f"{at_kill} records on disk{', a torn last line' if torn else ''}")
    if not 0 < at_kill < args.notes:
        problems.append(f"the run was not killed midway ({at_kill} records)")
    code, seconds, log = run(command(model, notes, resumed, args))
    print(f"resumed: exit {code}, {seconds:.1f} s\n  {log.strip()}")
    if code != FAILED:
        problems.append(f"resumed run: exit {code}, expected {FAILED}")

    for name in ("", ".errors"):
        a, b = read(whole.with_name(f"uninterrupted{name}.jsonl")), read(resumed.with_name(f"resumed{name}.jsonl"))
        same = a == b
        print(f"records{name or ''}: uninterrupted {len(a)}, killed + resumed {len(b)}, identical in order: {same}")
        if not same:
            problems.append(f"the {name or 'records'} files differ")
    records = read(whole)
    if len(records) != kinds["short"] + kinds["long"] or len(read(whole.with_name("uninterrupted.errors.jsonl"))) != kinds["undecodable"]:
        problems.append("records / errors do not match the input's kinds")
    summary = json.loads(resumed.with_suffix(".summary.json").read_text())
    total = summary["written"] + summary["skipped"] + summary["failed"]
    print(f"resumed summary: written {summary['written']} + skipped {summary['skipped']} + failed {summary['failed']}"
          f" = {total} of {summary['total']} (failed before: {summary['failed_before']})")
    if total != summary["total"] or summary["total"] != args.notes:
        problems.append("the resumed run's counts do not add up")
    by_id = {r["id"]: r for r in records}
    for i in range(50, args.notes, 100):
        text = long_text(i, args.long_chars)
        ents = by_id[f"note-{i:06d}"]["entities"]
        wrong = any(text[e["start"] : e["end"]] != e["text"] for e in ents)
        if wrong or (args.rules and [e["text"] for e in ents] != ["fever", "chest pain", "aspirin"]):
            problems.append(f"note-{i:06d}: entities {ents}")
            break
    for problem in problems:
        print(f"✘ {problem}")
    print("✔ killed + resumed equals uninterrupted" if not problems else f"✘ {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
