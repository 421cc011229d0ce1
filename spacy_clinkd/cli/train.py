"""`python -m spacy_clinkd train`: `spacy train` with clean errors and a
record of the wall-clock training time."""
from pathlib import Path

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app


@app.command(
    "train",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    rich_help_panel=BUILD_PANEL,
)
def train_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Training config"),
    output_path: Path = typer.Option(..., "--output", "-o", help="Output directory"),
    use_gpu: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
    summary_path: Path | None = typer.Option(None, "--summary", help="Where to write timing JSON (default OUTPUT/train_summary.json)"),
) -> None:
    """Train a pipeline from a config; extra `--section.key value` arguments
    override the config, as with `spacy train`."""
    from spacy.cli._util import parse_config_overrides, show_validation_error

    from ..gold_training import train_pipeline

    overrides = parse_config_overrides(ctx.args)
    with show_validation_error(config_path, hint_fill=False):
        seconds, target = train_pipeline(
            config_path, output_path, use_gpu=use_gpu, overrides=overrides, summary_path=summary_path
        )
    msg.good(f"Training took {seconds / 60:.1f} min; summary in {target}")
