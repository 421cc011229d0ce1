"""`python -m spacy_clinkd distill | teacher-targets | distill-search`:
knowledge distillation from a config (configs/distill.cfg laid over the
student's training config), run by spaCy's training loop.

Extra `--section.key value` arguments override the config, e.g.
`--paths.transfer assets/mtsamples/cogstack_txt_small --components.clinkd_ner.kd_alpha 0.3`.
"""
import time
from pathlib import Path
from typing import Annotated

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app

DEFAULT_RUNS_DIR = Path("training/kd_search")
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command("distill", context_settings=EXTRA_ARGS, rich_help_panel=BUILD_PANEL)
def distill_cli(
    ctx: typer.Context,
    config_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Distillation config")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Output directory (must be empty)")],
    force: Annotated[bool, typer.Option("--force", help="Replace earlier outputs in a non-empty --output")] = False,
) -> None:
    """Distill the teacher into the student: prints spaCy's training table,
    saves OUTPUT/model-best and OUTPUT/model-last, writes train_summary.json."""
    from spacy.cli._util import parse_config_overrides, show_validation_error

    from ..distillation.training import distill, load_distill_config, write_summary

    overrides = parse_config_overrides(ctx.args)
    start = time.perf_counter()
    with show_validation_error(config_path, hint_fill=False):
        config = load_distill_config(config_path, overrides)
        result = distill(config, output_path, force=force)
    seconds = time.perf_counter() - start
    target = write_summary(output_path, config_path=config_path, overrides=overrides, seconds=seconds, result=result)
    msg.good(f"Distillation took {seconds / 60:.1f} min; summary in {target}")


@app.command("teacher-targets", context_settings=EXTRA_ARGS, rich_help_panel=BUILD_PANEL)
def teacher_targets_cli(
    ctx: typer.Context,
    config_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Distillation config")],
) -> None:
    """Compute the teacher's targets for the train, transfer and dev docs of
    a distillation config into its cache (paths.targets_cache), once."""
    from spacy.cli._util import parse_config_overrides, show_validation_error

    from ..distillation.training import load_distill_config, precompute_targets

    overrides = parse_config_overrides(ctx.args)
    with show_validation_error(config_path, hint_fill=False):
        counts = precompute_targets(load_distill_config(config_path, overrides))
    train, dev = counts["train"], counts["dev"]
    msg.good(
        f"Teacher targets in {train['cache'] or 'memory'}: {train['gold_docs']} train docs, "
        f"{train['transfer_chunks']} transfer chunks, {dev['gold_docs']} dev docs "
        f"({train['labelled_now'] + dev['labelled_now']} labelled now, the rest from the cache)"
    )
    if train["teacher"]:
        msg.info(f"Teacher counts: {train['teacher']}")


@app.command("distill-search", context_settings=EXTRA_ARGS, rich_help_panel=BUILD_PANEL)
def distill_search_cli(
    ctx: typer.Context,
    config_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Distillation config")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Markdown results table")],
    temperatures: Annotated[str, typer.Option("--temperatures", help="Comma-separated temperatures")] = "1,2,4",
    alphas: Annotated[str, typer.Option("--alphas", help="Comma-separated α values")] = "0.1,0.5,0.9",
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="One output dir per grid point")] = DEFAULT_RUNS_DIR,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Steps per run (0: the config's)")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace earlier outputs in the run dirs")] = False,
) -> None:
    """Grid search over temperature × α (targets come from the shared cache,
    so the teacher runs at most once)."""
    from spacy.cli._util import parse_config_overrides, show_validation_error

    from ..distillation.search import grid_search, parse_numbers, write_search_report

    overrides = parse_config_overrides(ctx.args)
    if max_steps:
        overrides["training.max_steps"] = max_steps
    with show_validation_error(config_path, hint_fill=False):
        rows = grid_search(
            config_path,
            temperatures=parse_numbers(temperatures, "--temperatures"),
            alphas=parse_numbers(alphas, "--alphas"),
            runs_dir=runs_dir,
            overrides=overrides,
            force=force,
        )
    write_search_report(output_path, rows, config_path=config_path, overrides=overrides, runs_dir=runs_dir)
    msg.good(f"{len(rows)} runs; results in {output_path}")
