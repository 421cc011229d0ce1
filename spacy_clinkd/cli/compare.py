"""`python -m spacy_clinkd benchmark-compare`: several pipelines measured side
by side in one process, their timed passes interleaved, reported as ratios to
a reference pipeline (what a shared machine measures reliably)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import USER_PANEL, app

if TYPE_CHECKING:
    from ..benchmark.engine import PipelineSpec

# The precision suffixes parse_pipeline_spec reads, written out so that --help
# does not import the benchmark (tests/cli/test_app.py checks them against it).
PIPELINE_HELP = (
    "NAME=MODEL (a pipeline directory or package); MODEL@int8 (or @fp32) runs clinkd_ner at that precision. Repeat."
)


def parse_specs(values: list[str], reference: str) -> list[PipelineSpec]:
    """RAISES typer.BadParameter: a malformed --pipeline, a name given twice,
    or a --reference that names none of them."""
    from ..benchmark.engine import parse_pipeline_spec

    specs = []
    for value in values:
        try:
            specs.append(parse_pipeline_spec(value))
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--pipeline") from None
    names = [spec.name for spec in specs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise typer.BadParameter(f"names given more than once: {', '.join(twice)}", param_hint="--pipeline")
    if reference not in names:
        raise typer.BadParameter(f"{reference!r} is none of the pipelines ({', '.join(names)})", param_hint="--reference")
    return specs


def parse_batch_sizes(value: str) -> list[int]:
    """"1,8,32" → [1, 8, 32]. RAISES typer.BadParameter: not distinct positive integers."""
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1 or len(set(sizes)) != len(sizes):
        raise typer.BadParameter(f"expected distinct positive integers such as 1,8,32, got {value!r}", param_hint="--batch-sizes")
    return sizes


@app.command("benchmark-compare", rich_help_panel=USER_PANEL)
def benchmark_compare_cli(
    data_path: Annotated[
        Path, typer.Argument(help="Texts: a .spacy DocBin or a directory of .txt files.", exists=True)
    ],
    *,
    pipelines: Annotated[
        list[str],
        typer.Option("--pipeline", "-p", help=PIPELINE_HELP),
    ],
    reference: Annotated[str, typer.Option("--reference", help="NAME of the pipeline the ratios divide by.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Measurements JSON to write.")],
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Markdown table to write.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of F1 against words/s to write.")] = None,
    gold: Annotated[
        Path | None,
        typer.Option("--gold", help="Gold docs (.spacy) for F1; default: DATA if it is a file.", exists=True, dir_okay=False),
    ] = None,
    batch_sizes: Annotated[str, typer.Option("--batch-sizes", help="Comma-separated nlp.pipe batch sizes.")] = "1,8,32",
    passes: Annotated[int, typer.Option("--passes", min=1, help="Timed passes, interleaved.")] = 5,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed passes first.")] = 1,
    latency_docs: Annotated[
        int, typer.Option("--latency-docs", min=0, help="Docs timed one by one (0: skip).")
    ] = 20,
    long_doc_words: Annotated[
        int, typer.Option("--long-doc-words", min=0, help="Words per joined long document (0: skip).")
    ] = 20000,
    threads: Annotated[int, typer.Option("--threads", min=0, help="torch threads (0: torch default).")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Use the first N texts (0: all).")] = 0,
) -> None:
    """Measure pipelines side by side: words/s, latency, long docs, memory, size, F1, encoder GFLOP/s."""
    from ..benchmark.engine import ComparisonSettings
    from ..benchmark.report import write_comparison

    specs = parse_specs(pipelines, reference)
    sizes = parse_batch_sizes(batch_sizes)
    if plot is not None and gold is None and not data_path.is_file():
        raise typer.BadParameter("the F1 plot needs gold docs: pass --gold, or DATA as a .spacy file", param_hint="--plot")
    settings = ComparisonSettings(
        batch_sizes=sizes, passes=passes, warmup=warmup, latency_docs=latency_docs,
        long_doc_words=long_doc_words, threads=threads,
    )
    table = write_comparison(
        specs, data_path, reference=reference, output=output, markdown=markdown, plot=plot, gold=gold,
        settings=settings, limit=limit,
    )
    typer.echo(table)
