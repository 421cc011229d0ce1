"""Reading `.spacy` DocBins: the one reader of the package's gold corpora."""
from __future__ import annotations

from pathlib import Path

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..errors import ClinkdError, Errors


def read_docbin(path: str | Path, vocab: Vocab, *, allow_empty: bool = False) -> list[Doc]:
    """The docs of one DocBin file.

    path (Union[str, Path]): a `.spacy` file.
    vocab (Vocab): the vocab the docs are made with (the pipeline's).
    allow_empty (bool): whether a DocBin with no docs is fine.
    RAISES ClinkdError: the file cannot be read as a DocBin (E254, naming it),
        or holds no docs (E259) unless allow_empty.
    """
    try:
        docs = list(DocBin().from_disk(path).get_docs(vocab))
    except (OSError, ValueError, KeyError) as err:
        raise ClinkdError(f"{path}: {Errors.E254.format(reason=err)}") from err
    if not docs and not allow_empty:
        raise ClinkdError(Errors.E259.format(path=path))
    return docs
