"""Training on gold annotations: `spacy train` of a config (the teacher and
the students before distillation, which is `spacy_clinkd.distillation`), plus
a record of its wall-clock time.

OUTPUT/train_summary.json (`TRAIN_SUMMARY`) holds the config, the overrides,
the seconds and minutes the run took and the best dev scores (from
model-best's meta.json); scripts/summarize.py collects these files.
"""
import json
import time
from pathlib import Path
from typing import Any

from spacy.cli.train import train as spacy_train

TRAIN_SUMMARY = "train_summary.json"


def train_pipeline(
    config_path: str | Path,
    output_path: str | Path,
    *,
    use_gpu: int = -1,
    overrides: dict[str, Any] | None = None,
    summary_path: str | Path | None = None,
) -> tuple[float, Path]:
    """Train a pipeline from a config with spaCy's loop and write the summary.

    config_path (Union[str, Path]): the training config.
    output_path (Union[str, Path]): the output directory (model-best, model-last).
    use_gpu (int): GPU id, or -1 for CPU.
    overrides (Optional[Dict[str, Any]]): config overrides, `{"section.key": value}`.
    summary_path (Optional[Union[str, Path]]): where the summary goes; None:
        OUTPUT/train_summary.json.
    RETURNS (Tuple[float, Path]): the wall-clock seconds of training and the
        summary file.
    """
    overrides = overrides or {}
    start = time.perf_counter()
    spacy_train(Path(config_path), Path(output_path), use_gpu=use_gpu, overrides=overrides)
    seconds = time.perf_counter() - start
    target = Path(summary_path) if summary_path is not None else Path(output_path) / TRAIN_SUMMARY
    write_train_summary(
        target,
        config_path=config_path,
        overrides=overrides,
        seconds=seconds,
        best_dev=best_performance(output_path),
    )
    return seconds, target


def best_performance(output_path: str | Path) -> dict[str, Any]:
    """The dev scores in OUTPUT/model-best/meta.json ({} if there is none)."""
    meta = Path(output_path) / "model-best" / "meta.json"
    if not meta.exists():
        return {}
    return json.loads(meta.read_text(encoding="utf8")).get("performance", {})


def write_train_summary(
    target: str | Path,
    *,
    config_path: str | Path,
    overrides: dict[str, Any],
    seconds: float,
    best_dev: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a training summary (the one shape of every train_summary.json):
    config, overrides, seconds, minutes, best dev scores, plus `extra`.

    RETURNS (Path): `target`.
    """
    summary = {
        "config": str(config_path),
        "overrides": {k: str(v) for k, v in overrides.items()},
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 2),
        "best_dev": best_dev,
        **(extra or {}),
    }
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8")
    return target
