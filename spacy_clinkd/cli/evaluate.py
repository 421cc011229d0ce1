"""`python -m spacy_clinkd evaluate`: entity-level scores and speed of a pipeline;
`hostile-text`: the pipeline on hostile input."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ClinkdError, Errors
from ._app import USER_PANEL, app, parse_labels


@app.command("evaluate", rich_help_panel=USER_PANEL)
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
    from ..corpora.labels import load_label_map
    from ..report.evaluation_report import write_evaluation

    report = write_evaluation(
        model,
        data_path,
        output=output,
        markdown=markdown,
        title=title,
        labels=parse_labels(labels),
        label_map=None if label_map is None else load_label_map(label_map),
        batch_size=batch_size,
        bootstrap=bootstrap,
    )
    typer.echo(report)


@app.command("hostile-text", rich_help_panel=USER_PANEL)
def hostile_text_cli(
    model: Annotated[str, typer.Argument(help="Pipeline directory or installed package name.")],
    *,
    output: Annotated[Path, typer.Option("--output", "-o", help="Result JSON to write.")],
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Batch size for nlp.pipe.")
    ] = 4,
    inference: Annotated[
        str | None,
        typer.Option("--inference", help="Run clinkd_ner at this precision (fp32 or int8); default: as saved."),
    ] = None,
) -> None:
    """Run the hostile-text list (empty, 200,000 characters, control and zero-width
    characters, emoji, right-to-left, CRLF, a lone surrogate, ...) through a pipeline:
    no crash, every entity at its offsets, nlp.pipe equal to one call per text."""
    from ..evaluation.robustness import write_hostile_text_check

    result = write_hostile_text_check(model, output, batch_size=batch_size, inference=inference)
    failed = {name: row["problems"] for name, row in result["texts"].items() if row["problems"]}
    for name, row in result["texts"].items():
        mark = "✘" if row["problems"] else "✔"
        typer.echo(f"{mark} {name}: {row['chars']} chars, {row.get('tokens', '-')} tokens, {row.get('entities', '-')} entities")
        for problem in row["problems"]:
            typer.echo(f"    {problem}")
    for problem in result["pipe_problems"]:
        typer.echo(f"✘ {problem}")
    if failed or result["pipe_problems"]:
        raise ClinkdError(Errors.E260.format(n=len(failed) + len(result["pipe_problems"]), output=output))
    typer.echo(f"✔ {len(result['texts'])} hostile texts, nlp.pipe equal to single calls; wrote {output}")
