"""`python -m spacy_clinkd transfer-set`: the unlabelled notes the teacher
labels for distillation, from several corpora, as one JSONL."""
from pathlib import Path
from typing import Annotated

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app


@app.command("transfer-set", rich_help_panel=BUILD_PANEL)
def transfer_set_cli(
    output: Annotated[Path, typer.Argument(help="JSONL to write: {id, text, licence} per note")],
    sources: Annotated[
        list[str],
        typer.Option(
            "--source",
            help="FORMAT:FIELD:PATH, repeatable, in priority order for duplicate texts: "
            "'jsonl:text:e3c.jsonl' or 'csv:transcription:mtsamples.csv.gz'",
        ),
    ],
    licences: Annotated[
        list[str] | None,
        typer.Option(
            "--licence",
            help="Keep only records whose 'licence' field is this, repeatable (e.g. 'CC BY'); "
            "records that state none are left out. Default: keep all",
        ),
    ] = None,
    max_docs: Annotated[int, typer.Option("--max-docs", min=0, help="A seeded sample of this many notes (0: all)")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample")] = 0,
    report: Annotated[Path | None, typer.Option("--report", help="Counts JSON to write")] = None,
) -> None:
    """Filter by licence, deduplicate on the text and sample the sources' notes."""
    from ..corpora.transfer_set import Source, write_transfer_set

    result = write_transfer_set(
        [Source.parse(spec) for spec in sources],
        output,
        report_path=report,
        licences=licences or (),
        max_docs=max_docs,
        seed=seed,
    )
    summary = result.to_dict()
    dropped = ", ".join(f"{reason} {sum(c.values())}" for reason, c in summary["dropped"].items()) or "none"
    msg.good(f"Wrote {result.written} notes to {output} (read {sum(result.read.values())}; left out: {dropped})")
    msg.text(f"Licences written: {summary['licences_written']}")
