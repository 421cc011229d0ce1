"""The vocabulary report: chosen tokens, and fragmentation before and after.

Measured on gold documents the selection never saw (MACCROBAT test):

- entity words: the words (BERT pre-tokenizer, as the selection counts
  them) inside gold entities of the given labels, punctuation-only words
  left out, each occurrence counted: mean pieces per word, and the share
  split into > 1 piece;
- documents: total wordpieces per document (without [CLS]/[SEP]), i.e. the
  sequence-length reduction.

Written to a metrics dir: tokens.tsv, fragmentation.json,
fragmentation.tsv, fragmentation.png (if matplotlib is installed) and
summary.md.
"""
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..report.figures import pyplot, save_png
from ..report.tables import table
from .counting import PieceCache, WordSplitter
from .extend import tokenizer_json, wordpiece_vocab
from .scoring import Selection

DEFAULT_LABELS = ("DISEASE", "MEDICATION", "SYMPTOM")


def read_docs(path: str | Path) -> list[Any]:
    """path (Union[str, Path]): a .spacy DocBin. RETURNS (List[Doc]): its docs
    (`corpora.docbins.read_docbin`: E254 unreadable, E259 empty)."""
    import spacy

    from ..corpora.docbins import read_docbin

    return read_docbin(path, spacy.blank("en").vocab)


def entity_words(docs: Sequence[Any], labels: Sequence[str], splitter: WordSplitter) -> dict[str, Counter]:
    """Entity word counts, per label and over all labels ("ALL").

    docs (Sequence[Doc]): gold docs.
    labels (Sequence[str]): entity labels to include.
    splitter (WordSplitter): the source tokenizer's normalizer + pre-tokenizer.
    RETURNS (Dict[str, Counter]): label → word → count.
    """
    out: dict[str, Counter] = {label: Counter() for label in ("ALL", *labels)}
    for doc in docs:
        for ent in doc.ents:
            if ent.label_ not in labels:
                continue
            words = [w for w in splitter(ent.text) if any(ch.isalnum() for ch in w)]
            out[ent.label_].update(words)
            out["ALL"].update(words)
    return out


def piece_stats(counts: Counter, pieces_of: PieceCache) -> dict[str, float]:
    """Fragmentation of a word Counter under one tokenization.

    counts (Counter): word → count.
    pieces_of (PieceCache): the tokenization.
    RETURNS (Dict[str, float]): words, pieces, mean_pieces, split_share.
    """
    words = sum(counts.values())
    pieces = sum(len(pieces_of(w)) * c for w, c in counts.items())
    split = sum(c for w, c in counts.items() if len(pieces_of(w)) > 1)
    return {
        "words": words,
        "pieces": pieces,
        "mean_pieces": pieces / words if words else 0.0,
        "split_share": split / words if words else 0.0,
    }


def piece_cache(tokenizer: Any) -> PieceCache:
    """RETURNS (PieceCache): the WordPiece tokenization of a fast tokenizer's
    vocabulary, with its unknown token and word length limit."""
    model = tokenizer_json(tokenizer)["model"]
    vocab = {token: i for i, token in enumerate(wordpiece_vocab(tokenizer))}
    return PieceCache(vocab, unk_token=model["unk_token"], max_chars=model["max_input_chars_per_word"])


def _change(before: float, after: float) -> float:
    return (after - before) / before if before else 0.0


