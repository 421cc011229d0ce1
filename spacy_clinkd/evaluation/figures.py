"""PNG figures of the reports: matplotlib without a display, written
atomically with fixed metadata (the same numbers give the same bytes)."""
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
