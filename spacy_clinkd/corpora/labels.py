"""Label maps: which corpus entity types become which pipeline labels.

A label map is a JSON object `{"Corpus_type": "LABEL", ...}` (see
configs/labels/). Types missing from the map are dropped by the readers and
counted in the conversion report as `unmapped_label`. `load_label_map` is the
package's one reader of label maps: `evaluate --label-map` (predicted label →
gold label) reads its map with it too, and `load_context_map` reads a context
label map (corpus type → context value, e.g. configs/labels/maccrobat_context.json:
brat's `History` → "historical") with it, its values restricted to
`spans.CONTEXT_VALUES`.
"""
from collections.abc import Sequence
from pathlib import Path

from ..errors import ClinkdError, Errors
from .spans import CONTEXT_VALUES
from .textio import read_json_object


def load_label_map(path: str | Path, *, values: Sequence[str] | None = None) -> dict[str, str]:
    """Load and validate a label map.

    path (Union[str, Path]): a JSON file holding an object of str to str.
    values (Optional[Sequence[str]]): the only values allowed (a context
        label map's); with them every fault of the file is E126, not E101.
    RETURNS (Dict[str, str]): key label → mapped label (a corpus type → a pipeline label for
        the converters; a predicted label → a gold label for `evaluate --label-map`).
    RAISES ClinkdError: the file is missing, not JSON, or not a str → str
        object (E101), or, with `values`, any of these or a value not in
        `values` (E126).
    """
    path = Path(path)
    error, fields = Errors.E101, {}
    if values is not None:
        error, fields = Errors.E126, {"allowed": ", ".join(repr(v) for v in values)}
    data = read_json_object(path, error, **fields)
    for key, value in data.items():
        if not isinstance(value, str) or not value or (values is not None and value not in values):
            reason = f"the value for {key!r} is {value!r}"
            raise ClinkdError(error.format(path=path, reason=reason, **fields))
    return dict(data)


def load_context_map(path: str | Path) -> dict[str, str]:
    """Load a context label map (see the module docstring).

    path (Union[str, Path]): a JSON object of corpus type → context value.
    RETURNS (Dict[str, str]): corpus type → one of `spans.CONTEXT_VALUES`.
    RAISES ClinkdError: E126, naming the file, the bad value and the allowed ones.
    """
    return load_label_map(path, values=CONTEXT_VALUES)


def check_aux_map(label_map: dict[str, str], aux_map: dict[str, str], *, path: str | Path) -> None:
    """Raise E125 if an auxiliary label map shares a corpus type or a
    pipeline label with the main one (an auxiliary type must be one the
    pipeline does not ship)."""
    types = sorted(set(label_map) & set(aux_map))
    labels = sorted(set(label_map.values()) & set(aux_map.values()))
    if types or labels:
        raise ClinkdError(Errors.E125.format(path=path, shared=types + labels))
