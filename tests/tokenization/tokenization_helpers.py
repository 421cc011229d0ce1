"""Shared helpers for tests/tokenization: the toy vocabulary and tiny-model
builder of tests/conftest.py (loaded by path: test folders are not packages),
the fixture folder, and a tiny gold DocBin."""
import importlib.util
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE.parent / "data" / "tokenization"


def _root_conftest():
    spec = importlib.util.spec_from_file_location("clinkd_tests_root_conftest", HERE.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _root_conftest()
toy_vocab = _ROOT.toy_vocab
write_tiny_model = _ROOT.write_tiny_model


def write_gold_docs(path: Path) -> Path:
    """A DocBin with two synthetic docs and DISEASE/SYMPTOM/MEDICATION spans."""
    import spacy
    from spacy.tokens import DocBin, Span

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
