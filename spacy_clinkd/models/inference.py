"""What the encoder runs at prediction time: the module that spacy-transformers'
shim calls can be replaced for the length of a `predict` (`running`), by the
int8 encoder (`models.int8`) and/or by `LengthBatched`, which groups a padded
batch of windows by length. Training and serialization never see the
replacement: the shim's own (fp32) module is back when the block ends.

`EncoderRuntime` holds what a component chose (precision, grouping) and its
int8 encoder: made from the fp32 weights on request or on the first int8
prediction, dropped when the weights change, and saved beside the component's
own fields (`to_bytes` key "int8", `int8.onnx` in its directory). Precision
is a property of the encoder, not of the task: spacy-curated-transformers
makes it (`mixed_precision`, `torchscript`) an argument of its transformer
architectures. `clinkd_ner` keeps `inference` as a setting only because saved
configs name it there, and hands its model to the runtime.
"""
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import srsly
import torch

from ..errors import ClinkdError, Errors
from .int8 import ONNX_FILE, Int8Encoder, quantize_encoder
from .precision import check_precision

# The serialization field (and `exclude` name) of the int8 encoder.
INT8_FIELD = "int8"


def hf_shim(model: Any) -> Any:
    """The spacy-transformers shim that holds the Hugging Face encoder of a
    thinc model tree (its `_model` is the torch module that runs).

    RETURNS (HFShim): the shim.
    RAISES ClinkdError: E010-like, the model holds no transformer (E043).
    """
    for node in model.walk():
        for shim in getattr(node, "shims", ()):
            if hasattr(shim, "_hfmodel"):
                return shim
    raise ClinkdError(Errors.E043)


@contextmanager
def running(model: Any, encoder: torch.nn.Module) -> Iterator[None]:
    """Run `encoder` in place of the Hugging Face module of `model`'s
    transformer inside the block (prediction only: nothing is trained or
    saved through it); the fp32 module is back afterwards, also on error."""
    shim = hf_shim(model)
    fp32 = shim._model
    shim._model = encoder
    try:
        yield
    finally:
        shim._model = fp32


class LengthBatched(torch.nn.Module):
    """Run an encoder on a padded batch of windows in groups of similar
    length, each group padded only to its own longest window.

    spacy-transformers pads every window of a batch to the longest one; whole
    lines vary in length, so about 30 % of the pieces it computes are padding
    (docs/RESULTS.md, run 6). Right padding is masked out of attention and
    BERT's positions count from the left, so cutting a group's trailing
    padding changes no real piece's output (up to float rounding); the
    outputs are put back in the batch's order and shape (positions past a
    group's width zero; no padding position is ever read).
    For prediction only (no gradient flows through the regrouping).

    encoder (torch.nn.Module): called as a Hugging Face encoder.
    group_size (int): windows per group.
    """

    def __init__(self, encoder: torch.nn.Module, group_size: int = 16) -> None:
        super().__init__()
        self.encoder = encoder
        self.group_size = group_size

    def forward(self, input_ids, attention_mask, token_type_ids=None, **kwargs: Any):
        from transformers.modeling_outputs import BaseModelOutput

        lengths = attention_mask.sum(dim=1).long()
        order = torch.argsort(lengths, descending=True, stable=True)
        hidden = None
        for start in range(0, len(order), self.group_size):
            rows = order[start : start + self.group_size]
            width = max(int(lengths[rows].max()), 1)
            inputs = {"input_ids": input_ids[rows, :width], "attention_mask": attention_mask[rows, :width]}
            if token_type_ids is not None:
                inputs["token_type_ids"] = token_type_ids[rows, :width]
            out = self.encoder(**inputs, **kwargs).last_hidden_state
            if hidden is None:
                hidden = out.new_zeros((input_ids.shape[0], input_ids.shape[1], out.shape[-1]))
            hidden[rows, :width] = out
        return BaseModelOutput(last_hidden_state=hidden)


