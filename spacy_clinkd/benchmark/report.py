"""What the `benchmark` and `benchmark-compare` commands write, from the one
engine (`engine.compare_pipelines`): the comparison's JSON, markdown table
and F1-against-speed plot; and the single-pipeline benchmark, a comparison
of one (`benchmark_pipeline`) put into the shape its readers know
(`benchmark_result`): model, data, load_seconds, throughput, memory_mib,
settings and latency_ms.
"""
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..paths import check_distinct, check_output_file, check_report_outputs, write_text_atomic
from ..report.figures import pyplot, save_png
from ..report.tables import interval_cell, table
from .engine import ComparisonSettings, PipelineSpec, compare_pipelines, read_benchmark_texts, read_gold_docs

# -- several pipelines ---------------------------------------------------------


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def comparison_markdown(result: dict[str, Any], title: str | None = None) -> str:
    """A markdown table, one row per pipeline: first the ratios to the
    reference (words/s at each batch size, F1), then absolute numbers."""
    settings, machine = result["settings"], result["machine"]
    batch_sizes, key = settings["batch_sizes"], settings["key_batch_size"]
    title = title or f"Benchmark: {len(result['pipelines'])} pipelines against `{result['reference']}`"
    header = [
        "pipeline",
        *[f"words/s b{b} ÷ ref" for b in batch_sizes],
        "F1 ÷ ref",
        "precision",
        f"words/s b{key} (median [min, max])",
        "F1",
        "latency p50 / p95 ms",
        "long docs words/s",
        "load s",
        "RSS after load MiB",
        "peak RSS MiB",
        "disk MiB",
        "params M",
        "encoder GFLOP/s (% of peak)",
        "padding",
    ]
    rows = []
    for row in result["pipelines"]:
        ratio = result["ratios"][row["name"]]
        tp, lat, long, enc = row["throughput"][str(key)], row["latency_ms"], row["long_docs"], row["encoder"]
        disk = row["disk_bytes"]
        cells = [
            f"**{row['name']}**" if row["name"] == result["reference"] else row["name"],
            *[_fmt(ratio[f"words_per_s_b{b}"], ".2f", "×") for b in batch_sizes],
            _fmt(ratio["f1"], ".3f", "×"),
            row["precision"],
            interval_cell(tp["median"], [tp["min"], tp["max"]], spec=",.0f", interval_spec=",.0f"),
            _fmt(row["f1"], ".3f"),
            f"{lat['p50']:.0f} / {lat['p95']:.0f}" if lat else "-",
            f"{long['median']:,.0f}" if long else "-",
            _fmt(row["load_seconds"], ".1f"),
            _fmt(row["rss_after_load_mib"], ".0f"),
            _fmt(row["peak_rss_mib"], ".0f"),
            _fmt(disk / 2**20 if disk is not None else None, ".0f"),
            f"{row['parameters'] / 1e6:.1f}",
            f"{enc['gflops_achieved']:.1f} ({100 * enc['fraction_of_peak']:.0f}%)" if enc else "-",
            f"{100 * enc['padding_waste']:.0f}%" if enc else "-",
        ]
        rows.append(cells)
    lines = [f"## {title}", "", *table(header, rows, align="l" * len(header))]
    lines += [
        "",
        f"{settings['docs']} docs, {settings['words']:,} words (the reference's tokens); "
        f"{settings['warmup']} warm-up + {settings['passes']} timed passes, interleaved, batch sizes "
        f"{', '.join(str(b) for b in batch_sizes)}; latency over {settings['latency_docs']} single docs; "
        f"long docs: {settings['long_docs']} of about {settings['long_doc_words']:,} words at batch size 1; "
        f"{machine['torch_threads']} torch threads on {machine['cpu_count']} CPUs ({machine['cpu']}), "
        f"fp32 matmul peak {machine['fp32_matmul_gflops']:.1f} GFLOP/s; torch {machine['torch']}, "
        f"spaCy {machine['spacy']}.",
    ]
    return "\n".join(lines) + "\n"


