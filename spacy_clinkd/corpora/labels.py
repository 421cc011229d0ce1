"""Label maps: which corpus entity types become which pipeline labels.

A label map is a JSON object `{"Corpus_type": "LABEL", ...}` (see
configs/labels/). Types missing from the map are dropped by the readers and
counted in the conversion report as `unmapped_label`.
"""
from pathlib import Path

import srsly

from ..errors import ClinkdError, Errors


def load_label_map(path: str | Path) -> dict[str, str]:
    """Load and validate a label map.

    path (Union[str, Path]): a JSON file holding an object of str to str.
    RETURNS (Dict[str, str]): corpus type → pipeline label.
    RAISES ClinkdError: the file is missing, not JSON, or not a str → str object.
    """
    path = Path(path)
    try:
        data = srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E101.format(path=path, reason=err)) from err
    if not isinstance(data, dict):
        reason = f"found {type(data).__name__}"
        raise ClinkdError(Errors.E101.format(path=path, reason=reason))
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
