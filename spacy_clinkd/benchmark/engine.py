"""The one measuring engine: pipelines benchmarked side by side in one
process, their timed passes interleaved, so that a slower or busier moment
of a shared machine falls on every pipeline alike: the ratios to a reference
pipeline are what such a machine can measure, more than the absolute
numbers. One pipeline is a comparison of one (`report.benchmark_pipeline`).

What is measured (`compare_pipelines`), on the same texts for every pipeline:

- Throughput: after one untimed pass at the key batch size (the FLOP count
  below) and `warmup` untimed passes, for each pass p, each batch size and
  each pipeline in an order rotated by p, one timed
  `list(nlp.pipe(texts, batch_size=b))`; words/s per pass. Words are the
  non-space tokens of the reference pipeline's tokenizer, one count for all,
  so a words/s ratio is the inverse ratio of times on the same texts (each
  pipeline's own count, of the docs its `nlp.pipe` returned, is `words`).
- Latency: `nlp(text)` on each of the first `latency_docs` texts, the
  pipelines in an order rotated by the document; p50, p95, max in ms, and
  the mean words (the pipeline's own tokens) of those documents.
- Long documents: the texts joined ("\\n\\n") into documents of about
  `long_doc_words` whitespace words (`join_long_documents`), `nlp.pipe` at
  batch size 1, interleaved like throughput.
- In a fresh process per pipeline (`fresh_process_measurements`), where one
  model per process holds: RSS before loading (spaCy and torch imported),
  load time, RSS after loading and peak RSS over one `nlp.pipe` pass at the
  key batch size, so that the memory is that pipeline's alone; and, in this
  process, size on disk and parameters (`resources`) and the meta's name and
  version.
- F1: strict micro F1 (`evaluation.metrics.score_entities`) on gold docs,
  over the labels the pipeline predicts.
- Encoder FLOPs (pipelines with a Hugging Face encoder): every forward of one
  untimed fp32 pass at the key batch size is recorded (`flops.
  recording_forwards`), FLOPs from the layer shapes and the padded lengths
  (`flops` module docstring); achieved GFLOP/s = those FLOPs over the median
  pass time at the key batch size, set against the machine's fp32 matmul
  rate (`flops.matmul_gflops`). An int8 pipeline runs the same windows, so
  it is credited with the same FLOPs.

`@int8` or `@fp32` after a model (`PipelineSpec.precision`) loads it with
that `inference` setting for `clinkd_ner` (whatever its saved default); an
int8 encoder is made before anything is timed when the pipeline holds none.
Timing assertions do not belong in tests.
"""
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import srsly

from ..errors import ClinkdError, Errors
from ..evaluation.metrics import score_entities
from ..models.precision import check_precision
from ..pipeline.loading import (
    NER_COMPONENT,
    load_pipeline,
    pipeline_config,
    pipeline_path,
    precision_of,
    split_precision,
)
from .flops import encoder_dims, matmul_gflops, pass_summary, recording_forwards
from .resources import count_parameters, current_rss_mib, directory_bytes, peak_rss_at_least

# Factories whose components write doc.ents: their labels are what a pipeline predicts.
ENTITY_FACTORIES = ("clinkd_ner", "ner", "beam_ner", "entity_ruler", "span_ruler")
KEY_BATCH_SIZE = 8


class PipelineSpec(NamedTuple):
    """One pipeline to compare.

    name (str): its name in the reports.
    model (str): pipeline directory or installed package name.
    precision (Optional[str]): "int8" or "fp32" to run `clinkd_ner` at that
        precision; None loads the pipeline as saved.
    """

    name: str
    model: str
    precision: str | None = None


class ComparisonSettings(NamedTuple):
    """How the pipelines are measured (module docstring).

    batch_sizes (Sequence[int]): `nlp.pipe` batch sizes timed.
    passes (int): timed passes (>= 1).
    warmup (int): untimed passes first (>= 0).
    latency_docs (int): documents timed one by one (0: no latency).
    long_doc_words (int): words per long document (0: no long documents).
    threads (int): torch intra-op threads; 0 keeps torch's default.
    """

    batch_sizes: Sequence[int] = (1, 8, 32)
    passes: int = 5
    warmup: int = 1
    latency_docs: int = 20
    long_doc_words: int = 20000
    threads: int = 0


