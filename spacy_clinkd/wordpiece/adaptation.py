"""Adaptive tokenization end to end (Sachidananda et al. 2021), the
`extend-vocab` and `vocab-report` steps: count the clinical and general text
specs in the source tokenizer's words, select K tokens (`scoring`), write the
extended model (`embeddings`) and the vocabulary report (`vocab_report`).

Progress goes to a wasabi `Printer`, as in spaCy's training loop.
"""
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wasabi import Printer

from ..errors import ClinkdError, Errors
from ..models.encoder import resolve_encoder_name
from .counting import WordSplitter, count_words
from .embeddings import extend_model
from .extend import load_tokenizer, tokenizer_json, wordpiece_vocab
from .scoring import Selection, select_tokens
from .text_specs import DEFAULT_CLINICAL, DEFAULT_GENERAL, CorpusSpec, iter_texts, parse_specs
from .vocab_report import DEFAULT_LABELS, fragmentation_report, read_docs, write_report


def extend_vocab(
    source: str,
    output_dir: str | Path,
    *,
    clinical: Sequence[str | CorpusSpec] | None = None,
    general: Sequence[str | CorpusSpec] | None = None,
    size: int = 1500,
    min_count: int = 5,
    smoothing: float = 1.0,
    objective: str = "kl-savings",
    batch_size: int = 50,
    init: str = "mean",
    seed: int = 0,
    mlm_steps: int = 0,
    mlm_lr: float = 1e-3,
    report_dir: str | Path | None = None,
    eval_docs: str | Path | None = None,
    labels: Sequence[str] = DEFAULT_LABELS,
    progress: bool = True,
    printer: Printer | None = None,
) -> dict[str, Any]:
    """Add `size` clinical tokens to a WordPiece vocabulary and write the model.

    source (str): the source model: a local HF directory or a packaged alias.
    output_dir (Union[str, Path]): the output HF directory (weights + extended tokenizer).
    clinical (Optional[Sequence[Union[str, CorpusSpec]]]): clinical text specs
        (`text_specs`); None: `DEFAULT_CLINICAL`. Never dev or test text.
    general (Optional[Sequence[Union[str, CorpusSpec]]]): general-English text
        specs; None: `DEFAULT_GENERAL`.
    size (int): K, the tokens to add.
    min_count (int): minimum clinical count of a candidate.
    smoothing (float): add-k smoothing of the general counts.
    objective (str): the selection score, one of `scoring.OBJECTIVES`.
    batch_size (int): tokens added per greedy round (1: exact greedy).
    init (str): new embedding rows, one of `embeddings.INIT_OPTIONS`.
    seed (int): seed of the random init and of the warm-up.
    mlm_steps (int): masked-LM warm-up steps of the new rows on the clinical
        running text (mention lists left out); 0: none.
    mlm_lr (float): learning rate of the warm-up.
    report_dir (Optional[Union[str, Path]]): where the vocabulary report and
        timing.json go; None writes no report.
    eval_docs (Optional[Union[str, Path]]): gold .spacy docs whose entity words
        the report measures.
    labels (Sequence[str]): entity labels whose words the report measures.
    progress (bool): show progress bars and per-round counts.
    printer (Optional[Printer]): where messages go (default: stdout).
    RETURNS (Dict[str, Any]): the `extend_model` summary (also in
        OUTPUT_DIR/clinkd_vocab.json).
    RAISES ClinkdError: a side's specs hold no words (E304), or any error of
        the steps.
    """
    printer = printer or Printer()
    start = time.perf_counter()
    source_dir = resolve_encoder_name(source)
    clinical_specs = parse_specs(clinical or DEFAULT_CLINICAL)
    general_specs = parse_specs(general or DEFAULT_GENERAL)
    tokenizer = load_tokenizer(source_dir)
    splitter = WordSplitter(tokenizer)
    clin_counts = count_words(iter_texts(clinical_specs), splitter, desc="clinical", progress=progress)
    gen_counts = count_words(iter_texts(general_specs), splitter, desc="general", progress=progress)
    for side, counts, specs in (("clinical", clin_counts, clinical_specs), ("general", gen_counts, general_specs)):
        if not counts:
            raise ClinkdError(Errors.E304.format(side=side, specs=[str(s) for s in specs]))
    t_count = time.perf_counter() - start
    printer.info(
        f"Counted {sum(clin_counts.values()):,} clinical words ({len(clin_counts):,} types), "
        f"{sum(gen_counts.values()):,} general words ({len(gen_counts):,} types) in {t_count:.1f}s"
    )
    model = tokenizer_json(tokenizer)["model"]
    vocab = {token: i for i, token in enumerate(wordpiece_vocab(tokenizer))}

    def on_round(n_chosen: int, n_total: int) -> None:
        if progress:
            printer.text(f"  chosen {n_chosen:,}/{n_total:,}")

    selection = select_tokens(
        clin_counts, gen_counts, vocab,
        size=size, min_count=min_count, smoothing=smoothing, batch_size=batch_size,
        objective=objective, unk_token=model["unk_token"],
        max_chars=model["max_input_chars_per_word"], progress=on_round,
    )
    if len(selection.tokens) < size:
        printer.warn(f"Only {len(selection.tokens)} candidates passed the filters (asked for {size}).")
    t_select = time.perf_counter() - start - t_count
    summary = extend_model(
        source_dir, output_dir, [c.token for c in selection.tokens], init=init, seed=seed,
        # Running text only: mention lists (`ents`) are not sentences.
        warmup_texts=(
            (text for text, _ in iter_texts([c for c in clinical_specs if c.fmt != "ents"]))
            if mlm_steps else None
        ),
        warmup_steps=mlm_steps, warmup_lr=mlm_lr,
    )
    if summary["mlm_warmup"]:
        w = summary["mlm_warmup"]
        printer.info(
            f"Masked-LM warm-up of the new rows: {w['steps']} steps on {w['chunks']:,} chunks, "
            f"loss {w['first_loss']} → {w['last_loss']}"
        )
    printer.good(
        f"Saved {output_dir}: vocabulary {summary['old_vocab_size']:,} → {summary['new_vocab_size']:,} "
        f"({init} init)"
    )
    if report_dir is not None:
        settings = {
            "source": source, "size": size, "min_count": min_count, "smoothing": smoothing,
            "objective": objective, "batch_size": batch_size, "init": init, "seed": seed,
            "mlm_steps": mlm_steps, "mlm_lr": mlm_lr,
            "clinical": [str(s) for s in clinical_specs], "general": [str(s) for s in general_specs],
            "clinical_words": selection.n_clin_words, "general_words": selection.n_gen_words,
            "clinical_types": len(clin_counts), "general_types": len(gen_counts),
            "tokens_added": len(selection.tokens), "rounds": selection.settings["rounds"],
            "dropped_unused": len(selection.dropped),
        }
        write_vocab_report(
            source_dir, output_dir, report_dir, eval_docs=eval_docs, labels=labels,
            selection=selection, extra=settings, printer=printer,
        )
        timing = {
            "count_seconds": round(t_count, 2), "select_seconds": round(t_select, 2),
            "total_seconds": round(time.perf_counter() - start, 2),
        }
        (Path(report_dir) / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf8")
    printer.info(f"Total {time.perf_counter() - start:.1f}s")
    return summary


def write_vocab_report(
    old_model: str | Path,
    new_model: str | Path,
    report_dir: str | Path,
    *,
    eval_docs: str | Path | None = None,
    labels: Sequence[str] = DEFAULT_LABELS,
    selection: Selection | None = None,
    extra: dict[str, Any] | None = None,
    printer: Printer | None = None,
) -> dict[str, Any]:
    """Measure fragmentation before/after between two tokenizers on gold docs
    and write the report files (`vocab_report.write_report`).

    old_model (Union[str, Path]): model dir or packaged alias with the original tokenizer.
    new_model (Union[str, Path]): model dir with the extended tokenizer.
    report_dir (Union[str, Path]): the metrics dir (created).
    eval_docs (Optional[Union[str, Path]]): gold .spacy docs; None measures no docs.
    labels (Sequence[str]): entity labels whose words are measured.
    selection (Optional[Selection]): the chosen tokens (tokens.tsv).
    extra (Optional[Dict[str, Any]]): more fields for fragmentation.json.
    printer (Optional[Printer]): where the summary lines go (default: stdout).
    RETURNS (Dict[str, Any]): the `fragmentation_report`.
    """
    printer = printer or Printer()
    old = load_tokenizer(resolve_encoder_name(str(old_model)))
    new = load_tokenizer(new_model)
    docs = read_docs(eval_docs) if eval_docs is not None else []
    report = fragmentation_report(old, new, docs, labels=labels)
    write_report(report, report_dir, selection=selection, extra=extra)
    ents = report["entity_words"]["ALL"]
    if ents["before"]["words"]:
        printer.good(
            f"Entity words ({ents['before']['words']:,}): {ents['before']['mean_pieces']:.3f} → "
            f"{ents['after']['mean_pieces']:.3f} pieces per word ({ents['mean_pieces_change']:+.1%}); "
            f"split share {ents['before']['split_share']:.1%} → {ents['after']['split_share']:.1%}"
        )
        d = report["documents"]
        printer.good(f"Document wordpieces: {d['before']['pieces']:,} → {d['after']['pieces']:,} ({d['pieces_change']:+.1%})")
    printer.info(f"Report written to {report_dir}")
    return report
