"""Helpers shared by the tests, imported one way: `from tests.util import ...`.

Tiny random-weight transformers built from configs (so no test downloads
anything), the toy WordPiece vocabulary, fixture folders and tiny synthetic
corpora.
"""
import ast
from pathlib import Path

import spacy
from spacy.tokens import DocBin, Span

from spacy_clinkd.tokenizer import clinical_blank

TEST_DIR = Path(__file__).parent
ROOT = TEST_DIR.parent
DATA_DIR = TEST_DIR / "data"
CONFIGS = ROOT / "configs"
DISTILL_CFG = CONFIGS / "distill.cfg"
ENSEMBLE_CFG = CONFIGS / "distill_ensemble.cfg"
STUDENT_CFG = CONFIGS / "student.cfg"
WORDPIECE_DATA = DATA_DIR / "wordpiece"
DISTILLATION_DATA = DATA_DIR / "distillation"

# A toy WordPiece vocabulary: specials, letters (so every word tokenizes),
# a few whole words and continuation pieces.
TOY_WORDS = [
    "the", "patient", "has", "fever", "and", "cough", "took", "aspirin",
    "pain", "chest", "no", "was", "given", "mg", "of", "with", "denies",
    "dys", "##pnea", "##s", "##ing", "##ed", "diabetes", "insulin",
]


def toy_vocab(lowercase: bool = True) -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    if not lowercase:
        letters += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    digits = [str(d) for d in range(10)]
    punct = list(".,;:()/-%")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += letters + digits + punct + ["##" + ch for ch in letters + digits]
    for word in TOY_WORDS:
        if word not in vocab:
            vocab.append(word)
    return vocab


def write_tiny_model(path: Path, model_type: str = "bert", lowercase: bool = True) -> Path:
    """Save a tiny random-weight BERT, DistilBERT or MPNet (the teacher's
    architecture: `<s>`/`</s>` specials, relative position buckets, positions
    counted from the padding index) with a toy vocabulary."""
    import torch
    from transformers import (
        BertConfig,
        BertModel,
        BertTokenizerFast,
        DistilBertConfig,
        DistilBertModel,
        DistilBertTokenizerFast,
        MPNetConfig,
        MPNetModel,
        MPNetTokenizerFast,
    )

    torch.manual_seed(0)
    path.mkdir(parents=True, exist_ok=True)
    vocab = toy_vocab(lowercase)
    if model_type == "mpnet":
        vocab = ["<s>", "<pad>", "</s>", "<unk>"] + vocab + ["<mask>"]
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf8")
    if model_type == "bert":
        config = BertConfig(
            vocab_size=len(vocab), hidden_size=16, num_hidden_layers=4,
            num_attention_heads=2, intermediate_size=32, max_position_embeddings=512,
        )
        model = BertModel(config)
        tokenizer = BertTokenizerFast(str(vocab_file), do_lower_case=lowercase)
    elif model_type == "distilbert":
        config = DistilBertConfig(
            vocab_size=len(vocab), dim=16, n_layers=4, n_heads=2, hidden_dim=32,
            max_position_embeddings=512,
        )
        model = DistilBertModel(config)
        tokenizer = DistilBertTokenizerFast(str(vocab_file), do_lower_case=lowercase)
    elif model_type == "mpnet":
        config = MPNetConfig(
            vocab_size=len(vocab), hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
            intermediate_size=32, max_position_embeddings=514, relative_attention_num_buckets=32,
            pad_token_id=1, bos_token_id=0, eos_token_id=2,
            # all-mpnet-base-v2's value; 1e-12 would not survive spacy-transformers' config
            # round trip (srsly writes it as 0.0)
            layer_norm_eps=1e-5,
        )
        model = MPNetModel(config)
        tokenizer = MPNetTokenizerFast(str(vocab_file), do_lower_case=lowercase, model_max_length=512)
    else:
        raise ValueError(model_type)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


def write_gold_docs(path: Path) -> Path:
    """A DocBin with two synthetic docs and DISEASE/SYMPTOM/MEDICATION spans."""
    nlp = spacy.blank("en")
    docs = []
    for text, spans in [
        ("The patient has dyspnea and tachycardia .", [(3, 4, "SYMPTOM"), (5, 6, "SYMPTOM")]),
        ("History of hypertension , given lisinopril .", [(2, 3, "DISEASE"), (5, 6, "MEDICATION")]),
    ]:
        doc = nlp.make_doc(text)
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in spans]
        docs.append(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs).to_disk(path)
    return path


