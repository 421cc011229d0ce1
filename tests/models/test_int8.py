"""The int8 quantizer on a one-MatMul ONNX graph: the per-token, per-channel
formula of `quantize_onnx`, rows independent of their batch, excluded
weights kept fp32; on a tiny random-weight encoder (slow: each export takes
seconds): excluded layers, and the encoder pickling without its session."""

import pickle

import numpy
import pytest

from spacy_clinkd.models.int8 import Int8Encoder, linear_weight_names, quantize_encoder, quantize_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def linear_graph(weight: numpy.ndarray) -> bytes:
    """y = x W + b, x of shape (batch, length, K), as the exporter writes a Linear."""
    from onnx import TensorProto, helper, numpy_helper

    k, n = weight.shape
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"], name="linear"),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "length", n])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(numpy.arange(n, dtype="f4"), "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]).SerializeToString()


def run(model_bytes: bytes, x: numpy.ndarray) -> numpy.ndarray:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


@pytest.fixture
def weight_and_x():
    rng = numpy.random.default_rng(0)
    weight = rng.normal(size=(16, 8)).astype("f4")
    x = rng.normal(size=(3, 5, 16)).astype("f4")
    x[1] *= 40.0  # one window with much larger activations than the others
    return weight, x


def test_quantized_matmul_follows_the_documented_formula(weight_and_x):
    weight, x = weight_and_x
    got = run(quantize_onnx(linear_graph(weight)), x)
    s_w = numpy.abs(weight).max(axis=0) / 63.0
    q_w = numpy.round(weight / s_w)
    s_x = numpy.abs(x).max(axis=-1, keepdims=True) / 127.0
    q_x = numpy.round(x / s_x)  # (q_x + 128) - 128
    expected = s_x * s_w * (q_x @ q_w) + numpy.arange(8)
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # and it is an approximation of the fp32 product, not the product itself
    exact = x @ weight + numpy.arange(8)
    assert not numpy.allclose(got, exact, atol=1e-6)
    assert numpy.abs(got - exact).max() < 0.02 * numpy.abs(exact).max()
    ops = [node.op_type for node in onnx.load_from_string(quantize_onnx(linear_graph(weight))).graph.node]
    assert "MatMulInteger" in ops and "MatMul" not in ops


def test_each_row_is_independent_of_its_batch(weight_and_x):
    weight, x = weight_and_x
    model = quantize_onnx(linear_graph(weight))
    together = run(model, x)
    for i in range(len(x)):
        numpy.testing.assert_array_equal(run(model, x[i : i + 1]), together[i : i + 1])
    # a window cut to its own length gives the rows it gave inside a longer one
    numpy.testing.assert_array_equal(run(model, x[:, :2]), together[:, :2])


def test_an_excluded_weight_stays_fp32(weight_and_x):
    weight, x = weight_and_x
    model = quantize_onnx(linear_graph(weight), keep_fp32=[weight.T])
    ops = [node.op_type for node in onnx.load_from_string(model).graph.node]
    assert "MatMulInteger" not in ops
    numpy.testing.assert_allclose(run(model, x), x @ weight + numpy.arange(8), rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module")
def hf_model(tiny_bert):
    from transformers import AutoModel

    return AutoModel.from_pretrained(tiny_bert)


@pytest.mark.slow
def test_the_int8_encoder_pickles_without_its_session(hf_model):
    encoder = Int8Encoder(quantize_encoder(hf_model))
    encoder.session()
    copy = pickle.loads(pickle.dumps(encoder))
    assert copy._session is None and copy.model_bytes == encoder.model_bytes


@pytest.mark.slow
def test_excluded_layers_stay_fp32(hf_model):
    # every Linear but the pooler's (the exported graph ends at last_hidden_state)
    n_linear = len([n for n in linear_weight_names(hf_model) if not n.startswith("pooler.")])

    def op_counts(model_bytes):
        ops = [n.op_type for n in onnx.load_from_string(model_bytes).graph.node]
        return ops.count("MatMulInteger"), ops.count("MatMul")

    all_int8 = op_counts(quantize_encoder(hf_model))
    # exclude the FFN output of the last layer: one int8 MatMul fewer, one fp32 more
    last = [n for n in linear_weight_names(hf_model) if n.endswith("output.dense.weight")][-1]
    one_fp32 = op_counts(quantize_encoder(hf_model, exclude=[last.rsplit(".", 1)[0]]))
    assert all_int8[0] == n_linear
    assert one_fp32 == (all_int8[0] - 1, all_int8[1] + 1)


@pytest.mark.slow
def test_the_int8_model_names_no_path_of_the_machine_that_made_it(hf_model, monkeypatch):
    import site
    import sys

    import spacy_clinkd.models.int8 as int8

    local = [p.encode() for p in {sys.prefix, *site.getsitepackages()}]
    model_bytes = quantize_encoder(hf_model)
    assert not [p for p in local if p in model_bytes]
    assert not any(n.doc_string or len(n.metadata_props) for n in onnx.load_from_string(model_bytes).graph.node)
    assert quantize_encoder(hf_model) == model_bytes  # the same bytes from the same weights
    # without the strip, the exporter's stack traces name the venv's files
    monkeypatch.setattr(int8, "strip_provenance", lambda model: model)
    assert [p for p in local if p in quantize_encoder(hf_model)]


def test_provenance_is_stripped_inside_local_functions_too():
    from onnx import TensorProto, helper

    from spacy_clinkd.models.int8 import strip_provenance

    trace = "File /home/someone/.venv/lib/python3.11/site-packages/torch/nn/modules/linear.py"
    function = helper.make_function(
        "local", "Block", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"], doc_string=trace)],
        [helper.make_opsetid("", 20)],
    )
    graph = helper.make_graph(
        [helper.make_node("Block", ["a"], ["b"], domain="local", doc_string=trace)],
        "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(
        graph, functions=[function], opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("local", 1)]
    )
    strip_provenance(model)
    assert b"/home/someone" not in model.SerializeToString()
    assert list(model.functions[0].input) == ["x"]  # a function's inputs are names, kept as they are
