"""Collect evaluation metrics and training times into one markdown summary
(project.yml `report`; the numbers that docs/RESULTS.md quotes)."""
import argparse
import json
from pathlib import Path

from spacy_clinkd.report.tables import table


def main(output: Path, metrics: list[Path], train: list[Path]) -> None:
    lines = ["## Entity-level results (strict: exact span and label)", ""]
    results = [(path, json.loads(path.read_text(encoding="utf8"))) for path in metrics]
    labels = list(results[0][1]["per_label"]) if results else []
    header = ["model", *[f"{label} F1" for label in labels], "micro P", "micro R", "micro F1", "words/s"]
    body = []
    for path, data in results:
        row = [f"{path.stem} (`{data['model']['path']}`)"]
        row += [f"{data['per_label'][label]['f']:.3f}" for label in labels]
        row += [f"{data['micro'][key]:.3f}" for key in ("p", "r", "f")]
        row.append(f"{data['efficiency']['words_per_second']:.0f}")
        body.append(row)
    lines += table(header, body, align="l" * len(header))
    lines += ["", "Data: " + ", ".join(sorted({d["data"]["path"] for _, d in results})), ""]
    if train:
        runs = []
        for path in train:
            data = json.loads(path.read_text(encoding="utf8"))
            overrides = data["overrides"]
            steps = overrides.get("training.max_steps", "config")
            best = data.get("best_dev", {}).get("ents_f")
            best_text = f"{best:.3f}" if isinstance(best, (int, float)) else "n/a"
            runs.append([path.parent.name, data["config"], steps, f"{data['minutes']:.1f}", best_text])
        lines += ["## Training time", "", *table(["run", "config", "steps", "minutes", "best dev ents_f"], runs, align="llrrr")]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf8")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path, help="Markdown file to write")
    parser.add_argument("--metrics", type=Path, nargs="+", required=True, help="metrics/*.json from `evaluate`")
    parser.add_argument("--train", type=Path, nargs="*", default=[], help="train_summary.json files")
    args = parser.parse_args()
    main(args.output, args.metrics, args.train)