# Tiny synthetic corpora for the component and distillation tests.
TRAIN_DATA = [
    ("the patient has fever and cough", [(16, 21, "SYMPTOM"), (26, 31, "SYMPTOM")]),
    ("took aspirin 5mg with insulin", [(5, 12, "MEDICATION"), (22, 29, "MEDICATION")]),
    ("no chest pain, has diabetes", [(3, 13, "SYMPTOM"), (19, 27, "DISEASE")]),
]
DEV_DATA = [
    ("has fever and chest pain", [(4, 9, "SYMPTOM"), (14, 24, "SYMPTOM")]),
    ("took insulin for diabetes", [(5, 12, "MEDICATION"), (17, 25, "DISEASE")]),
]


def write_corpus(path: Path, data) -> Path:
    nlp = clinical_blank()
    docs = []
    for text, ents in data:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        docs.append(doc)
    DocBin(docs=docs).to_disk(path)
    return path


def make_ner_nlp(encoder_dir: Path) -> spacy.Language:
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("clinkd_ner", config={"model": {"tok2vec": {"name": str(encoder_dir)}}})
    return nlp


def tiny_kd_overrides(teacher_dir, encoder_dir, corpora, cache_dir) -> dict:
    """Overrides that make configs/distill.cfg a tiny, fast run."""
    return {
        "paths.teacher": str(teacher_dir),
        "paths.student_config": str(STUDENT_CFG),
        "paths.encoder": str(encoder_dir),
        "paths.train": str(corpora["train"]),
        "paths.dev": str(corpora["dev"]),
        "paths.transfer": str(DISTILLATION_DATA / "transfer"),
        "paths.targets_cache": str(cache_dir),
        "training.max_steps": 24,
        "training.eval_frequency": 6,
        "training.patience": 0,
        "training.dropout": 0.0,
        "corpora.train.teacher_batch_size": 4,
        "corpora.dev.teacher_batch_size": 4,
        "training.batcher.size.rate": 40,
        "training.optimizer.learn_rate.warmup_steps": 1,
        "training.optimizer.learn_rate.initial_rate": 0.002,
        "training.optimizer.L2": 0.0,
    }


# The entities of the first document of tests/data/corpora/pubtator/sample.txt
# under configs/labels/bc5cdr.json: (text, label) in order. "heparin" is
# annotated there with the surface "heparine": its offsets cannot be trusted,
# so it is dropped (and counted as a surface_mismatch).
PUBTATOR_SAMPLE_ENTS = [
    ("Aspirin", "CHEMICAL"),
    ("fever", "DISEASE"),
    ("renal failure", "DISEASE"),
    ("Fever", "DISEASE"),
    ("warfarin", "CHEMICAL"),
]


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Run `python -m spacy_clinkd ARGS` in-process, as a user would: through
    `spacy_clinkd.cli.main`, which prints user errors without a traceback.
    An exception that escapes `main` (a traceback for the user) fails the test.

    RETURNS (Tuple[int, str, str]): exit code, stdout, stderr.
    """
    import sys

    from spacy_clinkd.cli import main

    monkeypatch.setattr(sys, "argv", ["spacy_clinkd", *(str(a) for a in args)])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_brat(folder: Path, name: str, text: str | bytes, ann: str | bytes) -> tuple[Path, Path]:
    """Write NAME.txt and NAME.ann (str as UTF-8, bytes as given) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"{name}.txt", folder / f"{name}.ann"
    for path, content in zip(paths, (text, ann)):
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf8"))
    return paths


# The conversion's parsers and `make_docs` composed as `corpora.convert` composes them.
CORPORA_DATA = DATA_DIR / "corpora"
BC5CDR_LABELS = CONFIGS / "labels" / "bc5cdr.json"


def read_corpus(parse, path: Path, nlp, label_map: dict, *, limit=None, **parse_kwargs) -> tuple:
    """The Docs (split "test") and report of one corpus file parsed by `parse`
    (`parse_conll`, `parse_pubtator`) with `parse_kwargs` (n_sents, strict)."""
    from spacy_clinkd.corpora.conversion_report import ConversionReport
    from spacy_clinkd.corpora.convert import make_docs

    report = ConversionReport()
    documents = parse(path, report, **parse_kwargs)
    docs = make_docs(documents, nlp=nlp, label_map=label_map, report=report, split="test", limit=limit)
    return list(docs), report


