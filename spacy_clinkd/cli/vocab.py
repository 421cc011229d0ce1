"""`python -m spacy_clinkd extend-vocab` / `vocab-report`: adaptive tokenization.

Corpus specs are `FORMAT[*WEIGHT][:COLUMN]:GLOB` strings (see
spacy_clinkd/tokenization/corpus.py), one per --clinical / --general option;
without any, the project's assets/ defaults are used.
"""
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from wasabi import msg

from ..errors import ClinkdError, Errors
from ..models.encoder import resolve_encoder_name
from ..tokenization.corpus import (
    DEFAULT_CLINICAL,
    DEFAULT_GENERAL,
    iter_texts,
    parse_specs,
)
from ..tokenization.counting import WordSplitter, count_words
from ..tokenization.embeddings import INIT_OPTIONS, extend_model
from ..tokenization.extend import load_tokenizer, tokenizer_json, wordpiece_vocab
from ..tokenization.report import (
    DEFAULT_LABELS,
    fragmentation_report,
    read_docs,
    write_report,
)
from ..tokenization.scoring import OBJECTIVES, select_tokens
from ._app import app

CLINICAL_HELP = (
    "Clinical corpus spec FORMAT[*WEIGHT][:COLUMN]:GLOB (repeatable), e.g. "
    "'txt:notes/*.txt', 'csv:5:rows.csv', 'csv:note:a/*.csv!*_metadata.csv', "
    "'spacy*3:corpus/maccrobat/train.spacy'. Never dev/test text. "
    "Default: " + " ".join(DEFAULT_CLINICAL)
)
GENERAL_HELP = (
    "General-English corpus spec (repeatable), e.g. 'tsv:3:brown/*.tsv', "
    "'wikitext:wiki.test.raw'. Default: " + " ".join(DEFAULT_GENERAL)
)

LABELS = ",".join(DEFAULT_LABELS)


def _labels(labels: str) -> list[str]:
    parsed = [label.strip() for label in labels.split(",") if label.strip()]
    if not parsed:
        raise ClinkdError(Errors.E255)
    return parsed


