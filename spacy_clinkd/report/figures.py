"""PNG figures of the reports: matplotlib without a display, written
atomically with fixed metadata (the same numbers give the same bytes)."""
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..paths import write_atomic


def pyplot() -> Any:
    """RETURNS (module): `matplotlib.pyplot` on the Agg backend (no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: str | Path) -> Path:
    """Write `fig` to `path` as PNG, atomically, and close it.

    RETURNS (Path): the file.
    """
    import matplotlib.pyplot as plt

    path = Path(path)

    def save(tmp: Path) -> None:
        # Fixed metadata so re-runs of the same numbers write the same bytes.
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})

    try:
        write_atomic(path, save)
    finally:
        plt.close(fig)
    return path


def error_bars(values: Sequence[float], intervals: Sequence[Sequence[float] | None]) -> list[list[float]]:
    """Matplotlib's asymmetric `yerr`/`xerr` from intervals around values.

    A percentile interval need not contain its point estimate, and an error
    bar cannot be negative: the part of an interval on the wrong side of its
    value is drawn as 0. A value without an interval gets no bar.

    values (Sequence[float]): the points.
    intervals (Sequence[Optional[Sequence[float]]]): [lo, hi] per point, or None.
    RETURNS (List[List[float]]): [below, above], one entry per point.
    """
    below = [0.0 if iv is None else max(0.0, v - iv[0]) for v, iv in zip(values, intervals, strict=True)]
    above = [0.0 if iv is None else max(0.0, iv[1] - v) for v, iv in zip(values, intervals, strict=True)]
    return [below, above]
