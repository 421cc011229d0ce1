"""Dev F1 of int8 variants of a clinkd_ner pipeline: which encoder layers to keep in fp32.

    python scripts/int8_variants.py MODEL DATA.spacy VARIANT [VARIANT ...]

A VARIANT is "all" (every MatMul int8) or comma-separated weight-name
prefixes kept in fp32 (e.g. "encoder.layer.0"). Prints strict micro F1
(`nlp.evaluate`) of fp32 and of each variant, and the quantization time.
Choose on dev; score the choice on test once.
"""
import sys
import time

from spacy.tokens import DocBin
from spacy.training import Example

from spacy_clinkd.pipeline.loading import load_pipeline


def main(model: str, corpus: str, variants: list[str]) -> None:
    nlp = load_pipeline(model, "fp32")
    gold = list(DocBin().from_disk(corpus).get_docs(nlp.vocab))

    def score() -> float:
        return nlp.evaluate([Example(nlp.make_doc(d.text), d) for d in gold])["ents_f"]

    print("fp32", round(score(), 4), flush=True)
    ner = nlp.get_pipe("clinkd_ner")
    for variant in variants:
        start = time.perf_counter()
        ner.quantize(exclude=[] if variant == "all" else variant.split(","))
        seconds = time.perf_counter() - start
        ner.set_inference("int8")
        print(variant, round(score(), 4), f"quantize {seconds:.1f} s", flush=True)
        ner.set_inference("fp32")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
