"""The int8 inference path of the encoder on CPU: ONNX Runtime.

The fp32 Hugging Face encoder is exported to ONNX (`torch.onnx.export`, the
dynamo exporter, batch and sequence length dynamic) and its MatMuls with a
constant weight become int8 GEMMs: weights per output channel, activations
per token at run time, so no window's output depends on its batch
(`quantize_onnx`, `quantize_encoder`).
Layers named in `exclude` stay fp32. The result is a bytes object, stored
with the component (`clinkd_ner/int8.onnx`), so a loaded pipeline never
exports or quantizes again, and the same bytes give the same logits.

Why ONNX Runtime: PyTorch's eager int8 Linear (`torch.ao.quantization.
quantize_dynamic`) is deprecated, and torchao's int8 tensor subclasses are
fast on CPU only under `torch.compile`; ONNX Runtime's MatMulInteger
kernels run int8 GEMMs on CPU without a compiler (docs/RESULTS.md, issue 14,
has the measured comparison).

`Int8Encoder` is a `torch.nn.Module` with the Hugging Face encoder's call
signature and output type (`last_hidden_state`), so spacy-transformers'
wrapper can run it in place of the fp32 module (`inference.EncoderRuntime`
swaps it in to predict; training and serialization keep the fp32 module).
The ONNX Runtime session is made lazily, once per process (a forked or
spawned worker of `nlp.pipe(n_process=2)` makes its own), with as many
threads as torch uses.
"""

import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import ClinkdError, Errors

ONNX_FILE = "int8.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def require_onnxruntime() -> Any:
    """RETURNS (module): onnxruntime.
    RAISES ClinkdError: E040, saying which extra to install."""
    try:
        import onnxruntime
    except ImportError:
        raise ClinkdError(Errors.E040.format(module="onnxruntime")) from None
    return onnxruntime


def encoder_input_names(hf_model: torch.nn.Module) -> tuple[str, ...]:
    """The inputs an encoder takes among input_ids, attention_mask and
    token_type_ids (DistilBERT has no token types)."""
    import inspect

    params = inspect.signature(hf_model.forward).parameters
    return tuple(name for name in INPUT_NAMES if name in params)


def linear_weight_names(hf_model: torch.nn.Module) -> list[str]:
    """RETURNS (List[str]): the parameter names of the encoder's Linear
    weights, e.g. "encoder.layer.0.attention.self.query.weight"."""
    return [
        f"{name}.weight" for name, module in hf_model.named_modules() if isinstance(module, torch.nn.Linear)
    ]


def export_onnx(hf_model: torch.nn.Module) -> bytes:
    """Export an fp32 Hugging Face encoder to ONNX with dynamic batch and
    sequence length; its one output is `last_hidden_state`.

    RETURNS (bytes): the ONNX model.
    RAISES ClinkdError: E040 if onnx or onnxscript (the exporter's needs) is missing.
    """
    for module in ("onnx", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            raise ClinkdError(Errors.E040.format(module=module)) from None
    names = encoder_input_names(hf_model)
    example = {name: torch.ones((2, 8), dtype=torch.long) for name in names}
    if "token_type_ids" in example:
        example["token_type_ids"] = torch.zeros((2, 8), dtype=torch.long)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=4096)
    shapes = {name: {0: batch, 1: length} for name in names}
    was_training = hf_model.training
    hf_model.eval()
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # it lists every optional op it skips
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the exporter's notes on its own internals (shared dims, pytree API)
            warnings.filterwarnings("ignore", message=r"# The axis name")
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec", category=FutureWarning)
            program = torch.onnx.export(
                _LastHiddenState(hf_model).eval(),
                (),
                kwargs=example,
                input_names=list(names),
                output_names=["last_hidden_state"],
                dynamic_shapes=shapes,
                dynamo=True,
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)
        hf_model.train(was_training)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "encoder.onnx"
        program.save(str(path))
        return _inline_external_data(path)


def _inline_external_data(path: Path) -> bytes:
    import onnx

    model = onnx.load(str(path), load_external_data=True)
    strip_provenance(model)
    return model.SerializeToString()


def strip_provenance(model: Any) -> Any:
    """Remove what the exporter writes about the machine that ran it: each
    node's doc string and metadata (the Python stack trace of the op, with the
    exporting venv's absolute paths, its module names and scopes), and those of
    the graphs and functions. None of it is read at inference; without it the
    packaged model names no local path and its bytes depend on the weights
    alone. Changes `model` (an `onnx.ModelProto`) in place and returns it."""
    graphs = [model.graph, *(function for function in model.functions)]
    while graphs:
        graph = graphs.pop()
        if hasattr(graph, "doc_string"):
            graph.doc_string = ""
        for value in [*getattr(graph, "input", ()), *getattr(graph, "output", ()), *getattr(graph, "value_info", ())]:
            if isinstance(value, str):
                continue  # a function's inputs and outputs are names, not ValueInfoProtos
            value.doc_string = ""
            del value.metadata_props[:]
        for node in graph.node:
            node.doc_string = ""
            del node.metadata_props[:]
            for attr in node.attribute:  # the subgraphs of If, Loop, Scan
                graphs += [attr.g] if attr.HasField("g") else []
                graphs += list(attr.graphs)
        if hasattr(graph, "metadata_props"):
            del graph.metadata_props[:]
    return model


