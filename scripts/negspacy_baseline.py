"""The negspacy candidate of the assertion comparison: negspacy's Negex with its
clinical term set (`en_clinical`, as shipped), on MACCROBAT gold entities.

negspacy only negates (`ent._.negex`), so its prediction is absent or present;
it never says possible. Scored like `clinkd_assertion` by
`spacy_clinkd.evaluation.assertion.score_assertions`.

    python scripts/negspacy_baseline.py corpus/maccrobat/dev.spacy metrics/negspacy_dev.json
"""
import argparse
import json
from pathlib import Path

from spacy.tokens import DocBin

from spacy_clinkd.corpora.spans import gold_assertions
from spacy_clinkd.evaluation.assertion import score_assertions
from spacy_clinkd.tokenizer import clinical_blank


def main(data: Path, output: Path, termset_name: str) -> None:
    from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)
    from negspacy.termsets import termset

    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("negex", config={"neg_termset": termset(termset_name).get_patterns(), "ent_types": []})
    gold_docs = list(DocBin().from_disk(data).get_docs(nlp.vocab))
    pairs = []
    for gold in gold_docs:
        doc = nlp.make_doc(gold.text)
        doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_, alignment_mode="expand") for e in gold.ents]
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        truth = gold_assertions(gold) or {}
        for g, p in zip(gold.ents, doc.ents):
            pairs.append((truth.get((g.start_char, g.end_char), "present"), "absent" if p._.negex else "present"))
    scores = score_assertions(pairs)
    scores.update(data=str(data), termset=termset_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf8")
    print({c: round(s["f"], 3) for c, s in scores["per_class"].items()}, "accuracy", round(scores["accuracy"], 3))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="gold .spacy DocBin (converted with the brat reader)")
    parser.add_argument("output", type=Path, help="scores JSON to write")
    parser.add_argument("--termset", default="en_clinical", help="negspacy term set")
    args = parser.parse_args()
    main(args.data, args.output, args.termset)