def plot_comparison(result: dict[str, Any], path: str | Path) -> Path:
    """F1 (y) against words/s at the key batch size (x), one labelled point
    per pipeline with an F1 (the reference drawn as a star).

    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    key = result["settings"]["key_batch_size"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for row in result["pipelines"]:
        if row["f1"] is None:
            continue
        x, y = row["throughput"][str(key)]["median"], row["f1"]
        ax.scatter([x], [y], marker="*" if row["name"] == result["reference"] else "o", s=90)
        ax.annotate(row["name"], (x, y), textcoords="offset points", xytext=(6, 4))
    ax.set_xlabel(f"words/s (nlp.pipe, batch size {key}, median)")
    ax.set_ylabel("strict micro F1")
    ax.set_title(f"F1 against speed ({result['machine']['torch_threads']} torch threads)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def write_comparison(
    specs: Sequence[PipelineSpec],
    data_path: str | Path,
    *,
    reference: str,
    output: str | Path,
    markdown: str | Path | None = None,
    plot: str | Path | None = None,
    gold: str | Path | None = None,
    settings: ComparisonSettings = ComparisonSettings(),
    limit: int = 0,
) -> str:
    """Compare the pipelines on the texts of `data_path` and write the JSON,
    and optionally the markdown table and the F1-against-speed plot.

    data_path (Union[str, Path]): a `.spacy` DocBin or a folder of `.txt` files.
    output (Union[str, Path]): the JSON; it, `markdown` and `plot` are checked
        before any work and written atomically.
    gold (Optional[Union[str, Path]]): gold docs for F1 (a `.spacy` DocBin);
        None: `data_path` if it is a file, else no F1.
    limit (int): use the first `limit` texts (0: all).
    Other arguments: see `compare_pipelines`.
    RETURNS (str): the markdown table.
    """
    if gold is None and Path(data_path).is_file():
        gold = data_path
    inputs = {"the benchmark texts": data_path, "the gold docs": gold}
    outputs = {"--output": output, "--markdown": markdown, "--plot": plot}
    for target in outputs.values():
        if target is not None:
            check_output_file(target, inputs=inputs)
    check_distinct(outputs)
    texts = read_benchmark_texts(data_path, limit=limit)
    gold_docs = read_gold_docs(gold) if gold is not None else None
    result = compare_pipelines(specs, texts, reference=reference, gold_docs=gold_docs, settings=settings)
    result["settings"]["data"] = str(data_path)
    result["settings"]["gold"] = None if gold is None else str(gold)
    result["settings"]["limit"] = limit
    write_text_atomic(output, json.dumps(result, indent=2, sort_keys=True) + "\n")
    table = comparison_markdown(result)
    if markdown is not None:
        write_text_atomic(markdown, table)
    if plot is not None:
        plot_comparison(result, plot)
    return table


# -- one pipeline: a comparison of one ------------------------------------------


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
    """Measure one pipeline: `compare_pipelines` with it alone (its own
    reference), one batch size and no long documents (`benchmark_result`).

    model (str): pipeline directory or installed package name.
    texts (Sequence[str]): the documents.
    batch_size (int): `nlp.pipe` batch size.
    repeats (int): timed throughput passes (>= 1).
    warmup (int): untimed passes first (>= 0).
    latency_docs (int): documents timed one by one (0: skip latency).
    threads (int): torch intra-op threads; 0 keeps torch's default.
    RETURNS (Dict[str, Any]): the measurements and the settings.
    RAISES ClinkdError: E257 (bad settings), E011.
    """
    settings = ComparisonSettings(
        batch_sizes=[batch_size], passes=repeats, warmup=warmup, latency_docs=latency_docs, long_doc_words=0,
        threads=threads,
    )
    comparison = compare_pipelines([PipelineSpec(model, model)], texts, reference=model, settings=settings)
    return benchmark_result(comparison)


def benchmark_result(comparison: dict[str, Any]) -> dict[str, Any]:
    """The single-pipeline JSON from a comparison of one pipeline at one batch size.

    comparison (Dict[str, Any]): `compare_pipelines`' result.
    RETURNS (Dict[str, Any]): `model` (path, name, version, pipeline,
        parameters, disk_bytes), `data` (docs, words), `load_seconds` (in
        the fresh process, spaCy's first use of its registry included),
        `throughput` (words_per_second_median/min/max, passes),
        `memory_mib` (rss_before_load, rss_after_load, peak_rss: the fresh
        process's), `settings`, and `latency_ms` (p50, p95, max,
        mean_words_per_doc) when documents were timed one by one.
    """
    (row,) = comparison["pipelines"]
    settings, machine = comparison["settings"], comparison["machine"]
    (batch_size,) = settings["batch_sizes"]
    rates = row["throughput"][str(batch_size)]
    result: dict[str, Any] = {
        "model": {
            "path": row["model"],
            "name": row["meta_name"],
            "version": row["meta_version"],
            "pipeline": row["pipeline"],
            "parameters": row["parameters"],
            "disk_bytes": row["disk_bytes"],
        },
        "data": {"docs": settings["docs"], "words": settings["words"]},
        "load_seconds": row["load_seconds"],
        "throughput": {
            "words_per_second_median": rates["median"],
            "words_per_second_min": rates["min"],
            "words_per_second_max": rates["max"],
            "passes": rates["passes"],
        },
        "memory_mib": {
            "rss_before_load": row["rss_before_load_mib"],
            "rss_after_load": row["rss_after_load_mib"],
            "peak_rss": row["peak_rss_mib"],
        },
        "settings": {
            "batch_size": batch_size,
            "repeats": settings["passes"],
            "warmup": settings["warmup"],
            "latency_docs": settings["latency_docs"],
            **{k: machine[k] for k in ("torch_threads", "cpu_count", "machine", "python", "torch", "spacy")},
        },
    }
    latency = row["latency_ms"]
    if latency is not None:
        result["latency_ms"] = {k: latency[k] for k in ("p50", "p95", "max", "mean_words_per_doc")}
    return result


def benchmark_markdown(results: Sequence[dict[str, Any]], title: str = "Efficiency benchmark") -> str:
    """A markdown table, one row per benchmark result."""
    header = [
        "model", "params", "disk", "load s", "words/s (median [min, max])",
        "latency p50 / p95 ms", "RSS after load MiB", "peak RSS MiB",
    ]
    rows = []
    for r in results:
        tp, mem, lat = r["throughput"], r["memory_mib"], r.get("latency_ms")
        disk = r["model"]["disk_bytes"]
        cells = [
            f"`{r['model']['path']}`",
            f"{r['model']['parameters'] / 1e6:.1f} M",
            f"{disk / 2**20:.0f} MiB" if disk is not None else "?",
            f"{r['load_seconds']:.1f}",
            interval_cell(
                tp["words_per_second_median"], [tp["words_per_second_min"], tp["words_per_second_max"]],
                spec=",.0f", interval_spec=",.0f",
            ),
            f"{lat['p50']:.0f} / {lat['p95']:.0f}" if lat else "-",
            f"{mem['rss_after_load']:.0f}" if mem["rss_after_load"] is not None else "?",
            f"{mem['peak_rss']:.0f}" if mem["peak_rss"] is not None else "?",
        ]
        rows.append(cells)
    lines = [f"## {title}", "", *table(header, rows, align="l" * len(header))]
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
    check_report_outputs(output, markdown, inputs={"the benchmark texts": data_path})
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