def parse_pipeline_spec(text: str) -> PipelineSpec:
    """Parse `NAME=MODEL`, `NAME=MODEL@int8` or `NAME=MODEL@fp32`.

    RAISES ValueError: no name, no model, or `@` followed by something else.
    """
    name, sep, model = text.partition("=")
    name, model = name.strip(), model.strip()
    if not sep or not name or not model:
        raise ValueError(f"expected NAME=MODEL (or NAME=MODEL@int8), got {text!r}")
    try:
        model, precision = split_precision(model)
    except ClinkdError:
        raise ValueError(f"no model before the precision in {text!r}") from None
    return PipelineSpec(name, model, precision)


def key_batch_size(batch_sizes: Sequence[int]) -> int:
    """The batch size of the ratios, the FLOP count and the fresh-process
    pass: 8 if measured, else the middle one of `batch_sizes`."""
    return KEY_BATCH_SIZE if KEY_BATCH_SIZE in batch_sizes else sorted(batch_sizes)[len(batch_sizes) // 2]


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """`items` rotated left by `shift`: the order of pass `shift`."""
    if not items:
        return []
    k = shift % len(items)
    return [*items[k:], *items[:k]]


def join_long_documents(texts: Sequence[str], words: int) -> list[str]:
    """The texts, in order, joined with "\\n\\n" into documents of about
    `words` whitespace-separated words: a document closes once it reaches
    `words`; a last one shorter than half of that joins the one before.

    words (int): the target length (0: no long documents).
    RETURNS (List[str]): the documents.
    """
    if words <= 0:
        return []
    groups: list[list[str]] = []
    current: list[str] = []
    count = 0
    for text in texts:
        current.append(text)
        count += len(text.split())
        if count >= words:
            groups.append(current)
            current, count = [], 0
    if current:
        if groups and count < words / 2:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return ["\n\n".join(group) for group in groups]


def count_words(nlp: Any, texts: Sequence[str]) -> int:
    """RETURNS (int): non-space tokens of `nlp`'s tokenizer over `texts`."""
    return sum(1 for doc in nlp.tokenizer.pipe(texts) for token in doc if not token.is_space)


def check_spec(spec: PipelineSpec) -> None:
    """Before anything is loaded: a precision is valid and names a pipeline
    with a `clinkd_ner` component (read from its config). The same check
    `load_pipeline` makes, run for every spec before the first is loaded.

    RAISES ClinkdError: E009, the pipeline has no clinkd_ner; E041.
    """
    if spec.precision is None:
        return
    check_precision(spec.precision)
    config = pipeline_config(spec.model)
    names = list(config["nlp"].get("pipeline", [])) if config is not None else None
    if names is not None and NER_COMPONENT not in names:
        raise ClinkdError(Errors.E009.format(path=spec.model, component=NER_COMPONENT, names=names))


def load_spec(spec: PipelineSpec) -> Any:
    """RETURNS (Language): the pipeline of `spec` at its precision (`load_pipeline`;
    its int8 encoder is not made here: `prepare_int8`)."""
    return load_pipeline(spec.model, spec.precision)


def prepare_int8(nlp: Any) -> float | None:
    """Make the int8 encoder of an int8 `clinkd_ner` that holds none (what
    its first prediction would do), so that no timed pass includes it.

    RETURNS (Optional[float]): seconds it took; None if nothing was made.
    """
    if precision_of(nlp) != "int8":
        return None
    ner = nlp.get_pipe(NER_COMPONENT)
    if ner.has_int8:
        return None
    start = time.perf_counter()
    ner.quantize()
    return time.perf_counter() - start


def find_encoder(nlp: Any) -> Any | None:
    """RETURNS (Optional[torch.nn.Module]): the fp32 Hugging Face module of
    the first component whose model holds one (`models.int8.hf_shim`)."""
    from ..models.inference import hf_shim

    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        try:
            return hf_shim(model)._model
        except ClinkdError:
            continue
    return None


@contextmanager
def fp32_inference(nlp: Any) -> Iterator[None]:
    """Run `clinkd_ner`'s encoder in fp32 inside the block (the precision
    set before is back afterwards)."""
    if precision_of(nlp) != "int8":
        yield
        return
    ner = nlp.get_pipe(NER_COMPONENT)
    ner.set_inference("fp32")
    try:
        yield
    finally:
        ner.set_inference("int8")


def count_encoder_pass(nlp: Any, texts: Sequence[str], *, batch_size: int) -> tuple[list[Any], dict[str, Any] | None]:
    """One untimed `nlp.pipe` pass, in fp32, recording every encoder forward.

    RETURNS (Tuple[List[Doc], Optional[Dict[str, Any]]]): the docs, and
        `flops.pass_summary` with the encoder's dims (None for a pipeline
        without a Hugging Face encoder of known shape).
    """
    module = find_encoder(nlp)
    dims = encoder_dims(module.config) if module is not None and hasattr(module, "config") else None
    if dims is None:
        return list(nlp.pipe(texts, batch_size=batch_size)), None
    with fp32_inference(nlp), recording_forwards(module) as forwards:
        docs = list(nlp.pipe(texts, batch_size=batch_size))
    summary = pass_summary(forwards, dims)
    summary.update(hidden=dims.hidden, intermediate=dims.intermediate, layers=dims.layers, batch_size=batch_size)
    return docs, summary


def predicted_labels(nlp: Any) -> list[str] | None:
    """RETURNS (Optional[List[str]]): the labels of the components that set
    entities (ENTITY_FACTORIES); None if there is none."""
    labels: set[str] = set()
    found = False
    for name, proc in nlp.pipeline:
        if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES:
            found = True
            # clinkd_ner trained on auxiliary types writes only its output_labels
            labels.update(getattr(proc, "output_labels", None) or getattr(proc, "labels", ()))
    return sorted(labels) if found else None


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile `q` (0-100) of `values`."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def read_benchmark_texts(path: str | Path, *, limit: int = 0) -> list[str]:
    """Texts to process: a `.spacy` DocBin, or a directory of `.txt` files.

    limit (int): keep the first `limit` texts (0: all).
    RAISES ClinkdError: nothing to read.
    """
    path = Path(path)
    if path.is_dir():
        texts = []
        for file in sorted(path.glob("*.txt")):
            try:
                texts.append(file.read_text(encoding="utf8"))
            except UnicodeDecodeError as err:
                raise ClinkdError(Errors.E258.format(path=file, reason=err)) from err
    elif path.is_file():
        import spacy
        from spacy.tokens import DocBin

        try:
            docs = DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)
            texts = [doc.text for doc in docs]
        except (OSError, ValueError, KeyError) as err:
            raise ClinkdError(Errors.E258.format(path=path, reason=err)) from err
    else:
        texts = []
    texts = [t for t in texts if t.strip()]
    if limit:
        texts = texts[:limit]
    if not texts:
        raise ClinkdError(Errors.E256.format(path=path))
    return texts


