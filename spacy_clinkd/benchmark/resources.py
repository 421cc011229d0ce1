"""What a pipeline holds and costs in memory: the process's resident set
size now and at its peak (Linux's /proc/self/status, else `ru_maxrss`), the
bytes of a pipeline on disk, and the parameters of its components.

`resource` is Unix-only: it is imported inside `peak_rss_mib`, the one
function that uses it, so that everything else (and the CLI) runs on Windows.
"""
import sys
from pathlib import Path
from typing import Any


def _status_mib(field: str) -> float | None:
    """RETURNS (Optional[float]): a size field of /proc/self/status (VmRSS,
    VmHWM), in MiB; None where there is no such file (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def current_rss_mib() -> float | None:
    """RETURNS (Optional[float]): resident set size now, in MiB (Linux only)."""
    return _status_mib("VmRSS")


def peak_rss_mib() -> float | None:
    """RETURNS (Optional[float]): the process's peak resident set size so far,
    in MiB: VmHWM on Linux, which starts afresh at exec (`ru_maxrss` does not:
    Linux carries it over fork and exec, so a child started by a large process
    would report its parent's peak), else `ru_maxrss`; None where neither
    exists (Windows has no `resource` module)."""
    own = _status_mib("VmHWM")
    if own is not None:
        return own
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def peak_rss_at_least(*samples: float | None) -> float | None:
    """RETURNS (Optional[float]): the peak RSS in MiB, never below an RSS
    sampled earlier (the high-water mark can miss memory released with
    madvise); None where no reading exists at all."""
    readings = [mib for mib in (peak_rss_mib(), *samples, current_rss_mib()) if mib is not None]
    return max(readings, default=None)


def directory_bytes(path: str | Path) -> int:
    """RETURNS (int): total size of the files under `path`."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def count_parameters(nlp: Any) -> int:
    """Parameters of every component's model: thinc params plus the torch
    weights that spacy-transformers keeps in shims."""
    total = 0
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            for shim in node.shims:
                torch_model = getattr(shim, "_model", None)
                if torch_model is not None and hasattr(torch_model, "parameters"):
                    total += sum(p.numel() for p in torch_model.parameters())
            for name in node.param_names:
                if node.has_param(name):
                    total += int(node.get_param(name).size)
    return total
