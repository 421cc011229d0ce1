"""`convert-brat`, `convert-conll`, `convert-pubtator`: corpora → .spacy files.

Each command writes DocBins (entities plus `user_data["doc_id"]`), a JSON
conversion report where asked, and prints the report as a table.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import BUILD_PANEL, app

if TYPE_CHECKING:
    from ..corpora.conversion_report import ConversionReport

InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Input file")]
OutputFile = Annotated[Path, typer.Argument(help="The .spacy file to write")]
Labels = Annotated[
    Path,
    typer.Option("--labels", exists=True, dir_okay=False, help="JSON label map: corpus type → label"),
]
ReportPath = Annotated[
    Path | None, typer.Option("--report", help="Write the conversion report JSON here")
]
Limit = Annotated[
    int | None, typer.Option("--limit", min=1, help="Keep only the first N docs (of each split)")
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Stop at the first annotation whose surface text differs from the text at its "
        "offsets, or a duplicate id, instead of dropping and counting it",
    ),
]


def _print_report(report: ConversionReport, written: str) -> None:
    typer.echo(report.table())
    typer.echo(f"\n✔ Wrote {written}")


def _convert_file(
    parse: Callable, input_file: Path, output_file: Path, labels: Path, report: Path | None, limit: int | None
) -> None:
    """One corpus file → one .spacy file (`corpora.convert.convert_file`), the report printed."""
    from ..corpora.convert import convert_file

    result = convert_file(parse, input_file, output_file, labels_path=labels, report_path=report, limit=limit)
    _print_report(result, str(output_file) + (f" and {report}" if report else ""))


@app.command("convert-brat", rich_help_panel=BUILD_PANEL)
def convert_brat_cli(
    brat_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Folder of ID.txt / ID.ann pairs")
    ],
    output_dir: Annotated[Path, typer.Argument(help="Folder for SPLIT.spacy and report.json")],
    split: Annotated[
        Path,
        typer.Option("--split", exists=True, dir_okay=False, help="JSON split file: name → doc ids"),
    ],
    labels: Labels,
    aux_labels: Annotated[
        Path | None,
        typer.Option(
            "--aux-labels",
            exists=True,
            dir_okay=False,
            help="JSON label map of auxiliary types: extra training signal, kept where they "
            "overlap no entity of --labels (a model trained on them ships --labels only)",
        ),
    ] = None,
    context_labels: Annotated[
        Path | None,
        typer.Option(
            "--context-labels",
            exists=True,
            dir_okay=False,
            help="JSON map of corpus type → context value (historical, hypothetical, family), "
            "e.g. History → historical: each entity gets the values of the spans of these types "
            "that contain it as gold context (user_data clinkd_contexts); entities unchanged",
        ),
    ] = None,
    limit: Limit = None,
    strict: Strict = False,
) -> None:
    """Convert a brat corpus, split by document id, to one .spacy file per split."""
    from ..corpora.brat import convert_brat

    report = convert_brat(
        brat_dir, output_dir, split_path=split, labels_path=labels, aux_labels_path=aux_labels,
        context_labels_path=context_labels, limit=limit, strict=strict,
    )
    files = ", ".join(f"{name}.spacy" for name in report.docs)
    _print_report(report, f"{files} and report.json to {output_dir}")


@app.command("convert-conll", rich_help_panel=BUILD_PANEL)
def convert_conll_cli(
    input_file: InputFile,
    output_file: OutputFile,
    labels: Labels,
    n_sents: Annotated[int, typer.Option("--n-sents", min=1, help="Sentences per Doc")] = 1,
    report: ReportPath = None,
    limit: Limit = None,
) -> None:
    """Convert a pre-tokenized CoNLL/BIO file (token<TAB>tag) to a .spacy file."""
    from ..corpora.conll import parse_conll

    _convert_file(partial(parse_conll, n_sents=n_sents), input_file, output_file, labels, report, limit)


@app.command("convert-pubtator", rich_help_panel=BUILD_PANEL)
def convert_pubtator_cli(
    input_file: InputFile,
    output_file: OutputFile,
    labels: Labels,
    report: ReportPath = None,
    limit: Limit = None,
    strict: Strict = False,
) -> None:
    """Convert a PubTator file (title, abstract, mentions) to a .spacy file."""
    from ..corpora.pubtator import parse_pubtator

    _convert_file(partial(parse_pubtator, strict=strict), input_file, output_file, labels, report, limit)
