"""Where `nlp.pipe` spends its time, stage by stage, for a clinkd_ner pipeline.

    python scripts/profile_pipe.py MODEL DATA.spacy OUTPUT.md [--precision fp32|int8]
        [--batch-size 8] [--passes 3]

Each stage is timed by wrapping the callable that does it (wall clock,
inclusive), not by a sampling profiler, so the pipeline runs at full speed:

- tokenizer: `nlp.tokenizer` (spaCy tokenization, `nlp.make_doc`);
- windows: the span getter (`clinkd.line_windows.v1` inside `WordpieceLimited`,
  which tokenizes a window with the HF tokenizer to check its length);
- HF tokenization: `huggingface_tokenize` in spacy-transformers' forward;
- encoder forward: the torch (fp32) or ONNX Runtime (int8) module's call;
- alignment and batching: the rest of spacy-transformers' forward (wordpiece
  to token alignment, padding, truncation checks);
- pooling: `trfs2arrays` (wordpieces → one vector per spaCy token);
- head: the output Linear;
- Viterbi decoding, and the rest of `set_annotations` (spans, confidences);
- rest: everything else in `nlp.pipe` (spaCy's batching, the sentencizer,
  clinkd_assertion, ...).

Passes after one warm-up pass; times are summed over the passes. Also
reported: wordpieces computed (padded batch shapes) against real ones
(attention mask), the padding waste of batching whole-line windows together.
"""
import argparse
import time
from collections import defaultdict
from pathlib import Path

from spacy.tokens import DocBin

from spacy_clinkd.pipeline.loading import load_pipeline

TIMES: dict[str, float] = defaultdict(float)
PIECES = {"computed": 0, "real": 0}


def timed(stage: str, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            TIMES[stage] += time.perf_counter() - start

    return wrapper


def instrument(nlp) -> None:
    import spacy_transformers.layers.transformer_model as trf_model

    from spacy_clinkd.models.inference import hf_shim
    from spacy_clinkd.pipeline import ner as ner_module

    ner = nlp.get_pipe("clinkd_ner")
    nlp.tokenizer = timed("tokenizer", nlp.tokenizer)
    trf_model.huggingface_tokenize = timed("hf_tokenize", trf_model.huggingface_tokenize)
    ner_module.viterbi_decode = timed("viterbi", ner_module.viterbi_decode)
    ner.predict = timed("predict", ner.predict)
    ner.set_annotations = timed("set_annotations", ner.set_annotations)
    shim = hf_shim(ner.model)
    shim.predict = timed("encoder", shim.predict)

    def count_pieces(module, args, kwargs):
        PIECES["computed"] += int(kwargs["input_ids"].numel())
        PIECES["real"] += int(kwargs["attention_mask"].sum())

    # the modules that compute (inside LengthBatched, each group's call)
    for module in (shim._model, ner.runtime.int8):
        if module is not None:
            module.register_forward_pre_hook(count_pieces, with_kwargs=True)
    for node in ner.model.walk():
        if node.name == "transformer":
            node.attrs["get_spans"] = timed("windows", node.attrs["get_spans"])
            node._func = timed("transformer", node._func)
        elif node.name.startswith("trfs2arrays"):
            node._func = timed("pooling", node._func)
    head = ner.model.get_ref("output_layer")
    head._func = timed("head", head._func)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("data", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--precision", choices=["fp32", "int8"], default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--no-batch-by-length", action="store_true", help="One padded batch per call.")
    args = parser.parse_args()
    config = {"components": {"clinkd_ner": {"batch_by_length": not args.no_batch_by_length}}}
    nlp = load_pipeline(args.model, args.precision, config=config)
    texts = [doc.text for doc in DocBin().from_disk(args.data).get_docs(nlp.vocab)]
    for _ in nlp.pipe(texts, batch_size=args.batch_size):  # warm-up (and an int8 model, if made)
        pass
    instrument(nlp)
    start = time.perf_counter()
    words = 0
    for _ in range(args.passes):
        words += sum(sum(not t.is_space for t in doc) for doc in nlp.pipe(texts, batch_size=args.batch_size))
    total = time.perf_counter() - start
    t = TIMES
    rows = [
        ("spaCy tokenizer", t["tokenizer"]),
        ("windows (line windows + HF length check)", t["windows"]),
        ("HF tokenization", t["hf_tokenize"]),
        ("encoder forward", t["encoder"]),
        ("alignment and batching (rest of the transformer layer)",
         t["transformer"] - t["windows"] - t["hf_tokenize"] - t["encoder"]),
        ("pooling (wordpieces → tokens)", t["pooling"]),
        ("head (Linear)", t["head"]),
        ("rest of predict", t["predict"] - t["transformer"] - t["pooling"] - t["head"]),
        ("Viterbi decoding", t["viterbi"]),
        ("rest of set_annotations", t["set_annotations"] - t["viterbi"]),
        ("rest of nlp.pipe (spaCy, sentencizer, clinkd_assertion)",
         total - t["tokenizer"] - t["predict"] - t["set_annotations"]),
    ]
    ner = nlp.get_pipe("clinkd_ner")
    precision = f"{ner.inference}, batch_by_length={ner.batch_by_length}"
    waste = 1 - PIECES["real"] / PIECES["computed"] if PIECES["computed"] else 0.0
    lines = [
        f"Profile of `nlp.pipe` ({args.model}, {precision}, batch {args.batch_size}, "
        f"{len(texts)} docs × {args.passes} passes, {words / total:,.0f} words/s instrumented)",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
        *(f"| {name} | {sec:.2f} | {sec / total:.1%} |" for name, sec in rows),
        f"| **total** | {total:.2f} | 100% |",
        "",
        f"Wordpieces computed {PIECES['computed']:,}, real {PIECES['real']:,}: padding waste {waste:.1%}.",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n", encoding="utf8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
