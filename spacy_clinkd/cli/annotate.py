"""`python -m spacy_clinkd annotate MODEL INPUT OUTPUT`: batch annotation, resumable.

Exit status:
- 0: every note of INPUT has a record in OUTPUT;
- 1: the run stopped on an error (one ✘ message; records written so far are kept);
- 2: wrong usage (an unknown option, a missing argument);
- 3: the run finished, but some notes have no record (they failed in this run or
  an earlier one): the reasons are in the errors file, `--retry-failed` tries them again;
- 128 + N: stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); the same
  command resumes.
"""
from __future__ import annotations

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
    inference: Annotated[
        str | None,
        typer.Option("--inference", help="Run clinkd_ner at this precision (fp32 or int8); default: as saved."),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size of nlp.pipe.")] = 32,
    n_process: Annotated[int, typer.Option("--n-process", help="Worker processes (local engine).")] = 1,
    workers: Annotated[
        int, typer.Option("--workers", help="Workers of the Dask LocalCluster (dask engine).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Join the Dask scheduler at this address instead of a LocalCluster."),
    ] = None,
    partition_size: Annotated[
        int, typer.Option("--partition-size", help="Notes per write of the output and per worker or Dask task.")
    ] = 256,
    window_chars: Annotated[
        int,
        typer.Option(
            "--window-chars", help="Annotate a longer note in windows of at most this many characters, cut at line breaks."
        ),
    ] = 100_000,
    max_chars: Annotated[
        int | None,
        typer.Option("--max-chars", help="File a longer note as an error instead of annotating it (default: no limit)."),
    ] = None,
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
    """Annotate every note of INPUT into OUTPUT (entities, scores, assertion), resumably.
    Exit status 0: every note annotated; 1: stopped on an error; 3: some notes failed
    (see the errors file); 128 + N: stopped by signal N (re-run to resume)."""
    from ..annotate.inputs import printable
    from ..annotate.processes import AnnotateInterrupted
    from ..annotate.run import annotate
    from ..errors import Errors

    try:
        result = annotate(
            model,
            input_path,
            output,
            input_format=input_format,
            id_column=id_column,
            text_column=text_column,
            engine=engine,
            inference=inference,
            batch_size=batch_size,
            n_process=n_process,
            workers=workers,
            scheduler=scheduler,
            partition_size=partition_size,
            window_chars=window_chars,
            max_chars=max_chars,
            docbin=docbin,
            summary=summary,
            retry_failed=retry_failed,
            progress=progress,
        )
    except AnnotateInterrupted as err:
        done = err.summary
        message = Errors.E427.format(
            signal=err.name, written=done.written if done else 0, failed=done.failed if done else 0
        )
        typer.echo(f"✘ {message}", err=True)
        raise typer.Exit(err.exit_code) from None
    if result.complete:
        typer.echo(f"✔ {printable(result.message())}")
        return
    typer.echo(f"✘ {printable(result.message())}")
    typer.echo(
        f"✘ {result.not_annotated} of {result.total} notes have no record ({result.failed} failed in this run, "
        f"{result.failed_before} before): see {printable(result.errors)}; fix them and run again with "
        "--retry-failed.",
        err=True,
    )
    raise typer.Exit(3)