def fragmentation_report(
    old_tokenizer: Any,
    new_tokenizer: Any,
    docs: Sequence[Any],
    *,
    labels: Sequence[str] = DEFAULT_LABELS,
) -> dict[str, Any]:
    """Fragmentation before/after on gold docs.

    old_tokenizer (PreTrainedTokenizerFast): the source tokenizer.
    new_tokenizer (PreTrainedTokenizerFast): the extended tokenizer.
    docs (Sequence[Doc]): gold docs (e.g. MACCROBAT test).
    labels (Sequence[str]): entity labels whose words are measured.
    RETURNS (Dict[str, Any]): {"entity_words": {label: {before, after,
        change}}, "documents": {...}, "vocab_size": {...}}.
    """
    splitter = WordSplitter(old_tokenizer)
    old, new = piece_cache(old_tokenizer), piece_cache(new_tokenizer)
    entities: dict[str, Any] = {}
    for label, counts in entity_words(docs, labels, splitter).items():
        before, after = piece_stats(counts, old), piece_stats(counts, new)
        entities[label] = {
            "before": before,
            "after": after,
            "mean_pieces_change": _change(before["mean_pieces"], after["mean_pieces"]),
            "split_share_change": _change(before["split_share"], after["split_share"]),
        }
    doc_before, doc_after = [], []
    for doc in docs:
        words = splitter(doc.text)
        doc_before.append(sum(len(old(w)) for w in words))
        doc_after.append(sum(len(new(w)) for w in words))
    n_docs = len(docs)
    documents = {
        "docs": n_docs,
        "before": {"pieces": sum(doc_before), "mean_pieces_per_doc": sum(doc_before) / n_docs if n_docs else 0.0},
        "after": {"pieces": sum(doc_after), "mean_pieces_per_doc": sum(doc_after) / n_docs if n_docs else 0.0},
        "pieces_change": _change(sum(doc_before), sum(doc_after)),
        "per_doc": [{"doc": i, "before": b, "after": a} for i, (b, a) in enumerate(zip(doc_before, doc_after))],
    }
    return {
        "labels": list(labels),
        "entity_words": entities,
        "documents": documents,
        "vocab_size": {"before": len(wordpiece_vocab(old_tokenizer)), "after": len(wordpiece_vocab(new_tokenizer))},
    }


def write_tokens_tsv(selection: Selection, path: str | Path) -> None:
    """One row per chosen token, in vocab order.

    selection (Selection): the chosen tokens.
    path (Union[str, Path]): the TSV file.
    """
    header = ["rank", "token", "kind", "clin_count", "gen_count", "saved", "p_clin", "p_gen", "score", "old_pieces", "round"]
    lines = ["\t".join(header)]
    for rank, c in enumerate(selection.tokens, 1):
        lines.append(
            "\t".join(
                [str(rank), c.token, c.kind, str(c.clin_count), str(c.gen_count), str(c.saved),
                 f"{c.p_clin:.6e}", f"{c.p_gen:.6e}", f"{c.score:.6e}", str(c.n_pieces), str(c.round)]
            )
        )
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf8")


