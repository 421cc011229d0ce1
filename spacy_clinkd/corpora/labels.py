"""Label maps: which corpus entity types become which pipeline labels.

A label map is a JSON object `{"Corpus_type": "LABEL", ...}` (see
configs/labels/). Types missing from the map are dropped by the readers and
counted in the conversion report as `unmapped_label`. `load_label_map` is the
package's one reader of label maps: `evaluate --label-map` (predicted label →
gold label) reads its map with it too.
"""
from pathlib import Path

from ..errors import ClinkdError, Errors
from .textio import read_json_object


def load_label_map(path: str | Path) -> dict[str, str]:
    """Load and validate a label map.

    path (Union[str, Path]): a JSON file holding an object of str to str.
    RETURNS (Dict[str, str]): key label → mapped label (a corpus type → a pipeline label for
        the converters; a predicted label → a gold label for `evaluate --label-map`).
    RAISES ClinkdError: the file is missing, not JSON, or not a str → str object.
    """
    path = Path(path)
    data = read_json_object(path, Errors.E101)
    for key, value in data.items():
        if not isinstance(value, str) or not value:
            reason = f"the value for {key!r} is {value!r}"
            raise ClinkdError(Errors.E101.format(path=path, reason=reason))
    return dict(data)


def check_aux_map(label_map: dict[str, str], aux_map: dict[str, str], *, path: str | Path) -> None:
    """Raise E125 if an auxiliary label map shares a corpus type or a
    pipeline label with the main one (an auxiliary type must be one the
    pipeline does not ship)."""
    types = sorted(set(label_map) & set(aux_map))
    labels = sorted(set(label_map.values()) & set(aux_map.values()))
    if types or labels:
        raise ClinkdError(Errors.E125.format(path=path, shared=types + labels))
