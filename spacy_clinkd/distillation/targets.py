"""Teacher targets: per-spaCy-token logits over the student's tags, computed
once per document and cached on disk.

A *teacher* (see `teachers.py`) turns docs into logits: a trained pipeline, a
file of pre-labelled spans, or a pattern matcher. `teacher_targets` asks the
teacher only for docs the cache does not hold yet, so a student epoch (and a
second run with the same cache directory) runs no teacher at all.

Cache layout: one msgpack file per teacher identity,
`CACHE_DIR/targets-<identity[:20]>.msgpack`, holding
`{"identity", "tags", "targets": {doc_key: (n_tokens, n_tags) float32}}`, where
`doc_key` is the SHA-1 of the doc's text. Raw logits are stored, so one cache
serves every temperature. A doc the teacher does not cover (a span file without
its text) is stored as a (0, n_tags) array and returned as None.

Labelling leaves the random generators as it found them
(`preserved_random_state`): a teacher may draw while it loads or runs, and the
student's first dropout masks would then depend on whether the cache was warm.
"""
import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy
import srsly
from spacy.tokens import Doc
from spacy.util import minibatch

from ..corpora.transfer import text_key
from ..errors import ClinkdError, Errors
from ..pipeline.tags import BIOScheme

Array = numpy.ndarray



def doc_key(doc: Doc) -> str:
    """The cache key of a doc: `text_key` of its text."""
    return text_key(doc.text)


def digest(*parts: str | bytes) -> str:
    """SHA-256 over the parts, hex (identities of teachers)."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode("utf8") if isinstance(part, str) else part)
        sha.update(b"\x00")
    return sha.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file, or of every file under a directory (with names)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    sha = hashlib.sha256()
    for file in files:
        sha.update(str(file.relative_to(path) if path.is_dir() else file.name).encode("utf8"))
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()


class TargetCache:
    """Teacher logits keyed by doc text, for one teacher identity.

    directory (Optional[Path]): where the msgpack file lives; None keeps the
        targets in memory only.
    identity (str): the teacher's identity digest.
    tags (Sequence[str]): the tag set of the targets (checked on load).
    """

    def __init__(
        self, directory: str | Path | None, *, identity: str, tags: Sequence[str]
    ) -> None:
        self.identity = identity
        self.tags = tuple(tags)
        self.path = (
            Path(directory) / f"targets-{identity[:20]}.msgpack" if directory else None
        )
        self._targets: dict[str, Array] = {}
        self._dirty = False
        if self.path is not None and self.path.exists():
            data = srsly.msgpack_loads(self.path.read_bytes())
            if data.get("identity") == identity and tuple(data.get("tags", ())) == self.tags:
                self._targets = dict(data["targets"])

    def __contains__(self, key: str) -> bool:
        return key in self._targets

    def __len__(self) -> int:
        return len(self._targets)

    def get(self, key: str) -> Array | None:
        return self._targets.get(key)

    def put(self, key: str, logits: Array) -> None:
        self._targets[key] = numpy.ascontiguousarray(logits, dtype="float32")
        self._dirty = True

    def save(self) -> None:
        """Write the cache file if anything was added (atomically)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"identity": self.identity, "tags": list(self.tags), "targets": self._targets}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(srsly.msgpack_dumps(data))
        tmp.replace(self.path)
        self._dirty = False


@contextmanager
def preserved_random_state() -> Iterator[None]:
    """Restore Python's, NumPy's and torch's global generators on exit (the
    ones `spacy.util.fix_random_seed` seeds), whatever ran inside."""
    import torch

    state = (random.getstate(), numpy.random.get_state(), torch.get_rng_state())
    try:
        yield
    finally:
        random.setstate(state[0])
        numpy.random.set_state(state[1])
        torch.set_rng_state(state[2])


def teacher_targets(
    teacher: Callable[[list[Doc]], list[Array | None]],
    docs: Sequence[Doc],
    *,
    cache: TargetCache,
    batch_size: int = 16,
) -> tuple[list[Array | None], int]:
    """Targets for `docs`, calling `teacher` only for docs not in `cache`
    (each distinct text once, under `preserved_random_state`), then saving
    the cache.

    teacher (Callable[[List[Doc]], List[Optional[Array]]]): the teacher
        (`teachers.Teacher`), initialized with the student's tags.
    docs (Sequence[Doc]): the docs, tokenized by the student's tokenizer.
    cache (TargetCache): the cache for this teacher.
    batch_size (int): docs per teacher call.
    RETURNS (Tuple[List[Optional[Array]], int]): (n_tokens, n_tags) logits per
        doc (None where the teacher has no target), and the number of docs the
        teacher was run on.
    """
    missing: dict[str, Doc] = {}
    for doc in docs:
        key = doc_key(doc)
        if key not in cache and key not in missing:
            missing[key] = doc
    # Longest first, so each teacher batch holds docs of similar length.
    todo = sorted(missing.items(), key=lambda item: -len(item[1]))
    with preserved_random_state():
        for batch in minibatch(todo, size=batch_size):
            outputs = teacher([doc for _, doc in batch])
            for (key, _), logits in zip(batch, outputs):
                if logits is None:
                    logits = numpy.zeros((0, len(cache.tags)), dtype="float32")
                cache.put(key, numpy.asarray(logits, dtype="float32"))
    cache.save()
    targets: list[Array | None] = []
    for doc in docs:
        logits = cache.get(doc_key(doc))
        if logits is None:
            raise KeyError(doc_key(doc))  # put above: a bug if missing
        if logits.shape[0] == 0 and len(doc):
            targets.append(None)
            continue
        if logits.shape != (len(doc), len(cache.tags)):
            raise ClinkdError(
                Errors.E352.format(
                    rows=logits.shape[0], n_tokens=len(doc), text=doc.text[:40], path=cache.path
                )
            )
        targets.append(logits)
    return targets, len(missing)


def smoothed_logits(tag_ids: Array, n_tags: int, *, epsilon: float) -> Array:
    """Hard tags as label-smoothed log-probabilities:

        p_i = (1 − ε) · onehot(y_i) + ε / K,   logits_i = log p_i

    so a hard label plays the role of teacher logits in the same KL loss
    (softmax(log p) = p at T = 1).

    tag_ids (Array): (n_tokens,) int tag ids y.
    n_tags (int): K.
    epsilon (float): ε in (0, 1).
    RETURNS (Array): (n_tokens, n_tags) float32 log-probabilities.
    """
    if not 0.0 < epsilon < 1.0:
        raise ClinkdError(Errors.E357.format(epsilon=epsilon))
    probs = numpy.full((len(tag_ids), n_tags), epsilon / n_tags, dtype="float64")
    probs[numpy.arange(len(tag_ids)), numpy.asarray(tag_ids, dtype="int64")] += 1.0 - epsilon
    return numpy.log(probs).astype("float32")  # (n_tokens, n_tags)


def tag_ids_from_spans(
    n_tokens: int, spans: Iterable[tuple[int, int, str]], scheme: BIOScheme
) -> Array:
    """BIO tag ids of non-overlapping token spans (start, end, label).

    RETURNS (Array): (n_tokens,) int32, 0 ("O") outside the spans.
    """
    ids = numpy.zeros((n_tokens,), dtype="int32")
    for start, end, label in spans:
        k = scheme.labels.index(label)
        ids[start] = scheme.begin_id(k)
        ids[start + 1 : end] = scheme.inside_id(k)
    return ids