class _LastHiddenState(torch.nn.Module):
    """The encoder with one output, so that the ONNX graph has no pooler output."""

    def __init__(self, hf_model: torch.nn.Module) -> None:
        super().__init__()
        self.hf_model = hf_model

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        return self.hf_model(**kwargs).last_hidden_state


# 7-bit weights: no int16 saturation in u8s8 GEMMs without VNNI (quantize_onnx).
WEIGHT_MAX = 63.0


def quantize_onnx(model_bytes: bytes, *, keep_fp32: Sequence[Any] = ()) -> bytes:
    """Quantize an ONNX encoder's MatMuls with a constant weight to int8:
    weights per output channel, activations per token (row), both symmetric.

    For a MatMul y = x W (x: (..., K) activations, W: (K, N) weights):

        s_w[n] = max_k |W[k, n]| / 63         q_w = round(W / s_w)       (int8, 7 bits)
        s_x[r] = max_k |x[r, k]| / 127        q_x = round(x / s_x) + 128 (uint8)
        y[r, n] = s_x[r] * s_w[n] * sum_k (q_x[r, k] - 128) * q_w[k, n]

    The integer product is ONNX's MatMulInteger (zero points 128 and 0),
    which ONNX Runtime runs as a u8s8 GEMM on CPU. Weights use 7 bits
    (|q_w| <= 63): on AVX2 CPUs without VNNI that GEMM adds pairs of u8 * s8
    products in int16 (vpmaddubsw), which saturates for full 8-bit weights
    (2 * 255 * 127 > 32767) and gave wrong outputs; 2 * 255 * 63 fits. Each row's scale depends
    on that row alone, so a window's output does not depend on the other
    windows of its batch or on their padding (`nlp.pipe` gives what `nlp(text)`
    gives, to the bit); ONNX Runtime's `quantize_dynamic` scales activations
    per tensor, i.e. per batch, which made pipe and call differ (run 8), and
    its error is larger (docs/RESULTS.md, issue 14). The activation quantizer
    is shared by the MatMuls that read the same input (query, key, value).
    MatMuls between two activations (attention scores) stay fp32.

    model_bytes (bytes): the fp32 ONNX model (`export_onnx`).
    keep_fp32 (Sequence[numpy.ndarray]): Linear weights ((out, in) arrays)
        whose MatMuls stay fp32.
    RETURNS (bytes): the int8 ONNX model (opset 21 or newer: blocked QuantizeLinear).
    """
    require_onnxruntime()
    import numpy
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    excluded = set(_matmuls_of(model, keep_fp32)) if len(keep_fp32) else set()
    initializers = {init.name: init for init in graph.initializer}
    added = [
        numpy_helper.from_array(numpy.array(value, dtype=dtype), name)
        for name, value, dtype in (
            ("int8_last_axis", [-1], numpy.int64),
            ("int8_eps", 1e-12, numpy.float32),
            ("int8_inv_127", 1.0 / 127.0, numpy.float32),
            ("int8_zero", 0.0, numpy.float32),
            ("int8_128", 128.0, numpy.float32),
            ("int8_zero_point", 128, numpy.uint8),
        )
    ]
    nodes: list[Any] = []
    quantized: dict[str, tuple[str, str]] = {}  # activation -> (its uint8 form, its row scales)
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or len(weight.dims) != 2 or node.name in excluded:
            nodes.append(node)
            continue
        x = node.input[0]
        if x not in quantized:
            p = f"int8_x{len(quantized)}"
            nodes += [
                # max |x| over the last axis, without materializing |x|
                helper.make_node("ReduceMax", [x, "int8_last_axis"], [p + "_max"], keepdims=1),
                helper.make_node("ReduceMin", [x, "int8_last_axis"], [p + "_min"], keepdims=1),
                helper.make_node("Neg", [p + "_min"], [p + "_neg_min"]),
                helper.make_node("Max", [p + "_max", p + "_neg_min", "int8_eps"], [p + "_amax"]),
                helper.make_node("Mul", [p + "_amax", "int8_inv_127"], [p + "_scale"]),
                # QuantizeLinear wants a zero point of the scale's shape: 128 per row
                helper.make_node("Mul", [p + "_amax", "int8_zero"], [p + "_z"]),
                helper.make_node("Add", [p + "_z", "int8_128"], [p + "_z128"]),
                helper.make_node("Cast", [p + "_z128"], [p + "_zp"], to=TensorProto.UINT8),
                helper.make_node(
                    "QuantizeLinear",
                    [x, p + "_scale", p + "_zp"],
                    [p + "_q"],
                    axis=-1,
                    block_size=int(weight.dims[0]),
                ),
            ]
            quantized[x] = (p + "_q", p + "_scale")
        q_x, s_x = quantized[x]
        w = numpy_helper.to_array(weight).astype(numpy.float32)
        s_w = (numpy.maximum(numpy.abs(w).max(axis=0), 1e-12) / WEIGHT_MAX).astype(numpy.float32)
        q_w = numpy.clip(numpy.round(w / s_w), -WEIGHT_MAX, WEIGHT_MAX).astype(numpy.int8)
        p = f"int8_w{len(added)}"
        added += [
            numpy_helper.from_array(q_w, p + "_q"),
            numpy_helper.from_array(numpy.zeros(w.shape[1], numpy.int8), p + "_zp"),
            numpy_helper.from_array(s_w, p + "_scale"),
        ]
        nodes += [
            helper.make_node("MatMulInteger", [q_x, p + "_q", "int8_zero_point", p + "_zp"], [p + "_i32"]),
            helper.make_node("Cast", [p + "_i32"], [p + "_f32"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "_f32", p + "_scale"], [p + "_col"]),
            helper.make_node("Mul", [p + "_col", s_x], [node.output[0]]),
        ]
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + [init for init in added if init.name in used])
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 21:
            opset.version = 21
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _matmuls_of(model: Any, weights: Sequence[Any]) -> list[str]:
    """Names of the MatMul nodes whose constant weight is one of `weights`
    (Linear weights, (out, in) arrays). The exporter folds a Linear's
    transposed weight into an initializer with a generated name, so the
    weight is found by its values: the initializer equal to W.T."""
    from onnx import numpy_helper

    wanted = {(w.T.shape, w.T.tobytes()) for w in weights}
    initializers = {}
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.ndim == 2:
            initializers[init.name] = (array.shape, array.astype("float32").tobytes())
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and any(initializers.get(name) in wanted for name in node.input)
    ]


