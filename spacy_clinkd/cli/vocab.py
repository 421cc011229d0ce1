"""`python -m spacy_clinkd extend-vocab` / `vocab-report`: adaptive tokenization
(spacy_clinkd/wordpiece/adaptation.py).

Text specs are `FORMAT[*WEIGHT][:COLUMN]:GLOB` strings (see
spacy_clinkd/wordpiece/text_specs.py), one per --clinical / --general option;
without any, the project's assets/ defaults are used.
"""
from pathlib import Path
from typing import Annotated

import typer

from ..wordpiece.scoring import OBJECTIVES
from ..wordpiece.vocab_report import DEFAULT_LABELS
from ._app import BUILD_PANEL, app, parse_labels

# The defaults of wordpiece.text_specs (DEFAULT_CLINICAL, DEFAULT_GENERAL) and
# wordpiece.embeddings (INIT_OPTIONS), written out: those modules import spaCy
# and torch, which --help must not wait for. tests/cli/test_app.py keeps them equal.
CLINICAL_HELP = (
    "Clinical corpus spec FORMAT[*WEIGHT][:COLUMN]:GLOB (repeatable), e.g. "
    "'txt:notes/*.txt', 'csv:5:rows.csv', 'csv:note:a/*.csv!*_metadata.csv', "
    "'spacy*3:corpus/maccrobat/train.spacy'. Never dev/test text. "
    "Default: spacy:corpus/maccrobat/train.spacy ents*5:corpus/maccrobat/train.spacy "
    "txt:assets/mtsamples/cogstack_txt_small/*.txt csv:5:assets/mtsamples/kaggle_csv_rows0-400/*.csv "
    "csv:note:assets/aci_bench/challenge_data/*.csv!*_metadata.csv"
)
GENERAL_HELP = (
    "General-English corpus spec (repeatable), e.g. 'tsv:3:brown/*.tsv', "
    "'wikitext:wiki.test.raw'. Default: tsv:3:assets/brown/brown_sentences.part*.tsv "
    "wikitext:assets/wikitext2_raw_test/wiki.test.raw"
)
INIT_HELP = "New embedding rows: mean | random"

LABELS = ",".join(DEFAULT_LABELS)


@app.command("extend-vocab", rich_help_panel=BUILD_PANEL)
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
    init: Annotated[str, typer.Option("--init", help=INIT_HELP)] = "mean",
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
    from ..wordpiece.adaptation import extend_vocab

    extend_vocab(
        source, output_dir, clinical=clinical, general=general, size=size, min_count=min_count,
        smoothing=smoothing, objective=objective, batch_size=batch_size, init=init, seed=seed,
        mlm_steps=mlm_steps, mlm_lr=mlm_lr, report_dir=report_dir, eval_docs=eval_docs,
        labels=parse_labels(labels), progress=progress,
    )


@app.command("vocab-report", rich_help_panel=BUILD_PANEL)
def vocab_report_cli(
    old_model: Annotated[str, typer.Argument(help="Model dir (or alias) with the original tokenizer")],
    new_model: Annotated[Path, typer.Argument(help="Model dir with the extended tokenizer")],
    eval_docs: Annotated[Path, typer.Option("--eval-docs", help="Gold .spacy docs (e.g. corpus/maccrobat/test.spacy)")],
    report_dir: Annotated[Path, typer.Option("--report-dir", help="Output metrics dir")],
    labels: Annotated[str, typer.Option("--labels", help="Entity labels whose words are measured")] = LABELS,
) -> None:
    """Fragmentation before/after between two tokenizers (JSON, TSV, PNG, markdown)."""
    from ..wordpiece.adaptation import write_vocab_report

    write_vocab_report(old_model, new_model, report_dir, eval_docs=eval_docs, labels=parse_labels(labels))