def read_gold_docs(path: str | Path) -> list[Any]:
    """Gold docs of a `.spacy` DocBin.

    RAISES ClinkdError: E254 (unreadable), E259 (no documents).
    """
    import spacy

    from ..corpora.docbins import read_docbin

    return read_docbin(path, spacy.blank("en").vocab)


def strict_f1(nlp: Any, gold_docs: Sequence[Any], *, batch_size: int) -> float:
    """RETURNS (float): strict micro F1 of `nlp` on `gold_docs`, over the
    labels it predicts."""
    predicted = list(nlp.pipe([doc.text for doc in gold_docs], batch_size=batch_size))
    return score_entities(gold_docs, predicted, labels=predicted_labels(nlp))["micro"]["f"]


def _timed_pipe(nlp: Any, texts: Sequence[str], batch_size: int) -> float:
    gc.collect()  # not inside the timed block
    start = time.perf_counter()
    list(nlp.pipe(texts, batch_size=batch_size))
    return time.perf_counter() - start


def _rates(n_words: int, seconds: Sequence[float]) -> dict[str, Any]:
    passes = [n_words / s for s in seconds]
    return {"median": statistics.median(passes), "min": min(passes), "max": max(passes), "passes": passes}


# -- the fresh process ---------------------------------------------------------

_FRESH_CODE = "from spacy_clinkd.benchmark.engine import fresh_process_main; fresh_process_main()"


def measure_fresh(spec: PipelineSpec, texts: Sequence[str], *, batch_size: int, threads: int) -> dict[str, Any]:
    """In this (fresh) process: load the pipeline, then one `nlp.pipe` pass.

    RETURNS (Dict[str, Any]): `rss_before_load_mib` (spaCy and torch
        imported, nothing loaded), `load_seconds`, `rss_after_load_mib`,
        `peak_rss_mib` (never below an RSS sampled earlier) and
        `quantize_seconds` (the int8 encoder made after loading, or None).
    """
    import spacy  # noqa: F401  (imported before the RSS baseline, as loading would)
    import torch

    if threads:
        torch.set_num_threads(threads)
    rss_before = current_rss_mib()
    start = time.perf_counter()
    nlp = load_spec(spec)
    load_seconds = time.perf_counter() - start
    rss_loaded = current_rss_mib()
    quantize_seconds = prepare_int8(nlp)
    list(nlp.pipe(texts, batch_size=batch_size))
    return {
        "rss_before_load_mib": rss_before,
        "load_seconds": load_seconds,
        "rss_after_load_mib": rss_loaded,
        "peak_rss_mib": peak_rss_at_least(rss_loaded),
        "quantize_seconds": quantize_seconds,
    }


