"""The model card's plots: strict F1 per type, the reliability diagram of
the entity scores, F1 against speed and the vocabulary's fragmentation. Axes
are kept whole (scores from 0 to 1, speed from 0) and intervals drawn as
error bars; the fragmentation plot is drawn only for a model whose encoder
has the extended vocabulary (it would describe another model)."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from .card_data import benchmark_key, intervals_of, uses_extension, words_per_second
from .figures import error_bars, pyplot, save_png

PLOT_F1 = "f1_per_type.png"
PLOT_SPEED = "f1_vs_speed.png"
PLOT_FRAGMENTATION = "fragmentation.png"
PLOT_CALIBRATION = "calibration.png"
PLOTS = (PLOT_F1, PLOT_CALIBRATION, PLOT_SPEED, PLOT_FRAGMENTATION)


def plot_f1_per_type(test: Mapping[str, Any], path: str | Path, *, test_name: str = "the test set") -> Path:
    """Bar chart of strict F1 per type and micro, with the bootstrap
    intervals as error bars (none without bootstrap).

    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    boot = test.get("bootstrap")
    names = [*test["per_label"], "micro"]
    values = [*(row["f"] for row in test["per_label"].values()), test["micro"]["f"]]
    intervals = [intervals_of(boot, "strict", None if name == "micro" else name).get("f") for name in names]
    fig, ax = plt.subplots(figsize=(6, 4))
    bars = ax.bar(names, values, color=["C0"] * (len(names) - 1) + ["C1"])
    if any(interval is not None for interval in intervals):
        ax.errorbar(names, values, yerr=error_bars(values, intervals), fmt="none", ecolor="black", capsize=4)
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, value), textcoords="offset points",
                    xytext=(8, 3), fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("strict F1")
    title = f"Strict F1 on {test_name}"
    ax.set_title(title + (f" ({100 * boot['confidence']:g}% bootstrap intervals)" if boot else ""))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def plot_calibration(test: Mapping[str, Any], path: str | Path, *, test_name: str = "the test set") -> Path:
    """Reliability diagram of the entity scores: per score bin, the fraction
    of entities that are right (strict) against their mean score, with 95%
    Wilson intervals as error bars and the number of entities beside each
    point; the diagonal is a calibrated score. Below it, the entities per bin.
    Both score axes run from 0 to 1.

    test (Mapping[str, Any]): `evaluate` output with `calibration`.
    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    calibration = test["calibration"]
    bins = [row for row in calibration["bins"] if row["n"]]
    xs = [row["mean_score"] for row in bins]
    ys = [row["accuracy"] for row in bins]
    fig, (ax, counts) = plt.subplots(
        2, 1, figsize=(5.5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    # not clipped: a bin's point may sit on an edge (all right, none right, a score near 0 or 1)
    ax.errorbar(xs, ys, yerr=error_bars(ys, [row["interval"] for row in bins]), fmt="o", color="C0",
                ecolor="C0", capsize=3, label="fraction right (95% Wilson interval)", clip_on=False)
    for x, y, row in zip(xs, ys, bins):
        ax.annotate(f"n={row['n']}", (x, y), textcoords="offset points", xytext=(5, 6 if y < 0.15 else -12), fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("auto")
    ax.set_ylabel("fraction right (strict)")
    ax.set_title(f"Entity scores on {test_name}: {calibration['n']} entities, ECE {calibration['ece']:.3f}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    all_bins = calibration["bins"]
    counts.bar([row["lo"] for row in all_bins], [row["n"] for row in all_bins],
               width=[row["hi"] - row["lo"] for row in all_bins], align="edge", color="C0", alpha=0.6, edgecolor="white")
    counts.set_ylim(0, max(row["n"] for row in all_bins) * 1.15)
    counts.set_xlabel("score (bins of width 0.1; points at the bin's mean score)")
    counts.set_ylabel("entities")
    counts.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def plot_f1_vs_speed(
    benchmark: Mapping[str, Any],
    path: str | Path,
    *,
    own_names: Collection[str] = (),
    f1_intervals: Mapping[str, Sequence[float]] | None = None,
) -> Path:
    """Strict micro F1 (y) against words/s at the key batch size (x), one
    labelled point per pipeline with both; this pipeline's rows in red.
    Whole axes (F1 from 0 to 1, words/s from 0), so a small difference is
    drawn small; error bars: words/s from the slowest to the fastest timed
    pass, F1 its interval where `f1_intervals` has one.

    f1_intervals (Optional[Mapping[str, Sequence[float]]]): benchmark name → F1 [lo, hi]
        (`speed_f1_intervals`).
    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    key = benchmark_key(benchmark)
    f1_intervals = f1_intervals or {}
    points = [
        (wps, row["f1"], row["name"], (row.get("throughput") or {}).get(str(key)) or {})
        for row in benchmark["pipelines"]
        if row.get("f1") is not None and (wps := words_per_second(row, key)) is not None
    ]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    # Labels alternate above and below along x, so that neighbours (fp32 and int8) do not overprint.
    for i, (wps, f1, name, passes) in enumerate(sorted(points, key=lambda p: (p[0], p[2]))):
        color = "C3" if name in own_names else "C0"
        has_range = passes.get("min") is not None and passes.get("max") is not None
        xerr = error_bars([wps], [[passes["min"], passes["max"]] if has_range else None])
        yerr = error_bars([f1], [f1_intervals.get(name)])
        ax.errorbar([wps], [f1], xerr=xerr, yerr=yerr, fmt="o", markersize=7, color=color, ecolor=color, capsize=3)
        ax.annotate(name, (wps, f1), textcoords="offset points", xytext=(6, 5 if i % 2 == 0 else -12), fontsize=8)
    top = max((max(p[0], p[3].get("max") or 0.0) for p in points), default=1.0)
    ax.set_xlim(0, top * 1.15)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"words/s (nlp.pipe, batch size {key}, median; bars: slowest to fastest pass)", fontsize=9)
    ax.set_ylabel("strict micro F1")
    ax.set_title("F1 against speed on CPU (F1 bars: 95% interval, where known)", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def plot_fragmentation(fragmentation: Mapping[str, Any], path: str | Path) -> Path:
    """Grouped bars: mean wordpieces per entity word before and after the
    vocabulary extension, per type and over all types.

    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    words = fragmentation["entity_words"]
    names = [name for name in words if name != "ALL"] + (["ALL"] if "ALL" in words else [])
    before = [words[name]["before"]["mean_pieces"] for name in names]
    after = [words[name]["after"]["mean_pieces"] for name in names]
    xs = range(len(names))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, label="before")
    ax.bar([x + 0.2 for x in xs], after, width=0.4, label="after")
    ax.set_xticks(list(xs), names)
    ax.set_ylim(0, max([*before, *after, 1.0]) * 1.15)
    ax.set_ylabel("wordpieces per entity word (mean)")
    ax.set_title("Fragmentation of entity words, before and after the vocabulary extension", fontsize=9)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def draw_plots(
    test: Mapping[str, Any],
    paths: Mapping[str, Path],
    *,
    benchmark: Mapping[str, Any] | None = None,
    fragmentation: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
    own_names: Collection[str] = (),
    f1_intervals: Mapping[str, Sequence[float]] | None = None,
    test_name: str = "the test set",
) -> list[str]:
    """Draw the plots there is data for, and that describe this model.

    test (Mapping[str, Any]): `evaluate` output on the test set (F1 always drawn;
        the reliability diagram when it holds `calibration`).
    paths (Mapping[str, Path]): plot name (PLOTS) → PNG path.
    benchmark (Optional[Mapping[str, Any]]): `benchmark-compare` output; None: no speed plot.
    fragmentation (Optional[Mapping[str, Any]]): fragmentation.json; drawn only when
        `vocab_size` says this model uses the extension (`uses_extension`).
    vocab_size (Optional[int]): this model's vocabulary size; None: not known (no fragmentation plot).
    own_names (Collection[str]): benchmark names of this pipeline's rows, highlighted.
    f1_intervals (Optional[Mapping[str, Sequence[float]]]): benchmark name → F1 interval.
    test_name (str): the test set's name in the titles.
    RETURNS (List[str]): the names of the plots drawn.
    """
    plot_f1_per_type(test, paths[PLOT_F1], test_name=test_name)
    drawn = [PLOT_F1]
    if (test.get("calibration") or {}).get("n"):
        plot_calibration(test, paths[PLOT_CALIBRATION], test_name=test_name)
        drawn.append(PLOT_CALIBRATION)
    if benchmark is not None:
        plot_f1_vs_speed(benchmark, paths[PLOT_SPEED], own_names=own_names, f1_intervals=f1_intervals)
        drawn.append(PLOT_SPEED)
    if uses_extension(fragmentation, vocab_size) and fragmentation.get("entity_words"):
        plot_fragmentation(fragmentation, paths[PLOT_FRAGMENTATION])
        drawn.append(PLOT_FRAGMENTATION)
    return drawn
