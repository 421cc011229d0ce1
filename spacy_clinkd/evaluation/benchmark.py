"""Efficiency benchmark of a pipeline on CPU: throughput, latency, memory,
size and parameters, measured the same way for every model.

- Throughput: `nlp.pipe` over all texts, `repeats` timed passes after
  `warmup` untimed ones; words/s per pass (words = non-space spaCy tokens),
  reported as median, min and max.
- Latency: `nlp(text)` on single documents (what an interactive app sees),
  per document in milliseconds: p50, p95 and max.
- Memory: the process's resident set size before loading the model, after
  loading it, and its peak at the end (`ru_maxrss`, and never below an RSS
  sampled earlier). Run one model per process: the peak of a process never
  goes down.
- Size: bytes on disk of the pipeline directory (or installed package);
  parameters of every component (transformer weights included).

Timing assertions do not belong in tests (machines differ); this module is
what measures speed, and `docs/RESULTS.md` records its output.
"""
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..paths import check_distinct, check_output_file, write_text_atomic
from ..pipeline.loading import load_pipeline, pipeline_path


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


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile `q` (0-100) of `values`."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def read_benchmark_texts(path: str | Path, *, limit: int = 0) -> list[str]:
    """Texts to process: a `.spacy` DocBin, or a directory of `.txt` files.

    limit (int): keep the first `limit` texts (0: all).
    RAISES ClinkdError: nothing to read.
    """
    path = Path(path)
    if path.is_dir():
        texts = []
        for file in sorted(path.glob("*.txt")):
            try:
                texts.append(file.read_text(encoding="utf8"))
            except UnicodeDecodeError as err:
                raise ClinkdError(Errors.E258.format(path=file, reason=err)) from err
    elif path.is_file():
        import spacy
        from spacy.tokens import DocBin

        try:
            docs = DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)
            texts = [doc.text for doc in docs]
        except (OSError, ValueError, KeyError) as err:
            raise ClinkdError(Errors.E258.format(path=path, reason=err)) from err
    else:
        texts = []
    texts = [t for t in texts if t.strip()]
    if limit:
        texts = texts[:limit]
    if not texts:
        raise ClinkdError(Errors.E256.format(path=path))
    return texts


def benchmark_pipeline(
    model: str,
    texts: Sequence[str],
    *,
    batch_size: int = 8,
    repeats: int = 3,
    warmup: int = 1,
    latency_docs: int = 20,
    threads: int = 0,
) -> dict[str, Any]:
    """Measure one pipeline (see the module docstring).

    model (str): pipeline directory or installed package name.
    texts (Sequence[str]): the documents.
    batch_size (int): `nlp.pipe` batch size.
    repeats (int): timed throughput passes (>= 1).
    warmup (int): untimed passes first (>= 0).
    latency_docs (int): documents timed one by one (0: skip latency).
    threads (int): torch intra-op threads; 0 keeps torch's default.
    RETURNS (Dict[str, Any]): the measurements and the settings.
    """
    import spacy
    import torch

    if repeats < 1 or warmup < 0 or latency_docs < 0 or batch_size < 1:
        raise ClinkdError(
            Errors.E257.format(repeats=repeats, warmup=warmup, latency_docs=latency_docs, batch_size=batch_size)
        )
    if threads:
        torch.set_num_threads(threads)
    rss_before = current_rss_mib()
    start = time.perf_counter()
    nlp = load_pipeline(model)
    load_seconds = time.perf_counter() - start
    rss_loaded = current_rss_mib()
    n_words = sum(1 for doc in nlp.tokenizer.pipe(texts) for token in doc if not token.is_space)
    for _ in range(warmup):
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
        passes.append(n_words / (time.perf_counter() - start))
    latencies = []
    for text in texts[:latency_docs]:
        start = time.perf_counter()
        nlp(text)
        latencies.append((time.perf_counter() - start) * 1000)
    path = pipeline_path(model)
    result: dict[str, Any] = {
        "model": {
            "path": model,
            "name": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}",
            "version": nlp.meta.get("version"),
            "pipeline": list(nlp.pipe_names),
            "parameters": count_parameters(nlp),
            "disk_bytes": directory_bytes(path) if path is not None else None,
        },
        "data": {"docs": len(texts), "words": n_words},
        "load_seconds": load_seconds,
        "throughput": {
            "words_per_second_median": statistics.median(passes),
            "words_per_second_min": min(passes),
            "words_per_second_max": max(passes),
            "passes": passes,
        },
        "memory_mib": {
            "rss_before_load": rss_before,
            "rss_after_load": rss_loaded,
            "peak_rss": peak_rss_at_least(rss_loaded),
        },
        "settings": {
            "batch_size": batch_size,
            "repeats": repeats,
            "warmup": warmup,
            "latency_docs": len(latencies),
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "spacy": spacy.__version__,
        },
    }
    if latencies:
        words = [sum(1 for t in nlp.tokenizer(text) if not t.is_space) for text in texts[:latency_docs]]
        result["latency_ms"] = {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies),
            "mean_words_per_doc": sum(words) / len(words),
        }
    return result