def quantize_encoder(hf_model: torch.nn.Module, *, exclude: Sequence[str] = ()) -> bytes:
    """The int8 ONNX form of an fp32 Hugging Face encoder (`export_onnx`,
    then `quantize_onnx`).

    exclude (Sequence[str]): prefixes of Linear weight names
        (`linear_weight_names`, e.g. "encoder.layer.2.output.dense") that stay fp32.
    RETURNS (bytes): the int8 ONNX model.
    """
    require_onnxruntime()
    names = [n for n in linear_weight_names(hf_model) if any(n.startswith(p) for p in exclude)]
    params = dict(hf_model.named_parameters())
    keep = [params[n].detach().cpu().numpy() for n in names]
    return quantize_onnx(export_onnx(hf_model), keep_fp32=keep)


# Sessions a forked child inherited; kept, never freed (see Int8Encoder.session).
_INHERITED_SESSIONS: list[Any] = []


class Int8Encoder(torch.nn.Module):
    """An ONNX Runtime session in the shape of a Hugging Face encoder:
    called with input_ids, attention_mask (and token_type_ids), it returns an
    object whose `last_hidden_state` is a float32 torch tensor.

    model_bytes (bytes): the int8 ONNX model (`quantize_encoder`).
    """

    def __init__(self, model_bytes: bytes) -> None:
        super().__init__()
        self.model_bytes = model_bytes
        self._session: Any = None
        self._pid: int | None = None

    def session(self) -> Any:
        """The ONNX Runtime session of this process (made on first use)."""
        if self._session is None or self._pid != os.getpid():
            if self._session is not None:
                # made before a fork: its thread pool's threads are the
                # parent's, and freeing it here would wait for them forever
                _INHERITED_SESSIONS.append(self._session)
            ort = require_onnxruntime()
            options = ort.SessionOptions()
            options.intra_op_num_threads = max(1, torch.get_num_threads())
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                self.model_bytes, options, providers=["CPUExecutionProvider"]
            )
            self._pid = os.getpid()
        return self._session

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_: Any):
        from transformers.modeling_outputs import BaseModelOutput

        session = self.session()
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        wanted = [i.name for i in session.get_inputs()]
        if "token_type_ids" in wanted and token_type_ids is None:
            feeds["token_type_ids"] = torch.zeros_like(input_ids)
        inputs = {name: feeds[name].cpu().long().numpy() for name in wanted}
        (hidden,) = session.run(["last_hidden_state"], inputs)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_session"], state["_pid"] = None, None
        return state
