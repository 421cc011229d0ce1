"""Build a DistilBERT-style student encoder by keeping a subset of a
teacher's transformer layers (Sanh et al. 2019 initialise DistilBERT from
every other layer of BERT).

The source is either a Hugging Face model directory (the pretrained teacher
encoder) or a trained spaCy pipeline whose component holds a fine-tuned
encoder: then the student starts from the *fine-tuned* teacher layers
("shrink and fine-tune", Shleifer & Rush 2020), which carry the task.

The result is a local Hugging Face model directory (weights + tokenizer)
that `clinkd.TransformerEncoder.v1` loads by path.
"""
from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import ClinkdError, Errors

# model_type -> (attribute path of the layer list, config field for its size)
LAYER_LAYOUT: dict[str, tuple] = {
    "bert": (("encoder", "layer"), "num_hidden_layers"),
    "roberta": (("encoder", "layer"), "num_hidden_layers"),
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


def is_spacy_pipeline(path: str | Path) -> bool:
    """RETURNS (bool): whether `path` is a saved spaCy pipeline directory."""
    path = Path(path)
    return (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def encoder_from_pipeline(path: str | Path, component: str = "clinkd_ner") -> tuple:
    """The fine-tuned Hugging Face encoder and tokenizer inside a trained
    pipeline's component (spacy-transformers keeps them on the node that
    wraps the torch model).

    path (Union[str, Path]): a saved spaCy pipeline directory.
    component (str): the component whose model holds the transformer.
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): model and tokenizer.
    RAISES ClinkdError: no such component, or it holds no transformer.
    """
    import spacy

    nlp = spacy.load(path)
    if component not in nlp.pipe_names:
        raise ClinkdError(Errors.E009.format(path=path, component=component, names=nlp.pipe_names))
    for node in nlp.get_pipe(component).model.walk():
        transformer = getattr(node, "transformer", None)
        if transformer is not None:
            return transformer, node.tokenizer
    raise ClinkdError(Errors.E009.format(path=path, component=component, names=nlp.pipe_names))


def build_student(
    source: str | Path,
    output_dir: str | Path,
    *,
    layers: str = "every-other",
) -> dict[str, object]:
    """Load a teacher encoder, keep a subset of its layers, and save the
    student (weights and tokenizer) as a Hugging Face directory.

    source (Union[str, Path]): a local HF model directory (resolved name), or
        a trained spaCy pipeline: its `clinkd_ner` encoder, fine-tuned.
    output_dir (Union[str, Path]): where the student is written.
    layers (str): "every-other" or comma-separated indices, e.g. "0,2,5".
    RETURNS (Dict[str, object]): a summary (kept layers, parameter counts).
    """
    from transformers import AutoModel, AutoTokenizer

    if is_spacy_pipeline(source):
        model, tokenizer = encoder_from_pipeline(source)
    else:
        model = AutoModel.from_pretrained(str(source))
        tokenizer = AutoTokenizer.from_pretrained(str(source))
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
        "source": str(source),
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
