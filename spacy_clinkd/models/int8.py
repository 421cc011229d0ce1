"""The int8 inference path of the encoder on CPU: ONNX Runtime.

The fp32 Hugging Face encoder is exported to ONNX (`torch.onnx.export`, the
dynamo exporter, batch and sequence length dynamic) and its MatMul weights
are quantized to int8 with ONNX Runtime's dynamic quantization: weights per
output channel, activations per tensor at run time (`quantize_encoder`).
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
wrapper can run it in place of the fp32 module (`pipeline.ner` swaps it in
for prediction only; training and serialization keep the fp32 module).
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
    return [f"{name}.weight" for name, module in hf_model.named_modules() if isinstance(module, torch.nn.Linear)]


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
    return model.SerializeToString()


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


def quantize_onnx(
    model_bytes: bytes, *, keep_fp32: Sequence[Any] = (), per_channel: bool = True
) -> bytes:
    """Quantize an ONNX encoder's MatMul weights to int8 (dynamic
    quantization: int8 weights, activations quantized per batch at run time).

    model_bytes (bytes): the fp32 ONNX model (`export_onnx`).
    keep_fp32 (Sequence[numpy.ndarray]): Linear weights ((out, in) arrays)
        whose MatMuls stay fp32.
    per_channel (bool): one scale per output channel instead of per tensor.
    RETURNS (bytes): the int8 ONNX model.
    """
    require_onnxruntime()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load_from_string(model_bytes)
    nodes_to_exclude = _matmuls_of(model, keep_fp32) if len(keep_fp32) else []
    quant_log = logging.getLogger()
    level = quant_log.level
    quant_log.setLevel(logging.ERROR)  # "consider pre-processing" on every call
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
            src.write_bytes(model_bytes)
            quantize_dynamic(
                str(src),
                str(dst),
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
                nodes_to_exclude=nodes_to_exclude,
                op_types_to_quantize=["MatMul"],
            )
            return dst.read_bytes()
    finally:
        quant_log.setLevel(level)


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
            self._session = ort.InferenceSession(self.model_bytes, options, providers=["CPUExecutionProvider"])
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

