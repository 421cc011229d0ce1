"""What `python -m spacy_clinkd evaluate` writes: the metrics JSON of
`evaluation.evaluate.evaluate_pipeline` and its markdown report (`scores`)."""
from __future__ import annotations

import json
from pathlib import Path

from ..evaluation.evaluate import evaluate_pipeline
from ..paths import check_report_outputs, write_text_atomic
from .scores import metrics_to_markdown


def write_evaluation(
    model: str,
    data_path: Path,
    *,
    output: Path,
    markdown: Path | None = None,
    title: str | None = None,
    labels: list[str] | None = None,
    label_map: dict[str, str] | None = None,
    batch_size: int = 8,
    bootstrap: int = 1000,
) -> str:
    """Evaluate a pipeline (`evaluation.evaluate.evaluate_pipeline`) and write
    its metrics JSON and, optionally, its markdown report.

    model (str): Pipeline directory or installed package name, for `pipeline.loading.load_pipeline`.
    data_path (Path): A `.spacy` DocBin of gold docs.
    output (Path): The metrics JSON to write (parent directories are created);
        it and `markdown` are checked before the pipeline is loaded, and
        written atomically.
    markdown (Optional[Path]): The markdown report to write; None writes none.
    title (Optional[str]): Report title; None: "<lang>_<name> on <data file name>".
    labels (Optional[List[str]]): Labels to score; None scores all.
    label_map (Optional[Dict[str, str]]): Predicted label -> gold label (see
        `evaluate_pipeline`).
    batch_size (int): Batch size for `nlp.pipe`.
    bootstrap (int): Bootstrap samples over documents; 0 disables them.
    RETURNS (str): The markdown report.
    """
    # Checked before the pipeline is loaded and run, not after.
    check_report_outputs(output, markdown, inputs={"the gold docs": data_path})
    metrics = evaluate_pipeline(
        model, data_path, labels=labels, label_map=label_map, batch_size=batch_size, bootstrap=bootstrap
    )
    if title is None:
        title = f"{metrics['model']['name']} on {data_path.name}"
    report = metrics_to_markdown(metrics, title=title)
    write_text_atomic(output, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    if markdown is not None:
        write_text_atomic(markdown, report)
    return report
