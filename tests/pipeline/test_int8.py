"""The int8 inference path of clinkd_ner on tiny random-weight pipelines:
logits close to fp32, the same entities through pipe and call, serialization
round trips that keep the int8 model byte for byte, the switch after load,
a weight update dropping the stale int8 model. No timing is asserted."""
import numpy
import pytest
import spacy

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.inference import hf_shim
from spacy_clinkd.models.int8 import ONNX_FILE, linear_weight_names
from tests.util import TRAIN_DATA, random_head_pipeline

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow

TEXTS = [
    "the patient has fever and cough",
    "denies chest pain . no fever",
    "took aspirin 5mg with insulin",
    "",
    "no chest pain , has diabetes and dyspnea and fever and cough",
]


def ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


@pytest.fixture(scope="module")
def fp32_and_int8(tiny_encoder, tmp_path_factory):
    """(fp32 pipeline, the same pipeline with int8 inference), one export each encoder type."""
    nlp = random_head_pipeline(tiny_encoder, scale=3.0)
    path = tmp_path_factory.mktemp("int8") / "fp32"
    nlp.to_disk(path)
    int8 = spacy.load(path)
    ner = int8.get_pipe("clinkd_ner")
    ner.quantize()
    ner.set_inference("int8")
    return nlp, int8


def test_int8_logits_are_close_to_fp32(fp32_and_int8):
    nlp, int8 = fp32_and_int8
    docs = [nlp.make_doc(t) for t in TEXTS]
    ref = nlp.get_pipe("clinkd_ner").predict(docs)
    got = int8.get_pipe("clinkd_ner").predict(docs)
    assert [r.shape for r in ref] == [g.shape for g in got]
    flat_ref, flat_got = numpy.concatenate(ref), numpy.concatenate(got)
    # int8 weights per channel: close, but not the fp32 numbers
    assert not numpy.array_equal(flat_ref, flat_got)
    scale = numpy.abs(flat_ref).mean()
    assert numpy.abs(flat_ref - flat_got).mean() < 0.05 * scale
    assert (flat_ref.argmax(1) == flat_got.argmax(1)).mean() > 0.9


def test_the_fp32_module_is_back_after_an_int8_prediction(fp32_and_int8):
    _, int8 = fp32_and_int8
    ner = int8.get_pipe("clinkd_ner")
    before = hf_shim(ner.model)._model
    int8("no fever")
    assert hf_shim(ner.model)._model is before
    assert isinstance(before, __import__("torch").nn.Module) and linear_weight_names(before)


def test_pipe_equals_call_under_int8(fp32_and_int8):
    _, int8 = fp32_and_int8
    single = [ents(int8(t)) for t in TEXTS]
    assert [ents(d) for d in int8.pipe(TEXTS, batch_size=2)] == single
    assert any(single), "the random head finds entities, so the comparison checks something"


def test_pipe_with_two_worker_processes_under_int8(fp32_and_int8):
    _, int8 = fp32_and_int8
    single = [ents(int8(t)) for t in TEXTS]
    assert [ents(d) for d in int8.pipe(TEXTS * 2, n_process=2, batch_size=2)] == single * 2


def test_int8_round_trips_through_disk_and_bytes(fp32_and_int8, tmp_path):
    _, int8 = fp32_and_int8
    ner = int8.get_pipe("clinkd_ner")
    stored = ner.runtime.int8.model_bytes
    int8.to_disk(tmp_path / "p")
    assert (tmp_path / "p" / "clinkd_ner" / ONNX_FILE).read_bytes() == stored
    loaded = spacy.load(tmp_path / "p")
    loaded_ner = loaded.get_pipe("clinkd_ner")
    assert loaded_ner.has_int8 and loaded_ner.runtime.int8.model_bytes == stored
    # the saved config says fp32 (set_inference changed the live component only)
    assert loaded_ner.inference == "fp32"
    loaded_ner.set_inference("int8")
    docs = [int8.make_doc(t) for t in TEXTS]
    numpy.testing.assert_array_equal(
        numpy.concatenate(loaded_ner.predict(docs)), numpy.concatenate(ner.predict(docs))
    )
    copy = spacy.load(tmp_path / "p")
    copy.get_pipe("clinkd_ner").from_bytes(ner.to_bytes())
    assert copy.get_pipe("clinkd_ner").runtime.int8.model_bytes == stored
    without = spacy.load(tmp_path / "p", exclude=[]).get_pipe("clinkd_ner")
    without.from_bytes(ner.to_bytes(exclude=["int8"]))
    assert not without.has_int8


def test_inference_chosen_at_load_time(fp32_and_int8, tmp_path):
    _, int8 = fp32_and_int8
    int8.to_disk(tmp_path / "p")
    nlp = spacy.load(tmp_path / "p", config={"components": {"clinkd_ner": {"inference": "int8"}}})
    ner = nlp.get_pipe("clinkd_ner")
    assert ner.inference == "int8" and ner.has_int8
    assert [ents(nlp(t)) for t in TEXTS] == [ents(int8(t)) for t in TEXTS]


def test_an_update_drops_the_stale_int8_model(tiny_bert):
    from spacy.training import Example

    nlp = random_head_pipeline(tiny_bert)
    ner = nlp.get_pipe("clinkd_ner")
    ner.quantize()
    assert ner.has_int8
    optimizer = nlp.resume_training()
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]
    nlp.update(examples, sgd=optimizer)
    assert not ner.has_int8


def test_unknown_precision_is_refused(tiny_bert):
    ner = random_head_pipeline(tiny_bert).get_pipe("clinkd_ner")
    with pytest.raises(ClinkdError, match="Unknown inference precision 'int4'"):
        ner.set_inference("int4")


def test_missing_onnxruntime_says_what_to_install(tiny_bert, monkeypatch):
    import sys

    ner = random_head_pipeline(tiny_bert).get_pipe("clinkd_ner")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ClinkdError, match=r"pip install onnxruntime onnx onnxscript.*pip install \"spacy_clinkd\[int8\]\" --find-links DIR"):
        ner.quantize()


def test_assemble_stores_int8_and_chooses_the_default(fp32_and_int8, tmp_path):
    from spacy_clinkd.pipeline.assemble import assemble_pipeline

    nlp, _ = fp32_and_int8
    nlp.to_disk(tmp_path / "trained")
    names = assemble_pipeline(tmp_path / "trained", tmp_path / "shipped", int8=True, inference="int8")
    assert names == ["clinkd_ner", "sentencizer", "clinkd_assertion"]
    shipped = spacy.load(tmp_path / "shipped")
    ner = shipped.get_pipe("clinkd_ner")
    assert ner.inference == "int8" and ner.has_int8
    # fp32 one setting away
    fp32 = spacy.load(tmp_path / "shipped", config={"components": {"clinkd_ner": {"inference": "fp32"}}})
    assert fp32.get_pipe("clinkd_ner").inference == "fp32"
    with pytest.raises(ClinkdError, match="--int8"):
        assemble_pipeline(tmp_path / "trained", tmp_path / "bad", inference="int8")


def test_int8_scores_do_not_depend_on_the_batch(fp32_and_int8):
    """Activations are scaled per token, so a doc's int8 probabilities are the
    same alone and batched with longer docs (run 8's per-batch scales were not)."""
    _, int8 = fp32_and_int8
    ner = int8.get_pipe("clinkd_ner")
    docs = [int8.make_doc(t) for t in TEXTS]
    batched = ner.predict(docs)
    for doc, scores in zip(docs, batched):
        numpy.testing.assert_array_equal(ner.predict([doc])[0], scores)
