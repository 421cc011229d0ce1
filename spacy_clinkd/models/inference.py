"""What the encoder runs at prediction time: the module that spacy-transformers'
shim calls can be replaced for the length of a `predict` (`running`), by the
int8 encoder (`models.int8`) and/or by `LengthBatched`, which groups a padded
batch of windows by length. Training and serialization never see the
replacement: the shim's own (fp32) module is back when the block ends.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ..errors import ClinkdError, Errors


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
