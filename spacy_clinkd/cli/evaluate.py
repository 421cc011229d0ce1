"""`python -m spacy_clinkd evaluate`: entity-level scores and speed of a pipeline."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import srsly
import typer

from ..errors import ClinkdError, Errors
from ..evaluation.bootstrap import bootstrap_intervals
from ..evaluation.metrics import remap_entities, score_entities
from ..evaluation.report import metrics_to_markdown
from ._app import app


def parse_labels(labels: str | None) -> list[str] | None:
    """Split a comma-separated label list.

    labels (Optional[str]): E.g. "DISEASE,MEDICATION"; None means all labels.
    RETURNS (Optional[List[str]]): The labels, stripped, or None.
    """
    if labels is None:
        return None
    parsed = [label.strip() for label in labels.split(",") if label.strip()]
    if not parsed:
        raise ClinkdError(Errors.E255)
    return parsed


def read_label_map(path: Path) -> dict[str, str]:
    """Read a JSON object mapping predicted labels to gold labels.

    path (Path): The JSON file.
    RETURNS (Dict[str, str]): Predicted label -> gold label.
    """
    try:
        data = srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(f"{path}: {Errors.E252} ({err})") from err
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ClinkdError(f"{path}: {Errors.E252}")
    return data


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:  # torch is only needed by transformer pipelines
        return None
    return torch.get_num_threads()


def evaluate_pipeline(
    model: str,
    data_path: Path,
    *,
    labels: list[str] | None = None,
    label_map: dict[str, str] | None = None,
    batch_size: int = 8,
    bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run a pipeline over gold docs' texts, score its entities and time the pass.

    model (str): Pipeline directory or installed package name, for `spacy.load`.
    data_path (Path): A `.spacy` DocBin of gold docs.
    labels (Optional[List[str]]): Labels to score; None scores all.
    label_map (Optional[Dict[str, str]]): Predicted label -> gold label; predicted
        entities whose label is not in the map are dropped. None keeps labels as is.
    batch_size (int): Batch size for `nlp.pipe`.
    bootstrap (int): Bootstrap samples over documents for confidence intervals;
        0 disables them.
    seed (int): Seed of the bootstrap.
    RETURNS (Dict[str, Any]): `score_entities` output without `doc_counts`, plus
        `model`, `data`, `efficiency`, `labels` and `label_map`, and `bootstrap`
        (the output of `bootstrap_intervals`) unless `bootstrap` is 0.
    """
    import spacy
    from spacy.tokens import DocBin

    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0 (0 disables it), got {bootstrap}")
    try:
        nlp = spacy.load(model)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E253.format(model=model, reason=err)) from err
    try:
        gold_docs = list(DocBin().from_disk(data_path).get_docs(nlp.vocab))
    except (OSError, ValueError, KeyError) as err:
        raise ClinkdError(f"{data_path}: {Errors.E254.format(reason=err)}") from err
    texts = [doc.text for doc in gold_docs]
    start = time.perf_counter()
    pred_docs = list(nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    if label_map is not None:
        pred_docs = [remap_entities(doc, label_map) for doc in pred_docs]
    metrics = score_entities(gold_docs, pred_docs, labels=labels)
    # Per-doc counts are kept in memory for resampling but would swamp the file.
    doc_counts = metrics.pop("doc_counts")
    if bootstrap > 0:
        metrics["bootstrap"] = bootstrap_intervals(
            doc_counts, labels=list(metrics["per_label"]), n_samples=bootstrap, seed=seed
        )
    n_words = sum(1 for doc in gold_docs for token in doc if not token.is_space)
    metrics["efficiency"] = {
        "docs": len(gold_docs),
        "words": n_words,
        "seconds": seconds,
        "words_per_second": n_words / seconds if seconds > 0 else None,
        "batch_size": batch_size,
        "torch_threads": _torch_threads(),
    }
    metrics["model"] = {
        "path": model,
        "name": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}",
        "version": nlp.meta.get("version"),
        "pipeline": list(nlp.pipe_names),
    }
    metrics["data"] = {"path": str(data_path)}
    metrics["labels"] = labels
    metrics["label_map"] = label_map
    return metrics


@app.command("evaluate")
def evaluate_cli(
    model: Annotated[str, typer.Argument(help="Pipeline directory or installed package name.")],
    data_path: Annotated[
        Path,
        typer.Argument(help="Gold docs as a .spacy DocBin.", exists=True, dir_okay=False),
    ],
    *,
    output: Annotated[Path, typer.Option("--output", "-o", help="Metrics JSON to write.")],
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Markdown report to write.")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated labels to score, e.g. DISEASE,MEDICATION,SYMPTOM."),
    ] = None,
    label_map: Annotated[
        Path | None,
        typer.Option(
            "--label-map",
            help="JSON object mapping predicted to gold labels; unmapped predictions are dropped.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Batch size for nlp.pipe.")
    ] = 8,
    title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap",
            min=0,
            help="Bootstrap samples over documents for 95% confidence intervals; 0 disables.",
        ),
    ] = 1000,
) -> None:
    """Score a pipeline's entities against gold docs (strict and lenient) and time it."""
    metrics = evaluate_pipeline(
        model,
        data_path,
        labels=parse_labels(labels),
        label_map=None if label_map is None else read_label_map(label_map),
        batch_size=batch_size,
        bootstrap=bootstrap,
    )
    if title is None:
        title = f"{metrics['model']['name']} on {data_path.name}"
    report = metrics_to_markdown(metrics, title=title)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf8")
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(report, encoding="utf8")
    typer.echo(report)
