"""`python -m spacy_clinkd train`: `spacy train` with clean errors and a
record of the wall-clock training time."""
import json
import time
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides, show_validation_error
from spacy.cli.train import train as spacy_train
from wasabi import msg

from ._app import app


@app.command(
    "train",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
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
    overrides = parse_config_overrides(ctx.args)
    start = time.perf_counter()
    with show_validation_error(config_path, hint_fill=False):
        spacy_train(config_path, output_path, use_gpu=use_gpu, overrides=overrides)
    seconds = time.perf_counter() - start
    best_meta = Path(output_path) / "model-best" / "meta.json"
    performance = (
        json.loads(best_meta.read_text(encoding="utf8")).get("performance", {})
        if best_meta.exists()
        else {}
    )
    summary = {
        "config": str(config_path),
        "overrides": {k: str(v) for k, v in overrides.items()},
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 2),
        "best_dev": performance,
    }
    target = summary_path or Path(output_path) / "train_summary.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8")
    msg.good(f"Training took {seconds / 60:.1f} min; summary in {target}")
