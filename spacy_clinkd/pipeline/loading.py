"""The one way spacy_clinkd loads a trained pipeline.

Every command, the benchmark, the model card and the scripts get their
pipeline from `load_pipeline`: a directory or an installed package name,
optionally with the precision `clinkd_ner` runs its encoder at, given as an
argument or as a suffix of the name (`en_clinkd_ner@int8`, `DIR@fp32`).
Precision is a load-time setting of the component (`inference`), so it is
passed to `spacy.load` as a config override, never switched by hand on a
loaded pipeline; a pipeline without `clinkd_ner` cannot take it (E009,
checked from its config before anything is loaded). A failed load is one
error, E011, whoever asked.
"""
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..models.precision import PRECISIONS, check_precision

NER_COMPONENT = "clinkd_ner"
# `clinkd_ner`'s `inference` setting, as a suffix of a pipeline name.
PRECISION_SUFFIXES = {f"@{p}": p for p in PRECISIONS}


def split_precision(model: str) -> tuple[str, str | None]:
    """Split a `@int8` / `@fp32` suffix off a pipeline name or path.

    RETURNS (Tuple[str, Optional[str]]): the name and the precision (None: as saved).
    RAISES ClinkdError: E011 when nothing is left before the suffix.
    """
    for suffix, precision in PRECISION_SUFFIXES.items():
        if model.endswith(suffix):
            name = model[: -len(suffix)]
            if not name:
                raise ClinkdError(Errors.E011.format(path=model, reason=f"no pipeline before {suffix}"))
            return name, precision
    return model, None


def pipeline_path(model: str | Path) -> Path | None:
    """The directory a `spacy.load` name or path loads from, if known."""
    from spacy.util import get_package_path, is_package

    if Path(model).is_dir():
        return Path(model)
    if isinstance(model, str) and is_package(model):
        return get_package_path(model)
    return None


def pipeline_config_file(model: str | Path) -> Path | None:
    """The config.cfg of a pipeline directory or installed package, if found
    (a package keeps it in its data folder)."""
    path = pipeline_path(model)
    if path is None:
        return None
    if (path / "config.cfg").is_file():
        return path / "config.cfg"
    return next(iter(sorted(path.glob("*/config.cfg"))), None)


def pipeline_config(model: str | Path) -> Any:
    """RETURNS (Optional[Config]): the saved config of a pipeline, uninterpolated,
    without loading it; None when it cannot be found."""
    from spacy.util import load_config

    config_file = pipeline_config_file(model)
    return load_config(config_file, interpolate=False) if config_file is not None else None


def is_spacy_pipeline(path: str | Path) -> bool:
    """RETURNS (bool): whether `path` is a saved spaCy pipeline directory."""
    path = Path(path)
    return (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def load_pipeline(
    model: str | Path,
    precision: str | None = None,
    *,
    exclude: Iterable[str] = (),
    component: str = NER_COMPONENT,
    config: dict[str, Any] | None = None,
) -> Any:
    """Load a trained pipeline, optionally at a precision.

    model (Union[str, Path]): a pipeline directory or installed package name,
        optionally ending in `@int8` or `@fp32`.
    precision (Optional[str]): "fp32" or "int8" for `component`; None: the
        suffix's, else as saved. A suffix and a different argument conflict (E041).
    exclude (Iterable[str]): components not to load.
    component (str): the component whose `inference` the precision sets.
    config (Optional[Dict[str, Any]]): more load-time settings of the
        components, `{"components": {NAME: {SETTING: VALUE}}}`.
    RETURNS (Language): the pipeline.
    RAISES ClinkdError: E011 (it does not load), E009 (a precision for a
        pipeline without `component`), E041 (an unknown precision).
    """
    import spacy

    name, suffix = split_precision(str(model)) if isinstance(model, str) else (model, None)
    if suffix is not None and precision is not None and suffix != precision:
        raise ClinkdError(Errors.E041.format(precision=f"{precision} and {model}", options=list(PRECISIONS)))
    precision = precision if precision is not None else suffix
    overrides: dict[str, Any] = {"components": {k: dict(v) for k, v in (config or {}).get("components", {}).items()}}
    if precision is not None:
        check_precision(precision)
        config = pipeline_config(name)
        names = list(config["nlp"].get("pipeline", [])) if config is not None else None
        if names is not None and component not in names:
            raise ClinkdError(Errors.E009.format(path=name, component=component, names=names))
        overrides["components"].setdefault(component, {})["inference"] = precision
    if not overrides["components"]:
        overrides = {}
    try:
        return spacy.load(name, config=overrides, exclude=list(exclude))
    except (OSError, ValueError, ImportError) as err:
        raise ClinkdError(Errors.E011.format(path=name, reason=err)) from err


def precision_of(nlp: Any, component: str = NER_COMPONENT) -> str:
    """RETURNS (str): "int8" or "fp32", the precision `component` runs its
    encoder at; "fp32" for a pipeline without it."""
    if component not in nlp.pipe_names:
        return "fp32"
    return getattr(nlp.get_pipe(component), "inference", "fp32") or "fp32"


def encoder_from_pipeline(path: str | Path, *, component: str = NER_COMPONENT) -> tuple[Any, Any]:
    """The fine-tuned Hugging Face encoder and tokenizer inside a trained
    pipeline's component: spacy-transformers keeps them on the thinc node that
    wraps the torch model (`.transformer`, `.tokenizer`).

    path (Union[str, Path]): a saved spaCy pipeline directory.
    component (str): the component whose model holds the transformer.
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): model and tokenizer.
    RAISES ClinkdError: the pipeline does not load (E011), has no such
        component (E009), or the component holds no transformer (E010).
    """
    from thinc.api import Model

    nlp = load_pipeline(path)
    if component not in nlp.pipe_names:
        raise ClinkdError(Errors.E009.format(path=path, component=component, names=nlp.pipe_names))
    model = getattr(nlp.get_pipe(component), "model", None)
    for node in model.walk() if isinstance(model, Model) else []:
        transformer = getattr(node, "transformer", None)
        if transformer is not None:
            return transformer, node.tokenizer
    raise ClinkdError(Errors.E010.format(path=path, component=component))
