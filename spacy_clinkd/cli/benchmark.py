"""`python -m spacy_clinkd benchmark`: throughput, latency, memory and size of
one pipeline (one model per process, so the peak memory is that model's)."""
from pathlib import Path
from typing import Annotated

import typer

from ._app import USER_PANEL, app


@app.command("benchmark", rich_help_panel=USER_PANEL)
def benchmark_cli(
    model: Annotated[str, typer.Argument(help="Pipeline directory or installed package name.")],
    data_path: Annotated[
        Path, typer.Argument(help="Texts: a .spacy DocBin or a directory of .txt files.", exists=True)
    ],
    *,
    output: Annotated[Path, typer.Option("--output", "-o", help="Measurements JSON to write.")],
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Markdown table to write.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="nlp.pipe batch size.")] = 8,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Timed passes over all texts.")] = 3,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed passes first.")] = 1,
    latency_docs: Annotated[
        int, typer.Option("--latency-docs", min=0, help="Docs timed one by one (0: skip).")
    ] = 20,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Use the first N texts (0: all).")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=0, help="torch threads (0: torch default).")] = 0,
) -> None:
    """Measure words/s, per-document latency, memory, disk size and parameters."""
    from ..benchmark.report import write_benchmark

    table = write_benchmark(
        model, data_path, output=output, markdown=markdown, batch_size=batch_size, repeats=repeats,
        warmup=warmup, latency_docs=latency_docs, limit=limit, threads=threads,
    )
    typer.echo(table)
