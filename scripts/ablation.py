"""Ablation table (project.yml `ablation-table`): evaluate several pipelines on
the same gold docs with bootstrap 95% intervals over documents, and report
parameters and words/s beside the scores."""
import argparse
import json
from pathlib import Path

from spacy_clinkd.benchmark.resources import count_parameters
from spacy_clinkd.evaluation.evaluate import evaluate_pipeline
from spacy_clinkd.pipeline.loading import load_pipeline
from spacy_clinkd.report.tables import interval_cell, table


def fmt_f(metrics: dict, interval: dict | None) -> str:
    return interval_cell(metrics["f"], (interval or {}).get("f") or None)


def main(output: Path, data: Path, labels: list[str], models: list[tuple[str, str]], repeats: int) -> None:
    output.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, path in models:
        runs = [evaluate_pipeline(path, data, labels=labels, bootstrap=1000 if i == 0 else 0) for i in range(repeats)]
        result = runs[0]
        result["efficiency"]["words_per_second_best_of"] = repeats
        result["efficiency"]["words_per_second"] = max(r["efficiency"]["words_per_second"] for r in runs)
        result["parameters"] = count_parameters(load_pipeline(path))
        safe = name.replace("+", "plus_").strip("_") or "model"
        (output / f"{safe}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf8")
        rows.append((name, path, result))
    header = ["system", *[f"{label} F1 [95% CI]" for label in labels], "micro P", "micro R", "micro F1 [95% CI]", "params", "words/s"]
    body = []
    for name, _, r in rows:
        boot = r.get("bootstrap", {}).get("strict", {})
        cells = [name]
        cells += [fmt_f(r["per_label"][label], boot.get("per_label", {}).get(label)) for label in labels]
        cells += [f"{r['micro']['p']:.3f}", f"{r['micro']['r']:.3f}", fmt_f(r["micro"], boot.get("micro"))]
        cells += [f"{r['parameters'] / 1e6:.1f} M", f"{r['efficiency']['words_per_second']:.0f}"]
        body.append(cells)
    lines = [
        f"Strict entity scores on {data} ({rows[0][2]['n_docs']} docs); intervals: percentile bootstrap over documents (1000 samples, seed 0); words/s: best of {repeats} passes.",
        "",
        *table(header, body, align="l" * len(header)),
    ]
    text = "\n".join(lines) + "\n"
    (output / "table.md").write_text(text, encoding="utf8")
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--labels", required=True, help="comma-separated")
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH, repeatable")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per model")
    args = parser.parse_args()
    pairs = [tuple(m.split("=", 1)) for m in args.model]
    main(args.output, args.data, args.labels.split(","), pairs, args.repeats)