def assert_malformed(parse, path: Path, content: str, *, line: int, fragment: str, nlp) -> None:
    """Reading a corpus file holding `content` (see `read_corpus`) raises an
    InputFileError that names the file and `line` and says `fragment`."""
    import pytest

    from spacy_clinkd.corpora.labels import load_label_map
    from spacy_clinkd.errors import InputFileError

    path.write_text(content, encoding="utf8")
    with pytest.raises(InputFileError) as exc:
        read_corpus(parse, path, nlp, load_label_map(BC5CDR_LABELS))
    assert exc.value.line == line
    assert str(exc.value).startswith(f"{path}:{line}: ")
    assert fragment in str(exc.value)


def brat_doc(
    txt: Path, ann: Path, *, nlp, label_map: dict, report, split: str, strict=False, aux_map=None, context_map=None
):
    """The Doc `convert-brat` makes of one .txt/.ann pair."""
    from spacy_clinkd.corpora.brat import parse_brat_document
    from spacy_clinkd.corpora.convert import make_docs

    documents = [parse_brat_document(txt, ann, report, strict=strict)]
    docs = make_docs(
        documents, nlp=nlp, label_map=label_map, report=report, split=split, aux_map=aux_map,
        context_map=context_map,
    )
    return next(docs)


def brat_split_docs(folder: Path, split: dict, *, nlp, label_map: dict, report, limit=None) -> dict:
    """Split name → the Docs `convert-brat` makes of its documents."""
    from spacy_clinkd.corpora.brat import parse_brat_split
    from spacy_clinkd.corpora.convert import make_docs

    return {
        name: list(make_docs(documents, nlp=nlp, label_map=label_map, report=report, split=name, limit=limit))
        for name, documents in parse_brat_split(folder, split, report)
    }


def random_head_pipeline(encoder_dir: Path, *, seed: int = 0, scale: float = 4.0) -> spacy.Language:
    """A tiny clinkd_ner pipeline whose output layer has random weights, so
    that it predicts entities everywhere (an untrained head predicts none, and
    a test of entity offsets would check nothing)."""
    import numpy
    from spacy.training import Example

    nlp = make_ner_nlp(encoder_dir)
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA])
    head = nlp.get_pipe("clinkd_ner").model.get_ref("output_layer")
    rng = numpy.random.RandomState(seed)
    head.set_param("W", rng.normal(0, scale, head.get_param("W").shape).astype("float32"))
    return nlp


# Synthetic notes over the toy vocabulary, for the annotate tests.
NOTE_TEXTS = [
    "the patient has fever and cough",
    "denies chest pain . no fever",
    "took aspirin 5mg with insulin",
    "no chest pain , has diabetes",
    "was given insulin for diabetes and has dyspnea",
]


def synthetic_notes(n: int) -> list[dict]:
    """`n` JSONL-ready notes `{"id", "text"}` cycling through NOTE_TEXTS."""
    return [{"id": f"note-{i:04d}", "text": f"{NOTE_TEXTS[i % len(NOTE_TEXTS)]} {i}"} for i in range(n)]


def write_tiny_pipeline(path: Path, encoder_dir: Path) -> Path:
    """A saved pipeline: clinkd_ner on a tiny random encoder with a random
    (seeded) head, so it finds entities, then sentencizer and clinkd_assertion."""
    nlp = random_head_pipeline(encoder_dir, scale=3.0)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    nlp.to_disk(path)
    return path


def import_targets(node: ast.Import | ast.ImportFrom, package_parts: tuple[str, ...]) -> list[str]:
    """The dotted names one import statement may load, relative imports resolved
    against the package `package_parts` (e.g. ("spacy_clinkd", "pipeline")).
    `from m import a` gives `m` and `m.a`: `a` may be a submodule, and the caller
    keeps the names that are modules (or maps them to something coarser)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = list(package_parts[: len(package_parts) - node.level + 1])
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    return [module, *(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")]


def imports_in(tree: ast.AST, package_parts: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, dotted name) of every import under `tree`, at any depth: the
    imports inside functions count like the module-level ones."""
    return [
        (node.lineno, name)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in import_targets(node, package_parts)
    ]


def package_parts_of(path: Path, root: Path = ROOT) -> tuple[str, ...]:
    """The package a file under `root` belongs to, as import parts
    (`spacy_clinkd/pipeline/ner.py` and `spacy_clinkd/pipeline/__init__.py`:
    ("spacy_clinkd", "pipeline"); `scripts/x.py`: ("scripts",))."""
    return path.relative_to(root).with_suffix("").parts[:-1]


def refuse_downloads(monkeypatch) -> None:
    """Make every download of `spacy_clinkd.assets` fail the test (tests never go online)."""
    import spacy_clinkd.assets

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(spacy_clinkd.assets, "download_url", refuse)
    monkeypatch.setattr(spacy_clinkd.assets, "clone_git", refuse)
