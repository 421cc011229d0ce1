"""The external candidates of the assertion comparison (issue 29): medspaCy's
ConText and negspacy's Negex, each as shipped, on MACCROBAT gold entities,
scored on the document folds our own candidates are scored on.

    python scripts/assertion_baselines.py corpus/maccrobat/train.spacy corpus/maccrobat/dev.spacy \\
        corpus/maccrobat/test.spacy --k 5 --seed 0 --output metrics/assertion_baselines.json

All docs of the given DocBins are read together; `folds.document_folds` over
their ids (k, seed) gives each doc its fold, as for every candidate. Neither
tool learns, so every doc is simply predicted once; `assertion_cv.cv_summary`
scores each fold's docs and the pooled pairs (with document-bootstrap
intervals). The JSON holds `{"k", "seed", "folds": {doc_id: fold},
"candidates": {name: cv_summary}, "details": {name: alignment, rules, time,
ConText's flag counts}, "versions", "mapping"}`.

Each tool gets the gold entities as `doc.ents` of a doc tokenized the way
it expects, the character offsets expanded to its tokens
(`alignment_mode="expand"`). An entity whose expanded span overlaps one
already placed (two gold entities inside one of the tool's tokens) cannot be
an entity of that doc: it is counted (`details[name]["alignment"]`, with its
doc id and offsets), kept in the scores and predicted present.

- context: `medspacy.load()` as shipped: medspaCy's tokenizer, the PyRuSH
  sentence splitter, the target matcher (no rules, so it adds no entity) and
  ConText with its default English rules. Its modifier categories map to
  ours: an entity with a POSSIBLE_EXISTENCE modifier (`is_uncertain`) is
  possible, else one with a NEGATED_EXISTENCE modifier (`is_negated`) is
  absent, else present (a hedged negation is possible, as MACCROBAT's
  MAYBE_NEG and `clinkd_assertion`). HYPOTHETICAL maps to present, chosen
  before scoring from the rules themselves: its cues ("if", "return",
  "should he", "come back for", "risks of", "as needed") mark conditional or
  future events (discharge instructions, PRN medication). MACCROBAT's
  possible (UNCERTAIN, MAYBE_POS, MAYBE_NEG) marks a finding the authors
  hedge ("suspected", "could not rule out"), which is what
  POSSIBLE_EXISTENCE's cues look for, while a medication "given as needed"
  in a case report is one the patient had (annotated without polarity,
  present). HISTORICAL and FAMILY have no class of ours either: present. The
  five flags are counted per fold and, pooled, per gold class
  (`details["context"]["flags"]`), so the effect of another mapping can be
  read off without rerunning. Where the gold has contexts (`convert-brat
  --context-labels`: MACCROBAT's History and Family_history spans), its
  HISTORICAL, HYPOTHETICAL and FAMILY flags are also scored as those
  categories, all documents pooled (`details["context"]["contexts"]`).
- negspacy: Negex with its `en_clinical` term set, as shipped. negspacy has
  no tokenizer or sentence splitter of its own, so it runs on our clinical
  tokenizer (`clinical_blank`) with spaCy's rule `sentencizer`, as the
  issue-11 negspacy candidate did and as `clinkd_assertion` is scored. It
  only negates: absent if `ent._.negex`, else present (never possible).

Install. medspaCy 1.3.1 (and PyRuSH, medspacy_quickumls) pin spacy<3.8 on
Python < 3.12 (spacy>=3.8 from 3.12 on, the same code), so `pip install
medspacy` beside our spacy 3.8 would downgrade spaCy, thinc and numpy: it
does not go into the project's venv, nor into a setup.py extra. A separate
Python 3.11 venv with the project's pins, medspaCy's three packages without
their spaCy pin, and their other requirements (commands that worked, from
the checkout):

    python3 -m venv /work/venvs/baselines && . /work/venvs/baselines/bin/activate
    .venv/bin/pip freeze --exclude-editable > /tmp/venv_constraints.txt
    pip install -c /tmp/venv_constraints.txt -e . negspacy==1.1.0 pytest
    pip install --no-deps medspacy==1.3.1 medspacy_quickumls==3.2 PyRuSH==1.0.13
    pip install cython loguru pyfastner quicksectx jsonschema pysbd==0.3.4 \\
        medspacy-unqlite nltk pysimstring six unidecode

(`pip check` then names only the spacy<3.8 pins of medspacy and PyRuSH.)
negspacy alone installs into the project's venv (requirements-dev.txt), so
`--baselines negspacy` runs there.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import platform
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_clinkd.corpora.spans import gold_assertions, gold_contexts
from spacy_clinkd.evaluation.assertion import score_contexts
from spacy_clinkd.evaluation.assertion_cv import cv_summary
from spacy_clinkd.evaluation.folds import doc_id, document_folds
from spacy_clinkd.paths import check_output_file, write_text_atomic
from spacy_clinkd.pipeline.assertion import ABSENT, ASSERTIONS, CONTEXT_ATTRS, POSSIBLE, PRESENT
from spacy_clinkd.tokenizer import clinical_blank

BASELINES = ("context", "negspacy")
# ConText's span attributes (its DEFAULT_ATTRIBUTES), in the order of its categories
CONTEXT_FLAGS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")
MAPPING = (
    "context: POSSIBLE_EXISTENCE (is_uncertain) -> possible; else NEGATED_EXISTENCE (is_negated) -> absent; "
    "else present (HYPOTHETICAL, HISTORICAL, FAMILY and no modifier). negspacy: ent._.negex -> absent, else present. "
    "A gold entity the tool's tokens cannot hold (details.*.alignment.unaligned) -> present."
)
SETUP = "the install commands at the top of scripts/assertion_baselines.py"
REQUIRED = {
    "context": ("medspacy", "pip install --no-deps medspacy==1.3.1 medspacy_quickumls==3.2 PyRuSH==1.0.13 "
                f"and their other requirements, in a venv of its own ({SETUP}: medspacy pins spacy<3.8 on Python < 3.12)"),
    "negspacy": ("negspacy", "pip install negspacy==1.1.0"),
}
VERSIONS = ("spacy", "spacy-clinkd", "numpy", "medspacy", "PyRuSH", "negspacy")


def require(baseline: str) -> None:
    """Import the package a baseline needs, or stop with how to install it."""
    package, install = REQUIRED[baseline]
    try:
        importlib.import_module(package)
    except ImportError as err:
        raise SystemExit(
            f"✘ the {baseline} baseline needs the package '{package}', and importing it failed ({err}).\n"
            f"  Install: {install}"
        ) from None


def context_pipeline() -> Language:
    """medspaCy's default pipeline with ConText's default rules, as shipped."""
    require("context")
    import medspacy
    from loguru import logger

    logger.disable("PyRuSH")  # a DEBUG line per sentence boundary otherwise
    return medspacy.load()


def negspacy_pipeline(termset_name: str = "en_clinical") -> Language:
    """Our clinical tokenizer, spaCy's sentencizer and negspacy's Negex with a shipped term set."""
    require("negspacy")
    from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)
    from negspacy.termsets import termset

    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("negex", config={"neg_termset": termset(termset_name).get_patterns()})
    return nlp


def context_assertion(ent: Span) -> str:
    if ent._.is_uncertain:
        return POSSIBLE
    return ABSENT if ent._.is_negated else PRESENT


def negspacy_assertion(ent: Span) -> str:
    return ABSENT if ent._.negex else PRESENT


def run_on_gold(nlp: Language, gold: Doc) -> tuple[list[Span | None], list[str]]:
    """Run `nlp`'s components on `gold`'s entities.

    nlp (Language): the tool's pipeline; its tokenizer makes the doc.
    gold (Doc): a gold doc.
    RETURNS (Tuple[List[Optional[Span]], List[str]]): per gold entity, in
        order, the tool's entity after the pipeline (None: unaligned) and how
        it was placed: "exact", "expanded" (to the tool's tokens), "overlap"
        (unaligned: its tokens hold an entity placed before it) or
        "no_token" (unaligned: no token of the tool's covers it).
    """
    doc = nlp.make_doc(gold.text)
    placed: list[Span | None] = []
    statuses: list[str] = []
    taken: set[int] = set()
    for ent in gold.ents:
        span = doc.char_span(ent.start_char, ent.end_char, label=ent.label_, alignment_mode="expand")
        if span is None or len(span) == 0:
            status, span = "no_token", None
        elif taken & set(range(span.start, span.end)):
            status, span = "overlap", None
        else:
            taken |= set(range(span.start, span.end))
            status = "exact" if (span.start_char, span.end_char) == (ent.start_char, ent.end_char) else "expanded"
        placed.append(span)
        statuses.append(status)
    doc.ents = [span for span in placed if span is not None]
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    by_offsets = {(e.start_char, e.end_char): e for e in doc.ents}
    return [None if span is None else by_offsets[(span.start_char, span.end_char)] for span in placed], statuses


def predict(
    nlp: Language,
    gold_docs: Sequence[Doc],
    assertion_of: Callable[[Span], str],
    *,
    flags: Sequence[str] = (),
) -> dict[str, Any]:
    """One baseline's predictions on the gold entities of `gold_docs`.

    RETURNS (Dict[str, Any]): `{"pairs_by_doc": [[(gold, predicted)]],
        "flags_by_doc": [[[flag set on the entity]]], "alignment": {counts,
        "unaligned": [[doc_id, start_char, end_char, reason]]}}`.
    """
    pairs_by_doc, flags_by_doc, unaligned = [], [], []
    placement: Counter = Counter()
    for index, gold in enumerate(gold_docs):
        truth = gold_assertions(gold) or {}
        ents, statuses = run_on_gold(nlp, gold)
        placement.update(statuses)
        pairs, doc_flags = [], []
        for gold_ent, ent, status in zip(gold.ents, ents, statuses):
            expected = truth.get((gold_ent.start_char, gold_ent.end_char), PRESENT)
            if ent is None:
                pairs.append((expected, PRESENT))
                doc_flags.append([])
                unaligned.append([doc_id(gold, index), gold_ent.start_char, gold_ent.end_char, status])
            else:
                pairs.append((expected, assertion_of(ent)))
                doc_flags.append([flag for flag in flags if getattr(ent._, flag)])
        pairs_by_doc.append(pairs)
        flags_by_doc.append(doc_flags)
    alignment = {
        "gold_entities": sum(len(p) for p in pairs_by_doc),
        **{status: placement[status] for status in ("exact", "expanded", "overlap", "no_token")},
        "unaligned": unaligned,
    }
    return {"pairs_by_doc": pairs_by_doc, "flags_by_doc": flags_by_doc, "alignment": alignment}


def flag_counts(prediction: dict[str, Any], folds: Sequence[int], flags: Sequence[str]) -> dict[str, Any]:
    """How often each flag is set, per fold, and pooled per gold class."""
    k = max(folds) + 1
    per_fold = [dict.fromkeys(flags, 0) for _ in range(k)]
    by_gold = {flag: dict.fromkeys(ASSERTIONS, 0) for flag in flags}
    for pairs, doc_flags, fold in zip(prediction["pairs_by_doc"], prediction["flags_by_doc"], folds):
        for (gold, _), ent_flags in zip(pairs, doc_flags):
            for flag in ent_flags:
                per_fold[fold][flag] += 1
                by_gold[flag][gold] += 1
    return {"per_fold": per_fold, "by_gold": by_gold}


def context_scores(prediction: dict[str, Any], gold_docs: Sequence[Doc], *, n_samples: int, seed: int) -> dict[str, Any] | None:
    """ConText's HISTORICAL / HYPOTHETICAL / FAMILY flags scored against the
    gold contexts (`evaluation.assertion.score_contexts`, all documents pooled:
    nothing is learned); None when the gold docs hold none. An unaligned
    entity has no flag."""
    if all(gold_contexts(doc) is None for doc in gold_docs):
        return None
    pairs_by_doc = []
    for gold, doc_flags in zip(gold_docs, prediction["flags_by_doc"]):
        truth = gold_contexts(gold)
        pairs_by_doc.append([
            (
                None if truth is None else truth.get((ent.start_char, ent.end_char), frozenset()),
                frozenset(c for c, attr in CONTEXT_ATTRS.items() if attr in flags),
            )
            for ent, flags in zip(gold.ents, doc_flags)
        ])
    return score_contexts(pairs_by_doc, bootstrap=n_samples, seed=seed)


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def score_baselines(
    gold_docs: Sequence[Doc],
    *,
    k: int = 5,
    seed: int = 0,
    n_samples: int = 1000,
    baselines: Sequence[str] = BASELINES,
    termset: str = "en_clinical",
) -> dict[str, Any]:
    """Predict and score each baseline on the gold entities of `gold_docs`.

    gold_docs (Sequence[Doc]): gold docs with `doc.ents`, assertions and ids.
    k (int): the number of document folds.
    seed (int): the folds' seed (`document_folds`) and the bootstrap's.
    n_samples (int): bootstrap samples.
    baselines (Sequence[str]): any of "context", "negspacy".
    termset (str): negspacy's term set.
    RETURNS (Dict[str, Any]): the JSON the script writes.
    """
    for name in baselines:
        require(name)
    ids = [doc_id(doc, i) for i, doc in enumerate(gold_docs)]
    folds = document_folds(ids, k=k, seed=seed)
    result: dict[str, Any] = {
        "k": k, "seed": seed, "n_samples": n_samples, "folds": dict(zip(ids, folds)),
        "candidates": {}, "details": {}, "versions": versions(), "mapping": MAPPING,
    }
    for name in baselines:
        start = time.perf_counter()
        if name == "context":
            nlp = context_pipeline()
            prediction = predict(nlp, gold_docs, context_assertion, flags=CONTEXT_FLAGS)
            details = {
                "rules": len(nlp.get_pipe("medspacy_context").rules), "flags": flag_counts(prediction, folds, CONTEXT_FLAGS),
                "contexts": context_scores(prediction, gold_docs, n_samples=n_samples, seed=seed),
            }
        else:
            nlp = negspacy_pipeline(termset)
            prediction = predict(nlp, gold_docs, negspacy_assertion)
            details = {"termset": termset}
        result["candidates"][name] = cv_summary(prediction["pairs_by_doc"], folds, n_samples=n_samples, seed=seed)
        details.update(pipeline=nlp.pipe_names, alignment=prediction["alignment"], seconds=round(time.perf_counter() - start, 2))
        result["details"][name] = details
    return result


def summary_line(name: str, summary: dict[str, Any]) -> str:
    mean, sd = summary["mean"], summary["sd"]
    classes = "  ".join(f"{c} F1 {mean[c]['f']:.3f}±{sd[c]['f']:.3f}" for c in (ABSENT, POSSIBLE, PRESENT))
    macro = summary["macro_f"]
    return f"{name:9s} {classes}  macro F1 {macro['mean']:.3f}±{macro['sd']:.3f}"


def main(paths: Sequence[Path], output: Path, *, k: int, seed: int, n_samples: int, baselines: Sequence[str], termset: str) -> None:
    check_output_file(output, inputs={str(p): p for p in paths})
    # medspaCy's target matcher has no rules (the entities are the gold ones): spaCy warns on every doc
    warnings.filterwarnings("ignore", message=r"\[W036\]")
    for name in baselines:
        require(name)
    vocab = clinical_blank().vocab
    gold_docs = [doc for path in paths for doc in DocBin().from_disk(path).get_docs(vocab)]
    result = score_baselines(gold_docs, k=k, seed=seed, n_samples=n_samples, baselines=baselines, termset=termset)
    result["data"] = [str(p) for p in paths]
    write_text_atomic(output, json.dumps(result, indent=2) + "\n")
    for name, summary in result["candidates"].items():
        alignment = result["details"][name]["alignment"]
        print(summary_line(name, summary), f"  unaligned {len(alignment['unaligned'])}/{alignment['gold_entities']}",
              f"  {result['details'][name]['seconds']} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="+", help="gold .spacy DocBins (converted with the brat reader)")
    parser.add_argument("--output", type=Path, required=True, help="JSON to write")
    parser.add_argument("--k", type=int, default=5, help="document folds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and of the bootstrap")
    parser.add_argument("--n-samples", type=int, default=1000, help="bootstrap samples")
    parser.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated: context, negspacy")
    parser.add_argument("--termset", default="en_clinical", help="negspacy term set")
    args = parser.parse_args()
    chosen = [b.strip() for b in args.baselines.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BASELINES))
    if unknown or not chosen:
        parser.error(f"--baselines: unknown {unknown}; choose from {', '.join(BASELINES)}")
    main(args.data, args.output, k=args.k, seed=args.seed, n_samples=args.n_samples, baselines=chosen, termset=args.termset)