def fresh_process_main() -> None:
    """Entry of the fresh process: argv is MODEL PRECISION TEXTS_JSON
    BATCH_SIZE THREADS; prints the `measure_fresh` JSON as its last line."""
    model, precision, texts_json, batch_size, threads = sys.argv[1:6]
    spec = PipelineSpec("fresh", model, precision or None)
    result = measure_fresh(spec, srsly.read_json(texts_json), batch_size=int(batch_size), threads=int(threads))
    print(json.dumps(result))


def fresh_process_measurements(
    spec: PipelineSpec, texts_json: str | Path, *, batch_size: int, threads: int
) -> dict[str, Any]:
    """Run `measure_fresh` in a new Python process (`sys.executable`).

    texts_json (Union[str, Path]): a JSON list of the texts.
    threads (int): torch threads there (0: torch's default).
    RAISES ClinkdError: E011, the process failed (its last stderr lines).
    """
    args = [sys.executable, "-c", _FRESH_CODE, spec.model, spec.precision or "", str(texts_json), str(batch_size), str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ClinkdError(Errors.E011.format(path=spec.model, reason=f"fresh process exited {done.returncode}: {tail}"))
    return json.loads(lines[-1])


# -- the comparison ------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """The CPU, the torch threads and versions; `fp32_matmul_gflops` from
    `flops.matmul_gflops` with those threads."""
    import spacy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        import onnxruntime

        ort_version: str | None = onnxruntime.__version__
    except ImportError:
        ort_version = None
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "fp32_matmul_gflops": matmul_gflops(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "spacy": spacy.__version__,
        "onnxruntime": ort_version,
    }


def _ratio(x: float | None, ref: float | None) -> float | None:
    return x / ref if x is not None and ref else None


def compare_pipelines(
    specs: Sequence[PipelineSpec],
    texts: Sequence[str],
    *,
    reference: str,
    gold_docs: Sequence[Any] | None = None,
    settings: ComparisonSettings = ComparisonSettings(),
) -> dict[str, Any]:
    """Measure the pipelines side by side (module docstring).

    specs (Sequence[PipelineSpec]): the pipelines, names unique.
    texts (Sequence[str]): the documents.
    reference (str): the name of the pipeline the ratios divide by.
    gold_docs (Optional[Sequence[Doc]]): docs with gold entities for F1;
        None: no F1 (null).
    settings (ComparisonSettings): batch sizes, passes, warm-up, latency
        documents, long-document words and torch threads.
    RETURNS (Dict[str, Any]): `machine`, `reference`, `settings`,
        `pipelines` (in the order of `specs`) and `ratios`.
    RAISES ClinkdError: E257 (bad settings), E009, E011.
    RAISES ValueError: duplicate names, or `reference` not among them.
    """
    import torch

    batch_sizes = list(settings.batch_sizes)
    passes, warmup, latency_docs = settings.passes, settings.warmup, settings.latency_docs
    long_doc_words, threads = settings.long_doc_words, settings.threads
    if passes < 1 or warmup < 0 or latency_docs < 0 or not batch_sizes or min(batch_sizes) < 1:
        raise ClinkdError(
            Errors.E257.format(repeats=passes, warmup=warmup, latency_docs=latency_docs, batch_size=batch_sizes)
        )
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"pipeline names must be unique, got {names}")
    if reference not in names:
        raise ValueError(f"the reference {reference!r} is not one of the pipelines {names}")
    for spec in specs:
        check_spec(spec)
    if threads:
        torch.set_num_threads(threads)
    key = key_batch_size(batch_sizes)
    nlps = [load_spec(spec) for spec in specs]
    quantize_seconds = [prepare_int8(nlp) for nlp in nlps]
    with tempfile.TemporaryDirectory() as tmp:
        texts_json = Path(tmp) / "texts.json"
        srsly.write_json(texts_json, list(texts))
        fresh = [
            fresh_process_measurements(spec, texts_json, batch_size=key, threads=torch.get_num_threads())
            for spec in specs
        ]
    ref_nlp = nlps[names.index(reference)]
    n_words = count_words(ref_nlp, texts)
    long_docs = join_long_documents(texts, long_doc_words)
    long_words = count_words(ref_nlp, long_docs)
    # Untimed passes, which warm every pipeline up too: words, FLOPs, F1.
    counted = [count_encoder_pass(nlp, texts, batch_size=key) for nlp in nlps]
    f1s = [strict_f1(nlp, gold_docs, batch_size=key) if gold_docs is not None else None for nlp in nlps]
    for _ in range(warmup):
        for b in batch_sizes:
            for nlp in nlps:
                list(nlp.pipe(texts, batch_size=b))
    order = list(range(len(nlps)))
    seconds: dict[int, list[list[float]]] = {b: [[] for _ in nlps] for b in batch_sizes}
    for p in range(passes):
        for b in batch_sizes:
            for i in rotated(order, p):
                seconds[b][i].append(_timed_pipe(nlps[i], texts, b))
    latencies: list[list[float]] = [[] for _ in nlps]
    for d, text in enumerate(texts[:latency_docs]):
        for i in rotated(order, d):
            start = time.perf_counter()
            nlps[i](text)
            latencies[i].append((time.perf_counter() - start) * 1000)
    long_seconds: list[list[float]] = [[] for _ in nlps]
    if long_docs:
        for p in range(passes):
            for i in rotated(order, p):
                long_seconds[i].append(_timed_pipe(nlps[i], long_docs, 1))
    machine = machine_info()
    pipelines = []
    for i, (spec, nlp) in enumerate(zip(specs, nlps)):
        docs, encoder = counted[i]
        if encoder is not None:
            median_seconds = statistics.median(seconds[key][i])
            encoder["gflops_achieved"] = encoder["flops_per_pass"] / median_seconds / 1e9
            encoder["fraction_of_peak"] = encoder["gflops_achieved"] / machine["fp32_matmul_gflops"]
        path = pipeline_path(spec.model)
        pipelines.append({
            "name": spec.name,
            "model": spec.model,
            "precision": precision_of(nlp),
            "pipeline": list(nlp.pipe_names),
            "meta_name": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}",
            "meta_version": nlp.meta.get("version"),
            "words": sum(1 for doc in docs for token in doc if not token.is_space),
            "throughput": {str(b): _rates(n_words, seconds[b][i]) for b in batch_sizes},
            "latency_ms": {
                "p50": percentile(latencies[i], 50),
                "p95": percentile(latencies[i], 95),
                "max": max(latencies[i]),
                "docs": len(latencies[i]),
                "mean_words_per_doc": count_words(nlp, texts[: len(latencies[i])]) / len(latencies[i]),
            } if latencies[i] else None,
            "long_docs": {**_rates(long_words, long_seconds[i]), "docs": len(long_docs), "words": long_words}
            if long_docs else None,
            **{k: fresh[i][k] for k in ("load_seconds", "rss_before_load_mib", "rss_after_load_mib", "peak_rss_mib")},
            "fresh_quantize_seconds": fresh[i]["quantize_seconds"],
            "quantize_seconds": quantize_seconds[i],
            "disk_bytes": directory_bytes(path) if path is not None else None,
            "parameters": count_parameters(nlp),
            "f1": f1s[i],
            "encoder": encoder,
        })
    ref = pipelines[names.index(reference)]
    ratios = {}
    for row in pipelines:
        r: dict[str, float | None] = {
            f"words_per_s_b{b}": row["throughput"][str(b)]["median"] / ref["throughput"][str(b)]["median"]
            for b in batch_sizes
        }
        if long_docs:
            r["long_docs_words_per_s"] = row["long_docs"]["median"] / ref["long_docs"]["median"]
        r["f1"] = _ratio(row["f1"], ref["f1"])
        ratios[row["name"]] = r
    return {
        "machine": machine,
        "reference": reference,
        "settings": {
            "docs": len(texts),
            "words": n_words,
            "batch_sizes": batch_sizes,
            "key_batch_size": key,
            "passes": passes,
            "warmup": warmup,
            "latency_docs": min(latency_docs, len(texts)),
            "long_doc_words": long_doc_words,
            "long_docs": len(long_docs),
            "long_docs_words": long_words,
            "gold_docs": len(gold_docs) if gold_docs is not None else None,
            "threads": threads,
        },
        "pipelines": pipelines,
        "ratios": ratios,
    }
