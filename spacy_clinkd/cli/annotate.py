"""`python -m spacy_clinkd annotate MODEL INPUT OUTPUT`: batch annotation, resumable."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._app import USER_PANEL, app


@app.command("annotate", rich_help_panel=USER_PANEL)
def annotate_cli(
    model: Annotated[str, typer.Argument(help="Pipeline directory or installed package name.")],
    input_path: Annotated[
        Path, typer.Argument(help="A folder of .txt files (recursive), a .jsonl of {id, text}, or a .csv.")
    ],
    output: Annotated[
        Path, typer.Argument(help="JSONL output, one record per note; re-running resumes it.")
    ],
    *,
    input_format: Annotated[
        str | None, typer.Option("--format", help="folder, jsonl or csv (default: from INPUT).")
    ] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="CSV column of the note id.")] = "id",
    text_column: Annotated[str, typer.Option("--text-column", help="CSV column of the note text.")] = "text",
    engine: Annotated[str, typer.Option("--engine", help="local (nlp.pipe) or dask (dask.distributed).")] = "local",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size of nlp.pipe.")] = 32,
    n_process: Annotated[int, typer.Option("--n-process", help="nlp.pipe processes (local engine).")] = 1,
    workers: Annotated[
        int, typer.Option("--workers", help="Workers of the Dask LocalCluster (dask engine).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Join the Dask scheduler at this address instead of a LocalCluster."),
    ] = None,
    partition_size: Annotated[
        int, typer.Option("--partition-size", help="Notes per Dask task and per write of the output.")
    ] = 256,
    docbin: Annotated[
        Path | None, typer.Option("--docbin", help="Also write the docs as DocBin shards into this folder.")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Annotate the notes of the errors file again.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Also write the counts and timing as JSON here.")
    ] = None,
) -> None:
    """Annotate every note of INPUT into OUTPUT (entities, scores, assertion), resumably."""
    from ..annotate.run import annotate

    result = annotate(
        model,
        input_path,
        output,
        input_format=input_format,
        id_column=id_column,
        text_column=text_column,
        engine=engine,
        batch_size=batch_size,
        n_process=n_process,
        workers=workers,
        scheduler=scheduler,
        partition_size=partition_size,
        docbin=docbin,
        retry_failed=retry_failed,
        progress=progress,
    )
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf8")
    typer.echo(f"✔ {result.message()}")
