"""Where the clinical vocabulary changes an entity's wordpieces, does the
student find that entity more or less often? (issue 26: the vocabulary
extension on the shipped recipe, and why it loses)

Each gold entity of DATA is "changed" when the extended tokenizer splits at
least one of its words into other pieces than the base tokenizer does (the
normalizer, pre-tokenizer and WordPiece of `vocab-report`), else "same". Each
predicted entity is grouped the same way by its own text. Per model and
group: strict recall (gold entities predicted with the same span and label)
and strict precision (predicted entities that are gold). Scored on dev only:
settings are chosen there.

    python scripts/vocab_entity_recall.py corpus/maccrobat/dev.spacy \
        --base training/student_init_base --extended training/student_init_vocab \
        --model base-s0=training/student_kd/model-best --model vocab-s0=... --output metrics/vocab_entity_recall.json
"""
import argparse
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

GROUPS = ("changed", "same")


def changed_by(splitter: Callable[[str], list[str]], base: Callable[[str], tuple], extended: Callable[[str], tuple]) -> Callable[[str], bool]:
    """RETURNS (Callable[[str], bool]): whether a text has a word whose pieces
    differ between the base and the extended tokenization."""

    def is_changed(text: str) -> bool:
        return any(base(word) != extended(word) for word in splitter(text))

    return is_changed


def group_scores(
    gold_docs: Sequence[Any], pred_docs: Sequence[Any], is_changed: Callable[[str], bool], labels: Iterable[str]
) -> dict[str, dict[str, float | int | None]]:
    """Strict recall and precision per group ("changed", "same").

    gold_docs, pred_docs (Sequence[Doc]): the same texts, in the same order.
    is_changed (Callable[[str], bool]): an entity text → its group.
    labels (Iterable[str]): the labels scored; other entities are ignored.
    RETURNS (Dict[str, dict]): group → gold, found, predicted, correct, recall, precision.
    """
    if len(gold_docs) != len(pred_docs):
        raise ValueError(f"{len(gold_docs)} gold docs against {len(pred_docs)} predicted")
    labels = set(labels)
    counts = {group: {"gold": 0, "found": 0, "predicted": 0, "correct": 0} for group in GROUPS}
    for gold, pred in zip(gold_docs, pred_docs):
        if gold.text != pred.text:
            raise ValueError("gold and predicted docs differ in text")
        gold_spans = {(e.start_char, e.end_char, e.label_) for e in gold.ents if e.label_ in labels}
        pred_spans = {(e.start_char, e.end_char, e.label_) for e in pred.ents if e.label_ in labels}
        for spans, total, hit in ((gold_spans, "gold", "found"), (pred_spans, "predicted", "correct")):
            other = pred_spans if total == "gold" else gold_spans
            for start, end, label in spans:
                group = "changed" if is_changed(gold.text[start:end]) else "same"
                counts[group][total] += 1
                counts[group][hit] += (start, end, label) in other
    for c in counts.values():
        c["recall"] = c["found"] / c["gold"] if c["gold"] else None
        c["precision"] = c["correct"] / c["predicted"] if c["predicted"] else None
    return counts


def main(data: Path, base: Path, extended: Path, models: list[tuple[str, str]], labels: list[str], output: Path | None) -> dict:
    from spacy_clinkd.corpora.docbins import read_docbin
    from spacy_clinkd.pipeline.loading import load_pipeline
    from spacy_clinkd.wordpiece.counting import WordSplitter
    from spacy_clinkd.wordpiece.extend import load_tokenizer
    from spacy_clinkd.wordpiece.vocab_report import piece_cache

    base_tokenizer = load_tokenizer(base)
    is_changed = changed_by(
        WordSplitter(base_tokenizer), piece_cache(base_tokenizer), piece_cache(load_tokenizer(extended))
    )
    from spacy.vocab import Vocab

    gold_docs = read_docbin(data, Vocab())  # only texts and character offsets are compared: read once
    result: dict[str, Any] = {"data": str(data), "base": str(base), "extended": str(extended), "models": {}}
    for name, path in models:
        pred_docs = list(load_pipeline(path).pipe(doc.text for doc in gold_docs))
        result["models"][name] = {"path": path, **group_scores(gold_docs, pred_docs, is_changed, labels)}
    lines = ["| model | changed: gold / recall / precision | same: gold / recall / precision |", "|---|---|---|"]
    for name, scores in result["models"].items():
        cells = [f"{scores[g]['gold']} / {_fmt(scores[g]['recall'])} / {_fmt(scores[g]['precision'])}" for g in GROUPS]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    print("\n".join(lines))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf8")
    return result


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="gold .spacy (dev)")
    parser.add_argument("--base", type=Path, required=True, help="the base encoder folder (its tokenizer)")
    parser.add_argument("--extended", type=Path, required=True, help="the extended-vocabulary encoder folder")
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH, repeatable")
    parser.add_argument("--labels", default="DISEASE,MEDICATION,SYMPTOM", help="comma-separated")
    parser.add_argument("--output", type=Path, default=None, help="JSON file")
    args = parser.parse_args()
    pairs = [tuple(m.split("=", 1)) for m in args.model]
    main(args.data, args.base, args.extended, pairs, args.labels.split(","), args.output)
