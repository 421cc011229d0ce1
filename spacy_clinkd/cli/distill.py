"""`python -m spacy_clinkd distill | teacher-targets | distill-search`:
knowledge distillation from a config (configs/distill.cfg), like `spacy train`.

Extra `--section.key value` arguments override the config, e.g.
`--paths.transfer assets/mtsamples/cogstack_txt_small --distillation.alpha 0.3`.
"""
import itertools
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from spacy.cli._util import parse_config_overrides, show_validation_error
from wasabi import msg

from ..distillation.loop import (
    load_distill_config,
    precompute_targets,
    run_distillation,
)
from ..errors import ClinkdError, Errors
from ._app import app

DEFAULT_RUNS_DIR = Path("training/kd_search")
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def write_summary(
    output_path: Path, *, config_path: Path, overrides: dict[str, Any], seconds: float, result: dict[str, Any]
) -> Path:
    """Write OUTPUT/train_summary.json in the shape `train` writes it, plus
    the distillation details (best step, temperature, α, target counts)."""
    summary = {
        "config": str(config_path),
        "overrides": {k: str(v) for k, v in overrides.items()},
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 2),
        "best_dev": result["best_dev"],
        "best_step": result["best_step"],
        "steps": result["steps"],
        "temperature": result["temperature"],
        "alpha": result["alpha"],
        "targets": result["targets"],
    }
    target = Path(output_path) / "train_summary.json"
    target.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8")
    return target


@app.command("distill", context_settings=EXTRA_ARGS)
def distill_cli(
    ctx: typer.Context,
    config_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Distillation config")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Output directory (must be empty)")],
    force: Annotated[bool, typer.Option("--force", help="Replace earlier outputs in a non-empty --output")] = False,
) -> None:
    """Distill the teacher into the student: prints a table like `spacy train`,
    saves OUTPUT/model-best and OUTPUT/model-last, writes train_summary.json."""
    overrides = parse_config_overrides(ctx.args)
    start = time.perf_counter()
    with show_validation_error(config_path, hint_fill=False):
        config = load_distill_config(config_path, overrides)
        result = run_distillation(config, output_path, force=force)
    seconds = time.perf_counter() - start
    target = write_summary(output_path, config_path=config_path, overrides=overrides, seconds=seconds, result=result)
    msg.good(f"Distillation took {seconds / 60:.1f} min; summary in {target}")


@app.command("teacher-targets", context_settings=EXTRA_ARGS)
def teacher_targets_cli(
    ctx: typer.Context,
    config_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Distillation config")],
) -> None:
    """Compute the teacher's targets for the train, transfer and dev docs of
    a distillation config into its cache (paths.targets_cache), once."""
    overrides = parse_config_overrides(ctx.args)
    with show_validation_error(config_path, hint_fill=False):
        config = load_distill_config(config_path, overrides)
        counts = precompute_targets(config)
    msg.good(
        f"Teacher targets in {counts['cache'] or 'memory'}: {counts['train_docs']} train docs, "
        f"{counts['transfer_chunks']} transfer chunks, {counts['dev_docs']} dev docs "
        f"({counts['labelled_now']} labelled now, the rest from the cache)"
    )
    if counts["teacher_report"]:
        msg.info(f"Teacher report: {counts['teacher_report']}")


def parse_numbers(value: str, option: str) -> list[float]:
    """'1,2,4' → [1.0, 2.0, 4.0]."""
    try:
        numbers = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers:
        raise ClinkdError(Errors.E364.format(value=value, option=option))
    return numbers


def search_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of grid-search results, best dev score first."""
    def pct(value: Any) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    lines = [
        "| T | α | best step | dev score | ents_f | ents_p | ents_r | dev KL | agreement % | minutes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: -(r["score"] or 0.0)):
        dev_kl = "-" if row["dev_kl"] is None else f"{row['dev_kl']:.3f}"
        lines.append(
            f"| {row['temperature']:g} | {row['alpha']:g} | {row['best_step']} | {row['score']:.3f} | "
            f"{pct(row['ents_f'])} | {pct(row['ents_p'])} | {pct(row['ents_r'])} | {dev_kl} | "
            f"{pct(row['dev_agreement'])} | {row['minutes']:.1f} |"
        )
    return "\n".join(lines) + "\n"


@app.command("distill-search", context_settings=EXTRA_ARGS)
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
    """Grid search over temperature × α with the distillation loop (targets
    come from the shared cache, so the teacher runs at most once)."""
    overrides = parse_config_overrides(ctx.args)
    if max_steps:
        overrides["distillation.max_steps"] = max_steps
    grid = list(itertools.product(parse_numbers(temperatures, "--temperatures"), parse_numbers(alphas, "--alphas")))
    rows: list[dict[str, Any]] = []
    for temperature, alpha in grid:
        run_overrides = {**overrides, "distillation.temperature": temperature, "distillation.alpha": alpha}
        run_dir = runs_dir / f"T{temperature:g}_a{alpha:g}"
        msg.divider(f"T = {temperature:g}, α = {alpha:g} → {run_dir}")
        start = time.perf_counter()
        with show_validation_error(config_path, hint_fill=False):
            config = load_distill_config(config_path, run_overrides)
            result = run_distillation(config, run_dir, force=force)
        seconds = time.perf_counter() - start
        write_summary(run_dir, config_path=config_path, overrides=run_overrides, seconds=seconds, result=result)
        best = next((r for r in result["log"] if r["step"] == result["best_step"]), {})
        rows.append(
            {
                "temperature": temperature,
                "alpha": alpha,
                "best_step": result["best_step"],
                "score": best.get("score"),
                "ents_f": best.get("ents_f"),
                "ents_p": best.get("ents_p"),
                "ents_r": best.get("ents_r"),
                "dev_kl": best.get("dev_kl"),
                "dev_agreement": best.get("dev_agreement"),
                "minutes": seconds / 60,
            }
        )
    header = (
        f"# Distillation grid search\n\nConfig `{config_path}`, overrides "
        f"`{ {k: str(v) for k, v in overrides.items()} }`; best dev checkpoint per run "
        f"(runs in `{runs_dir}`). ents_* and agreement in %, dev KL at T = 1.\n\n"
    )
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(header + search_table(rows), encoding="utf8")
    msg.good(f"{len(rows)} runs; results in {output_path}")
