"""Grid search over temperature × α: one distillation per grid point, all
sharing the teacher-target cache (so the teacher runs at most once), and a
markdown table of the best dev checkpoint of each."""
import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wasabi import msg

from ..errors import ClinkdError, Errors
from ..report.tables import table
from .training import distill, load_distill_config, write_summary

ALPHA_KEY = "components.clinkd_ner.kd_alpha"
TEMPERATURE_KEY = "components.clinkd_ner.kd_temperature"


def parse_numbers(value: str, option: str) -> list[float]:
    """'1,2,4' → [1.0, 2.0, 4.0]; E364 naming `option` if it is no list."""
    try:
        numbers = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers:
        raise ClinkdError(Errors.E364.format(value=value, option=option))
    return numbers


def grid_search(
    config_path: Path,
    *,
    temperatures: Sequence[float],
    alphas: Sequence[float],
    runs_dir: Path,
    overrides: dict[str, Any],
    force: bool = False,
) -> list[dict[str, Any]]:
    """Distill once per (T, α) into RUNS_DIR/T{T}_a{α}, each with its
    train_summary.json.

    RETURNS (List[Dict[str, Any]]): per run: temperature, alpha, best_step,
        the best checkpoint's scores and minutes.
    """
    rows: list[dict[str, Any]] = []
    for temperature, alpha in itertools.product(temperatures, alphas):
        run_overrides = {**overrides, TEMPERATURE_KEY: temperature, ALPHA_KEY: alpha}
        run_dir = runs_dir / f"T{temperature:g}_a{alpha:g}"
        msg.divider(f"T = {temperature:g}, α = {alpha:g} → {run_dir}")
        start = time.perf_counter()
        config = load_distill_config(config_path, run_overrides)
        result = distill(config, run_dir, force=force)
        seconds = time.perf_counter() - start
        write_summary(run_dir, config_path=config_path, overrides=run_overrides, seconds=seconds, result=result)
        best = next((r for r in result["log"] if r["step"] == result["best_step"]), {})
        rows.append(
            {
                "temperature": temperature,
                "alpha": alpha,
                "best_step": result["best_step"],
                **{key: best.get(key) for key in ("score", "ents_f", "ents_p", "ents_r", "kd_kl", "kd_agreement")},
                "minutes": seconds / 60,
            }
        )
    return rows


def search_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of grid-search results, best dev score first."""

    def pct(value: Any) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    header = ["T", "α", "best step", "dev score", "ents_f", "ents_p", "ents_r", "dev KL", "agreement %", "minutes"]
    body = [
        [f"{row['temperature']:g}", f"{row['alpha']:g}", row["best_step"], f"{row['score']:.3f}",
         pct(row["ents_f"]), pct(row["ents_p"]), pct(row["ents_r"]),
         "-" if row["kd_kl"] is None else f"{row['kd_kl']:.3f}", pct(row["kd_agreement"]), f"{row['minutes']:.1f}"]
        for row in sorted(rows, key=lambda r: -(r["score"] or 0.0))
    ]
    return "\n".join(table(header, body, align="l" * len(header))) + "\n"


def write_search_report(
    output_path: Path, rows: list[dict[str, Any]], *, config_path: Path, overrides: dict[str, Any], runs_dir: Path
) -> Path:
    """The search table with a header naming config, overrides and runs."""
    header = (
        f"# Distillation grid search\n\nConfig `{config_path}`, overrides "
        f"`{ {k: str(v) for k, v in overrides.items()} }`; best dev checkpoint per run "
        f"(runs in `{runs_dir}`). ents_* and agreement in %, dev KL at T = 1.\n\n"
    )
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(header + search_table(rows), encoding="utf8")
    return output_path