@app.command("extend-vocab")
def extend_vocab_cli(
    source: Annotated[str, typer.Argument(help="Source model: local HF dir (e.g. training/student_base) or packaged alias")],
    output_dir: Annotated[Path, typer.Argument(help="Output HF model dir (weights + extended tokenizer)")],
    clinical: Annotated[list[str] | None, typer.Option("--clinical", "-c", help=CLINICAL_HELP)] = None,
    general: Annotated[list[str] | None, typer.Option("--general", "-g", help=GENERAL_HELP)] = None,
    size: Annotated[int, typer.Option("--size", "-k", help="K, tokens to add (1,000-2,000 recommended)")] = 1500,
    min_count: Annotated[int, typer.Option("--min-count", help="Minimum clinical count of a candidate")] = 5,
    smoothing: Annotated[float, typer.Option("--smoothing", help="Add-k smoothing of general counts")] = 1.0,
    objective: Annotated[str, typer.Option("--objective", help=f"Selection score: {' | '.join(OBJECTIVES)}")] = "kl-savings",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Tokens added per greedy round (1 = exact greedy)")] = 50,
    init: Annotated[str, typer.Option("--init", help=f"New embedding rows: {' | '.join(INIT_OPTIONS)}")] = "mean",
    seed: Annotated[int, typer.Option("--seed", help="Seed of --init random and of the warm-up")] = 0,
    mlm_steps: Annotated[int, typer.Option("--mlm-steps", min=0, help="Masked-LM warm-up of only the new rows on the clinical corpus, in steps (0 = off)")] = 0,
    mlm_lr: Annotated[float, typer.Option("--mlm-lr", help="Learning rate of the masked-LM warm-up")] = 1e-3,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Write the vocabulary report here (e.g. metrics/vocab)")] = None,
    eval_docs: Annotated[Path | None, typer.Option("--eval-docs", help="Gold .spacy docs for the fragmentation report (e.g. corpus/maccrobat/test.spacy)")] = None,
    labels: Annotated[str, typer.Option("--labels", help="Entity labels whose words the report measures")] = LABELS,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars")] = True,
) -> None:
    """Add K clinical tokens to a WordPiece vocabulary, chosen by
    p_clin·log(p_clin/p_gen) (Sachidananda et al. 2021), and initialise their
    embeddings from the old pieces."""
    start = time.perf_counter()
    source_dir = resolve_encoder_name(source)
    clinical_specs = parse_specs(clinical or DEFAULT_CLINICAL)
    general_specs = parse_specs(general or DEFAULT_GENERAL)
    label_list = _labels(labels)
    tokenizer = load_tokenizer(source_dir)
    splitter = WordSplitter(tokenizer)
    clin_counts = count_words(iter_texts(clinical_specs), splitter, desc="clinical", progress=progress)
    gen_counts = count_words(iter_texts(general_specs), splitter, desc="general", progress=progress)
    for side, counts, specs in (("clinical", clin_counts, clinical_specs), ("general", gen_counts, general_specs)):
        if not counts:
            raise ClinkdError(Errors.E304.format(side=side, specs=[str(s) for s in specs]))
    t_count = time.perf_counter() - start
    msg.info(
        f"Counted {sum(clin_counts.values()):,} clinical words ({len(clin_counts):,} types), "
        f"{sum(gen_counts.values()):,} general words ({len(gen_counts):,} types) in {t_count:.1f}s"
    )
    model = tokenizer_json(tokenizer)["model"]
    vocab = {token: i for i, token in enumerate(wordpiece_vocab(tokenizer))}

    def on_round(n_chosen: int, n_total: int) -> None:
        if progress:
            msg.text(f"  chosen {n_chosen:,}/{n_total:,}")

    selection = select_tokens(
        clin_counts, gen_counts, vocab,
        size=size, min_count=min_count, smoothing=smoothing, batch_size=batch_size,
        objective=objective, unk_token=model["unk_token"],
        max_chars=model["max_input_chars_per_word"], progress=on_round,
    )
    if len(selection.tokens) < size:
        msg.warn(f"Only {len(selection.tokens)} candidates passed the filters (asked for {size}).")
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
        msg.info(
            f"Masked-LM warm-up of the new rows: {w['steps']} steps on {w['chunks']:,} chunks, "
            f"loss {w['first_loss']} → {w['last_loss']}"
        )
    msg.good(
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
        _report(source_dir, output_dir, report_dir, eval_docs, label_list, selection=selection, extra=settings)
        timing = {
            "count_seconds": round(t_count, 2), "select_seconds": round(t_select, 2),
            "total_seconds": round(time.perf_counter() - start, 2),
        }
        (Path(report_dir) / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf8")
    msg.info(f"Total {time.perf_counter() - start:.1f}s")


def _report(
    old_dir: str | Path,
    new_dir: str | Path,
    report_dir: Path,
    eval_docs: Path | None,
    labels: list[str],
    **kwargs: object,
) -> None:
    old, new = load_tokenizer(old_dir), load_tokenizer(new_dir)
    docs = read_docs(eval_docs) if eval_docs is not None else []
    report = fragmentation_report(old, new, docs, labels=labels)
    write_report(report, report_dir, **kwargs)  # type: ignore[arg-type]
    ents = report["entity_words"]["ALL"]
    if ents["before"]["words"]:
        msg.good(
            f"Entity words ({ents['before']['words']:,}): {ents['before']['mean_pieces']:.3f} → "
            f"{ents['after']['mean_pieces']:.3f} pieces per word ({ents['mean_pieces_change']:+.1%}); "
            f"split share {ents['before']['split_share']:.1%} → {ents['after']['split_share']:.1%}"
        )
        d = report["documents"]
        msg.good(f"Document wordpieces: {d['before']['pieces']:,} → {d['after']['pieces']:,} ({d['pieces_change']:+.1%})")
    msg.info(f"Report written to {report_dir}")


@app.command("vocab-report")
def vocab_report_cli(
    old_model: Annotated[str, typer.Argument(help="Model dir (or alias) with the original tokenizer")],
    new_model: Annotated[Path, typer.Argument(help="Model dir with the extended tokenizer")],
    eval_docs: Annotated[Path, typer.Option("--eval-docs", help="Gold .spacy docs (e.g. corpus/maccrobat/test.spacy)")],
    report_dir: Annotated[Path, typer.Option("--report-dir", help="Output metrics dir")],
    labels: Annotated[str, typer.Option("--labels", help="Entity labels whose words are measured")] = LABELS,
) -> None:
    """Fragmentation before/after between two tokenizers (JSON, TSV, PNG, markdown)."""
    _report(resolve_encoder_name(old_model), new_model, report_dir, eval_docs, _labels(labels))
