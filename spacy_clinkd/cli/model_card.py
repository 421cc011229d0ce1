"""`python -m spacy_clinkd model-card`: README.md and plots for the packaged
pipeline, from the metrics JSON files of the project."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report.card_data import DEFAULT_FACTS
from ._app import BUILD_PANEL, app


@app.command("model-card", rich_help_panel=BUILD_PANEL)
def model_card_cli(
    output_dir: Annotated[
        Path,
        typer.Argument(help="Pipeline directory to write README.md and the plots into (what `spacy package` packages)."),
    ],
    *,
    test: Annotated[Path, typer.Option("--test", help="`evaluate` metrics JSON on the test set (required).")],
    meta: Annotated[Path, typer.Option("--meta", help="meta.json: name, version, description, license, sources (required).")],
    facts: Annotated[
        Path,
        typer.Option(
            "--facts",
            help="The corpus facts the card states: test set name, what each type is, external sets' names and notes.",
        ),
    ] = DEFAULT_FACTS,
    dev: Annotated[
        Path | None, typer.Option("--dev", help="`evaluate` metrics JSON on dev, for its assertion scores.")
    ] = None,
    external: Annotated[
        list[Path] | None,
        typer.Option("--external", help="`evaluate` metrics JSON on an external test set, repeatable (one row block each)."),
    ] = None,
    external_name: Annotated[
        list[str] | None,
        typer.Option(
            "--external-name",
            help="Name of each external set in the card, repeatable, paired with --external in order (default: the "
            "name --facts gives its data, else one made from its data path).",
        ),
    ] = None,
    teacher: Annotated[
        Path | None, typer.Option("--teacher", help="The teacher's `evaluate` metrics JSON on the same test set (teacher ratio).")
    ] = None,
    benchmark: Annotated[
        Path | None, typer.Option("--benchmark", help="`benchmark-compare` output JSON (speed on CPU).")
    ] = None,
    speed_pipelines: Annotated[
        list[str] | None,
        typer.Option(
            "--speed-pipeline",
            help="Benchmark name of this pipeline's rows, repeatable (default: the rows loaded as the package name or OUTPUT_DIR).",
        ),
    ] = None,
    speed_teacher: Annotated[
        str, typer.Option("--speed-teacher", help="Benchmark name of the teacher.")
    ] = "teacher",
    speed_baseline: Annotated[
        str, typer.Option("--speed-baseline", help="Benchmark name of the CNN baseline.")
    ] = "cnn-ner",
    fragmentation: Annotated[
        Path | None, typer.Option("--fragmentation", help="fragmentation.json of extend-vocab / vocab-report.")
    ] = None,
    transfer_report: Annotated[
        Path | None,
        typer.Option("--transfer-report", help="`transfer-set --report` JSON: the transfer set's licences."),
    ] = None,
    encoder: Annotated[
        Path | None,
        typer.Option(
            "--encoder",
            help="The encoder directory the student was trained from: the card says whether its vocabulary is the extended one (the fragmentation plot is drawn only then).",
        ),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="The project directory, for the card's provenance: its git commit and the data checksums of its project.lock (else project.yml's pins).",
        ),
    ] = None,
) -> None:
    """Write the model card (README.md, which `spacy package` copies into the
    package) and its plots; inputs not given or not on disk are reported as
    not measured."""
    from ..report.model_card import write_model_card

    result = write_model_card(
        output_dir,
        test=test,
        meta=meta,
        facts=facts,
        dev=dev,
        external=external or [],
        external_name=external_name or None,
        teacher=teacher,
        benchmark=benchmark,
        fragmentation=fragmentation,
        transfer_report=transfer_report,
        encoder=encoder,
        project=project,
        speed_pipelines=speed_pipelines or (),
        speed_teacher=speed_teacher,
        speed_baseline=speed_baseline,
    )
    for key, reason in result["not_measured"].items():
        typer.echo(f"ℹ not measured: {key} ({reason})")
    plots = ", ".join(path.name for path in result["plots"])
    typer.echo(f"✔ Wrote {result['readme']} and {plots}")
