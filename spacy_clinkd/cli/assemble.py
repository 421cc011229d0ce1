"""`python -m spacy_clinkd assemble MODEL OUTPUT`: add assertion status to a trained pipeline."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import BUILD_PANEL, app


@app.command("assemble", rich_help_panel=BUILD_PANEL)
def assemble_cli(
    model: Annotated[str, typer.Argument(help="Trained pipeline directory (clinkd_ner) or package name.")],
    output: Annotated[Path, typer.Argument(help="Directory for the assembled pipeline.")],
    *,
    after: Annotated[str, typer.Option("--after", help="The entity component to follow.")] = "clinkd_ner",
    int8: Annotated[
        bool, typer.Option("--int8", help="Quantize the encoder to int8 (ONNX Runtime) and save it too.")
    ] = False,
    inference: Annotated[
        str, typer.Option("--inference", help="Default precision of the saved pipeline: fp32 or int8.")
    ] = "fp32",
    keep_fp32: Annotated[
        list[str] | None,
        typer.Option("--keep-fp32", help="With --int8: encoder weight-name prefix kept fp32 (e.g. encoder.layer.0). Repeat."),
    ] = None,
    assertion: Annotated[
        str,
        typer.Option(
            "--assertion",
            help="clinkd_assertion's backend: 'rules' (the cue rules), or the folder of a trained "
            "classifier (train-assertion's output), saved inside the pipeline and chosen.",
        ),
    ] = "rules",
) -> None:
    """Add sentence boundaries and clinkd_assertion (present/absent/possible) after the NER."""
    from ..pipeline.assemble import assemble_pipeline

    names = assemble_pipeline(
        model, output, after=after, int8=int8, inference=inference, keep_fp32=keep_fp32 or (),
        assertion_classifier=None if assertion == "rules" else Path(assertion),
    )
    typer.echo(f"✔ Wrote {output}: {' → '.join(names)}")