def write_report(
    report: dict[str, Any],
    report_dir: str | Path,
    *,
    selection: Selection | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the report files.

    report (Dict[str, Any]): from `fragmentation_report`.
    report_dir (Union[str, Path]): the metrics dir (created).
    selection (Optional[Selection]): the chosen tokens (tokens.tsv).
    extra (Optional[Dict[str, Any]]): more fields for fragmentation.json
        (settings, corpus sizes, run time).
    RETURNS (List[Path]): the files written.
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    data = {**(extra or {}), **{k: v for k, v in report.items()}}
    json_path = report_dir / "fragmentation.json"
    json_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf8")
    written.append(json_path)
    rows = ["measure\tgroup\tbefore\tafter\tchange"]
    for label, stats in report["entity_words"].items():
        for key in ("mean_pieces", "split_share"):
            b, a = stats["before"][key], stats["after"][key]
            rows.append(f"entity_{key}\t{label}\t{b:.4f}\t{a:.4f}\t{_change(b, a):+.4f}")
    d = report["documents"]
    rows.append(
        f"doc_pieces\tall\t{d['before']['pieces']}\t{d['after']['pieces']}\t{d['pieces_change']:+.4f}"
    )
    tsv_path = report_dir / "fragmentation.tsv"
    tsv_path.write_text("\n".join(rows) + "\n", encoding="utf8")
    written.append(tsv_path)
    if selection is not None:
        tokens_path = report_dir / "tokens.tsv"
        write_tokens_tsv(selection, tokens_path)
        written.append(tokens_path)
    png = plot_report(report, report_dir / "fragmentation.png")
    if png is not None:
        written.append(png)
    md_path = report_dir / "summary.md"
    md_path.write_text(summary_markdown(report, selection=selection, extra=extra), encoding="utf8")
    written.append(md_path)
    return written


def summary_markdown(
    report: dict[str, Any], *, selection: Selection | None = None, extra: dict[str, Any] | None = None
) -> str:
    """RETURNS (str): a markdown summary of the report."""
    vs = report["vocab_size"]
    lines = [
        "# Adaptive tokenization: vocabulary report",
        "",
        f"Vocabulary {vs['before']:,} → {vs['after']:,} (+{vs['after'] - vs['before']:,} tokens).",
        "",
    ]
    header = ["entity words", "words", "mean pieces before", "after", "change", "split share before", "after"]
    rows = [
        [label, f"{s['before']['words']:,}", f"{s['before']['mean_pieces']:.3f}", f"{s['after']['mean_pieces']:.3f}",
         f"{s['mean_pieces_change']:+.1%}", f"{s['before']['split_share']:.1%}", f"{s['after']['split_share']:.1%}"]
        for label, s in report["entity_words"].items()
    ]
    lines += table(header, rows, align="l" * len(header))
    d = report["documents"]
    lines += [
        "",
        (
            f"Wordpieces over {d['docs']} evaluation documents: {d['before']['pieces']:,} → "
            f"{d['after']['pieces']:,} ({d['pieces_change']:+.1%})."
        ),
    ]
    if extra:
        lines += ["", "## Settings", ""]
        lines += [f"- {k}: {json.dumps(v)}" for k, v in sorted(extra.items()) if not isinstance(v, (dict, list))]
    if selection is not None and selection.tokens:
        n_cont = sum(1 for c in selection.tokens if c.kind == "continuation")
        lines += [
            "",
            (
                f"{len(selection.tokens)} tokens chosen ({n_cont} `##` continuation pieces) in "
                f"{selection.settings.get('rounds')} rounds; {len(selection.dropped)} dropped as unused."
            ),
            "",
        ]
        rows = [
            [rank, f"`{c.token}`", f"{c.clin_count:,}", f"{c.gen_count:,}", f"{c.score:.3e}"]
            for rank, c in enumerate(selection.tokens[:25], 1)
        ]
        lines += table(["rank", "token", "clinical count", "general count", "score"], rows, align="l" * 5)
    return "\n".join(lines) + "\n"


def plot_report(report: dict[str, Any], path: str | Path) -> Path | None:
    """Bar chart of before/after; skipped (None) without matplotlib.

    report (Dict[str, Any]): from `fragmentation_report`.
    path (Union[str, Path]): the PNG file.
    RETURNS (Optional[Path]): the file, or None if matplotlib is missing.
    """
    try:
        plt = pyplot()
    except ImportError:
        return None
    groups = list(report["entity_words"])
    before = [report["entity_words"][g]["before"]["mean_pieces"] for g in groups]
    after = [report["entity_words"][g]["after"]["mean_pieces"] for g in groups]
    d = report["documents"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    xs = range(len(groups))
    ax1.bar([x - 0.2 for x in xs], before, width=0.4, label="before")
    ax1.bar([x + 0.2 for x in xs], after, width=0.4, label="after")
    ax1.set_xticks(list(xs), groups)
    ax1.set_ylabel("wordpieces per entity word")
    ax1.legend()
    ax2.bar([0, 1], [d["before"]["mean_pieces_per_doc"], d["after"]["mean_pieces_per_doc"]], color=["C0", "C1"])
    ax2.set_xticks([0, 1], ["before", "after"])
    ax2.set_ylabel("wordpieces per document")
    fig.suptitle(f"Vocabulary {report['vocab_size']['before']:,} → {report['vocab_size']['after']:,}")
    fig.tight_layout()
    return save_png(fig, path)