def benchmark_markdown(results: Sequence[dict[str, Any]], title: str = "Efficiency benchmark") -> str:
    """A markdown table, one row per benchmark result."""
    header = [
        "model", "params", "disk", "load s", "words/s (median [min, max])",
        "latency p50 / p95 ms", "RSS after load MiB", "peak RSS MiB",
    ]
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        tp, mem, lat = r["throughput"], r["memory_mib"], r.get("latency_ms")
        disk = r["model"]["disk_bytes"]
        cells = [
            f"`{r['model']['path']}`",
            f"{r['model']['parameters'] / 1e6:.1f} M",
            f"{disk / 2**20:.0f} MiB" if disk is not None else "?",
            f"{r['load_seconds']:.1f}",
            f"{tp['words_per_second_median']:,.0f} [{tp['words_per_second_min']:,.0f}, {tp['words_per_second_max']:,.0f}]",
            f"{lat['p50']:.0f} / {lat['p95']:.0f}" if lat else "-",
            f"{mem['rss_after_load']:.0f}" if mem["rss_after_load"] is not None else "?",
            f"{mem['peak_rss']:.0f}" if mem["peak_rss"] is not None else "?",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    s = results[0]["settings"] if results else {}
    d = results[0]["data"] if results else {}
    lines += [
        "",
        f"{d.get('docs')} docs, {d.get('words')} words; batch size {s.get('batch_size')}, "
        f"{s.get('warmup')} warm-up + {s.get('repeats')} timed passes, latency over "
        f"{s.get('latency_docs')} single docs; {s.get('torch_threads')} torch threads on "
        f"{s.get('cpu_count')} CPUs ({s.get('machine')}), torch {s.get('torch')}, spaCy {s.get('spacy')}.",
    ]
    return "\n".join(lines) + "\n"


def write_benchmark(
    model: str,
    data_path: str | Path,
    *,
    output: str | Path,
    markdown: str | Path | None = None,
    batch_size: int = 8,
    repeats: int = 3,
    warmup: int = 1,
    latency_docs: int = 20,
    limit: int = 0,
    threads: int = 0,
) -> str:
    """Benchmark one pipeline on the texts of `data_path` and write the
    measurements JSON and, optionally, the markdown table.

    model (str): pipeline directory or installed package name.
    data_path (Union[str, Path]): a `.spacy` DocBin or a directory of `.txt` files.
    output (Union[str, Path]): the measurements JSON (parent directories are
        created); it and `markdown` are checked before any work and written
        atomically.
    markdown (Optional[Union[str, Path]]): the markdown table; None writes none.
    limit (int): use the first `limit` texts (0: all).
    batch_size, repeats, warmup, latency_docs, threads: see `benchmark_pipeline`.
    RETURNS (str): the markdown table.
    """
    inputs = {"the benchmark texts": data_path}
    check_output_file(output, inputs=inputs)
    if markdown is not None:
        check_output_file(markdown, inputs=inputs)
        check_distinct({"--output": output, "--markdown": markdown})
    texts = read_benchmark_texts(data_path, limit=limit)
    result = benchmark_pipeline(
        model, texts, batch_size=batch_size, repeats=repeats, warmup=warmup,
        latency_docs=latency_docs, threads=threads,
    )
    result["data"]["path"] = str(data_path)
    write_text_atomic(output, json.dumps(result, indent=2, sort_keys=True) + "\n")
    table = benchmark_markdown([result], title=f"Benchmark: {model}")
    if markdown is not None:
        write_text_atomic(markdown, table)
    return table
