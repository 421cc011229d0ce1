"""LengthBatched: the same outputs as one padded batch, fewer pieces computed.
EncoderRuntime: the module `predict` runs, the int8 encoder's lifecycle and
its place in a component's bytes and directory (a stand-in int8 model: no
export, no ONNX Runtime; the real one is tests/pipeline/test_int8.py's)."""
import numpy
import pytest
import srsly
import torch
from thinc.api import Linear
from transformers import AutoModel

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models import inference
from spacy_clinkd.models.inference import EncoderRuntime, LengthBatched, hf_shim, running
from spacy_clinkd.models.int8 import ONNX_FILE, Int8Encoder
from tests.util import random_head_pipeline

# Stands in for an int8 ONNX model: the runtime stores and moves it, never runs it here.
INT8_BYTES = b"int8 onnx model"


def padded_batch(lengths, width, vocab=100, seed=0):
    rng = numpy.random.default_rng(seed)
    ids = torch.zeros((len(lengths), width), dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.from_numpy(rng.integers(5, vocab, n))
        mask[row, :n] = 1
    return ids, mask


@pytest.mark.parametrize("group_size", [1, 2, 3, 16])
def test_grouped_outputs_equal_one_padded_batch(tiny_encoder, group_size):
    encoder = AutoModel.from_pretrained(tiny_encoder).eval()
    lengths = [3, 17, 9, 17, 1, 12, 5]
    ids, mask = padded_batch(lengths, width=20)
    with torch.no_grad():
        reference = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        grouped = LengthBatched(encoder, group_size=group_size)(ids, mask).last_hidden_state
    assert grouped.shape == reference.shape
    for row, n in enumerate(lengths):
        # real pieces only: what a padding position holds is never read
        torch.testing.assert_close(grouped[row, :n], reference[row, :n], atol=1e-5, rtol=1e-4)


def test_groups_compute_fewer_pieces(tiny_bert):
    encoder = AutoModel.from_pretrained(tiny_bert).eval()
    shapes = []
    encoder.register_forward_pre_hook(lambda m, a, kw: shapes.append(tuple(kw["input_ids"].shape)), with_kwargs=True)
    ids, mask = padded_batch([20, 2, 2, 2], width=20)
    with torch.no_grad():
        LengthBatched(encoder, group_size=2)(ids, mask)
    assert shapes == [(2, 20), (2, 2)]  # 44 pieces computed, not 80


def test_pipeline_predictions_do_not_depend_on_grouping(tiny_bert):
    nlp = random_head_pipeline(tiny_bert, scale=3.0)
    ner = nlp.get_pipe("clinkd_ner")
    texts = ["the patient has fever and cough\nno", "denies chest pain", "took aspirin 5mg with insulin and fever"]
    docs = [nlp.make_doc(t) for t in texts]
    ner.batch_by_length = False
    one_batch = ner.predict(docs)
    ner.batch_by_length = True
    grouped = ner.predict(docs)
    for a, b in zip(one_batch, grouped):
        numpy.testing.assert_allclose(a, b, atol=1e-4)
    fp32 = hf_shim(ner.model)._model
    with running(ner.model, LengthBatched(fp32)):
        assert isinstance(hf_shim(ner.model)._model, LengthBatched)
    assert hf_shim(ner.model)._model is fp32


@pytest.fixture(scope="module")
def tagger_model(tiny_bert):
    return random_head_pipeline(tiny_bert).get_pipe("clinkd_ner").model


def with_int8(runtime: EncoderRuntime, model_bytes: bytes = INT8_BYTES) -> EncoderRuntime:
    runtime.int8 = Int8Encoder(model_bytes)
    return runtime


def test_an_unknown_precision_is_refused():
    with pytest.raises(ClinkdError, match="Unknown inference precision 'int4'"):
        EncoderRuntime("int4")
    runtime = EncoderRuntime("int8")
    with pytest.raises(ClinkdError, match="Unknown inference precision 'fp16'"):
        runtime.set_precision("fp16")
    assert runtime.precision == "int8"


@pytest.mark.parametrize(
    "precision,batch_by_length,expected",
    [("fp32", True, "grouped fp32"), ("fp32", False, "fp32"), ("int8", True, "grouped int8"), ("int8", False, "int8")],
)
def test_predicting_runs_the_chosen_module(tagger_model, precision, batch_by_length, expected):
    runtime = with_int8(EncoderRuntime(precision, batch_by_length=batch_by_length))
    fp32 = hf_shim(tagger_model)._model
    with runtime.predicting(tagger_model):
        module = hf_shim(tagger_model)._model
        inner = module.encoder if isinstance(module, LengthBatched) else module
        kind = ("grouped " if isinstance(module, LengthBatched) else "") + ("int8" if inner is runtime.int8 else "fp32")
        assert inner is (runtime.int8 if precision == "int8" else fp32)
    assert kind == expected
    assert hf_shim(tagger_model)._model is fp32


def test_the_int8_encoder_is_made_on_the_first_int8_prediction_and_dropped(tagger_model, monkeypatch):
    made = []

    def fake_quantize(hf_model, *, exclude=()):
        made.append((hf_model, tuple(exclude)))
        return INT8_BYTES

    monkeypatch.setattr(inference, "quantize_encoder", fake_quantize)
    runtime = EncoderRuntime("fp32")
    with runtime.predicting(tagger_model):
        pass
    assert not runtime.has_int8 and made == []  # fp32 makes nothing
    runtime.set_precision("int8")
    with runtime.predicting(tagger_model):
        pass
    assert runtime.has_int8 and runtime.int8.model_bytes == INT8_BYTES
    assert made == [(hf_shim(tagger_model)._model, ())]
    with runtime.predicting(tagger_model):
        pass
    assert len(made) == 1  # kept, not made again
    runtime.drop_int8()
    assert not runtime.has_int8


def test_a_model_without_a_transformer_runs_as_it_is():
    model = Linear(2, 3)
    with EncoderRuntime("fp32", batch_by_length=True).predicting(model):
        pass
    with pytest.raises(ClinkdError, match="no Hugging Face transformer"):
        EncoderRuntime("int8").predicting(model)


def test_the_int8_encoder_travels_as_one_more_field_of_the_component_bytes():
    component = srsly.msgpack_dumps({"cfg": "{}", "vocab": b"v", "model": b"m"})
    runtime = with_int8(EncoderRuntime())
    data = srsly.msgpack_loads(runtime.add_to_bytes(component))
    assert list(data) == ["cfg", "vocab", "model", "int8"] and data["int8"] == INT8_BYTES
    assert srsly.msgpack_loads(runtime.add_to_bytes(component, exclude=["int8"])) == srsly.msgpack_loads(component)
    assert EncoderRuntime().add_to_bytes(component) == component
    loaded = EncoderRuntime().from_bytes(runtime.add_to_bytes(component))
    assert loaded.int8.model_bytes == INT8_BYTES
    # excluded, or bytes without it: no int8 encoder, also none kept from before
    assert not with_int8(EncoderRuntime(), b"old").from_bytes(runtime.add_to_bytes(component), exclude=["int8"]).has_int8
    assert not with_int8(EncoderRuntime(), b"old").from_bytes(component).has_int8


def test_the_int8_encoder_is_a_file_of_the_component_directory(tmp_path):
    (tmp_path / "with").mkdir()
    with_int8(EncoderRuntime()).to_disk(tmp_path / "with")
    assert (tmp_path / "with" / ONNX_FILE).read_bytes() == INT8_BYTES
    (tmp_path / "without").mkdir()
    EncoderRuntime().to_disk(tmp_path / "without")
    with_int8(EncoderRuntime()).to_disk(tmp_path / "without", exclude=["int8"])
    assert list((tmp_path / "without").iterdir()) == []
    assert EncoderRuntime().from_disk(tmp_path / "with").int8.model_bytes == INT8_BYTES
    assert not with_int8(EncoderRuntime(), b"old").from_disk(tmp_path / "with", exclude=["int8"]).has_int8
    assert not with_int8(EncoderRuntime(), b"old").from_disk(tmp_path / "without").has_int8
