"""Build a DistilBERT-style student encoder by keeping a subset of a
teacher's transformer layers (Sanh et al. 2019 initialise DistilBERT from
every other layer of BERT).

The source is a Hugging Face model (a directory, or one taken out of a
trained pipeline by `distillation.students.student_from_teacher`, which then
starts the student from the *fine-tuned* teacher layers). Slicing and saving
are plain Hugging Face / torch code; nothing here loads a spaCy pipeline.

The result is a local Hugging Face model directory (weights + tokenizer)
that `clinkd.TransformerEncoder.v1` loads by path.
"""
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import ClinkdError, Errors
from .integrity import check_encoder_folder

# model_type -> (attribute path of the layer list, config field for its size)
LAYER_LAYOUT: dict[str, tuple] = {
    "bert": (("encoder", "layer"), "num_hidden_layers"),
    "roberta": (("encoder", "layer"), "num_hidden_layers"),
    # MPNet's relative position bias (encoder.relative_attention_bias) is shared by all layers
    "mpnet": (("encoder", "layer"), "num_hidden_layers"),
    "distilbert": (("transformer", "layer"), "n_layers"),
}


def every_other_layer(n_layers: int) -> list[int]:
    """Layers 0, 2, 4, ... of an n-layer model (6 → [0, 2, 4])."""
    return list(range(0, n_layers, 2))


def parse_layers(spec: str, n_layers: int) -> list[int]:
    """'every-other' or a comma-separated list of layer indices."""
    if spec == "every-other":
        return every_other_layer(n_layers)
    try:
        return [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        raise ClinkdError(Errors.E006.format(layers=spec, n_layers=n_layers)) from None


def slice_layers(model: torch.nn.Module, keep: Sequence[int]) -> torch.nn.Module:
    """Keep only the transformer layers at the indices `keep`, in order, and
    update the model's config to match. Embeddings (and pooler) are kept.

    model (torch.nn.Module): a Hugging Face BERT/RoBERTa/DistilBERT base model.
    keep (Sequence[int]): layer indices, strictly increasing.
    RETURNS (torch.nn.Module): the same model, modified in place.
    """
    model_type = model.config.model_type
    if model_type not in LAYER_LAYOUT:
        raise ClinkdError(
            Errors.E005.format(model_type=model_type, options=sorted(LAYER_LAYOUT))
        )
    (parent_attr, list_attr), size_field = LAYER_LAYOUT[model_type]
    parent = getattr(model, parent_attr)
    layers = getattr(parent, list_attr)
    n_layers = len(layers)
    keep = list(keep)
    if (
        not keep
        or any(i < 0 or i >= n_layers for i in keep)
        or keep != sorted(set(keep))
    ):
        raise ClinkdError(Errors.E006.format(layers=keep, n_layers=n_layers))
    setattr(parent, list_attr, torch.nn.ModuleList([layers[i] for i in keep]))
    setattr(model.config, size_field, len(keep))
    return model


def build_student(
    source: str | Path,
    output_dir: str | Path,
    *,
    layers: str = "every-other",
) -> dict[str, object]:
    """Load a teacher encoder from a Hugging Face directory, keep a subset of
    its layers, and save the student (see `save_student`).

    source (Union[str, Path]): a local HF model directory (resolved name);
        it must hold safetensors weights (see `models.integrity`).
    output_dir (Union[str, Path]): where the student is written.
    layers (str): "every-other" or comma-separated indices, e.g. "0,2,5".
    RETURNS (Dict[str, object]): a summary (kept layers, parameter counts).
    """
    from transformers import AutoModel, AutoTokenizer

    check_encoder_folder(source)
    # Weights only from safetensors, never a pickle; never the model's own code.
    model = AutoModel.from_pretrained(str(source), use_safetensors=True, trust_remote_code=False)
    tokenizer = AutoTokenizer.from_pretrained(str(source), trust_remote_code=False)
    return save_student(model, tokenizer, output_dir, layers=layers, source=str(source))


def save_student(
    model: torch.nn.Module,
    tokenizer: Any,
    output_dir: str | Path,
    *,
    layers: str = "every-other",
    source: str = "",
) -> dict[str, object]:
    """Keep a subset of a teacher encoder's layers (in place) and save the
    student, weights and tokenizer, as a Hugging Face directory.

    model (torch.nn.Module): the teacher encoder (pretrained or fine-tuned).
    tokenizer (Any): its tokenizer, saved unchanged.
    output_dir (Union[str, Path]): where the student is written.
    layers (str): "every-other" or comma-separated indices, e.g. "0,2,5".
    source (str): where the teacher came from, for the summary.
    RETURNS (Dict[str, object]): a summary (kept layers, parameter counts).
    """
    n_before = sum(p.numel() for p in model.parameters())
    size_field = LAYER_LAYOUT.get(model.config.model_type, (None, None))[1]
    n_layers = getattr(model.config, size_field) if size_field else 0
    keep = parse_layers(layers, n_layers)
    slice_layers(model, keep)
    n_after = sum(p.numel() for p in model.parameters())
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    return {
        "source": source,
        "model_type": model.config.model_type,
        "teacher_layers": n_layers,
        "kept_layers": keep,
        "teacher_parameters": n_before,
        "student_parameters": n_after,
    }


def count_layers(model_dir: str | Path) -> int | None:
    """Number of transformer layers recorded in a HF model directory."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(model_dir))
    layout = LAYER_LAYOUT.get(config.model_type)
    return getattr(config, layout[1]) if layout else None