def has_transformer(model: Any) -> bool:
    """Whether a thinc model tree holds a Hugging Face transformer (`hf_shim`)."""
    try:
        hf_shim(model)
    except ClinkdError:
        return False
    return True


class EncoderRuntime:
    """How a component's transformer runs in `predict`, and the int8 encoder
    that goes with int8 precision. Training (`begin_update`) and the saved
    weights stay fp32.

    precision (str): "fp32" or "int8": the fp32 module or the int8 ONNX
        Runtime model of `models.int8`.
    batch_by_length (bool): run the encoder on groups of windows of similar
        length (`LengthBatched`) instead of one batch padded to the longest.
    """

    def __init__(self, precision: str = "fp32", *, batch_by_length: bool = True) -> None:
        check_precision(precision)
        self.precision = precision
        self.batch_by_length = batch_by_length
        self.int8: Int8Encoder | None = None

    def set_precision(self, precision: str) -> None:
        """RAISES ClinkdError: E041, an unknown precision."""
        check_precision(precision)
        self.precision = precision

    @property
    def has_int8(self) -> bool:
        """Whether an int8 encoder is held (made or loaded)."""
        return self.int8 is not None

    def quantize(self, model: Any, *, exclude: Sequence[str] = ()) -> None:
        """Make the int8 encoder from the current fp32 weights of `model`'s
        transformer (`models.int8.quantize_encoder`; about a minute on 2 cores).
        The precision is not changed.

        model (Model): the thinc model tree holding the transformer.
        exclude (Sequence[str]): weight-name prefixes whose MatMuls stay fp32.
        RAISES ClinkdError: E040 (onnxruntime missing) or E043 (no transformer).
        """
        self.int8 = Int8Encoder(quantize_encoder(hf_shim(model)._model, exclude=exclude))

    def drop_int8(self) -> None:
        """Forget the int8 encoder: after a weight update it would be stale."""
        self.int8 = None

    def predicting(self, model: Any) -> AbstractContextManager:
        """A block in which `model` predicts as chosen: int8 (made now if
        none is held) or fp32, grouped by length or not (`running`)."""
        encoder: torch.nn.Module | None = None
        if self.precision == "int8":
            if self.int8 is None:
                self.quantize(model)
            encoder = self.int8
        if self.batch_by_length and has_transformer(model):
            encoder = LengthBatched(encoder if encoder is not None else hf_shim(model)._model)
        return running(model, encoder) if encoder is not None else nullcontext()

    # -- serialization: beside the component's own fields --------------------

    def add_to_bytes(self, component_bytes: bytes, *, exclude: Iterable[str] = ()) -> bytes:
        """A component's `to_bytes` (a msgpack dict) with the int8 encoder,
        if one is held and "int8" not excluded, under the key "int8"."""
        data = srsly.msgpack_loads(component_bytes)
        if self.int8 is not None and INT8_FIELD not in exclude:
            data[INT8_FIELD] = self.int8.model_bytes
        return srsly.msgpack_dumps(data)

    def from_bytes(self, component_bytes: bytes, *, exclude: Iterable[str] = ()) -> "EncoderRuntime":
        """Take the int8 encoder from a component's bytes (none if they have
        none or "int8" is excluded)."""
        model_bytes = srsly.msgpack_loads(component_bytes).get(INT8_FIELD)
        self.int8 = Int8Encoder(model_bytes) if model_bytes is not None and INT8_FIELD not in exclude else None
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the int8 encoder, if one is held, as int8.onnx in a
        component's directory."""
        if self.int8 is not None and INT8_FIELD not in exclude:
            (Path(path) / ONNX_FILE).write_bytes(self.int8.model_bytes)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "EncoderRuntime":
        """Read the int8 encoder from a component's directory (none if it has
        no int8.onnx or "int8" is excluded)."""
        onnx_path = Path(path) / ONNX_FILE
        self.int8 = Int8Encoder(onnx_path.read_bytes()) if onnx_path.exists() and INT8_FIELD not in exclude else None
        return self
