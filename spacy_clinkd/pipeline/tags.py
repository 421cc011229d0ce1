"""BIO tags for `clinkd_ner` and a decoder that only emits valid sequences.

Tag ids: 0 = "O", then "B-<label>", "I-<label>" for each label in order.
"""
from collections.abc import Sequence

import numpy

OUTSIDE = "O"


class BIOScheme:
    """The tag set for a list of entity labels.

    labels (Sequence[str]): entity labels, in a fixed order.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        self.tags: tuple[str, ...] = (OUTSIDE,) + tuple(
            f"{prefix}-{label}" for label in self.labels for prefix in ("B", "I")
        )
        self.tag_to_id = {tag: i for i, tag in enumerate(self.tags)}

    def __len__(self) -> int:
        return len(self.tags)

    def begin_id(self, label_index: int) -> int:
        return 1 + 2 * label_index

    def inside_id(self, label_index: int) -> int:
        return 2 + 2 * label_index

    def allowed(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Which tags may start a sequence, and which may follow which.

        RETURNS (Tuple[ndarray, ndarray]): start (n_tags,) and
            transition (n_tags, n_tags) boolean masks; transition[i, j] is
            True when tag j may follow tag i. I-X may only follow B-X or I-X.
        """
        n = len(self.tags)
        start = numpy.ones((n,), dtype=bool)
        trans = numpy.ones((n, n), dtype=bool)
        for k in range(len(self.labels)):
            inside = self.inside_id(k)
            start[inside] = False
            trans[:, inside] = False
            trans[self.begin_id(k), inside] = True
            trans[inside, inside] = True
        return start, trans

    def ids_from_biluo(
        self, biluo: Sequence[str | None]
    ) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Convert aligned BILUO tags (spaCy's `Example.get_aligned_ner`) to
        BIO tag ids plus a mask that is 0 where the gold tag is unknown
        (None, "-" or an unknown label).

        RETURNS (Tuple[ndarray, ndarray]): ids (n,) int32 and mask (n,) float32.
        """
        ids = numpy.zeros((len(biluo),), dtype="int32")
        mask = numpy.zeros((len(biluo),), dtype="float32")
        for i, tag in enumerate(biluo):
            if tag is None or tag == "-" or tag == "":
                continue
            if tag == OUTSIDE:
                mask[i] = 1.0
                continue
            prefix, label = tag.split("-", 1)
            if label not in self.labels:
                # An entity type this component does not predict counts as O.
                mask[i] = 1.0
                continue
            k = self.labels.index(label)
            ids[i] = self.begin_id(k) if prefix in ("B", "U") else self.inside_id(k)
            mask[i] = 1.0
        return ids, mask

    def projection(self, labels: Sequence[str]) -> tuple["BIOScheme", numpy.ndarray]:
        """The scheme of a subset of the labels, and the matrix that maps a
        distribution over this scheme's tags onto it: B-X and I-X of a kept
        label go to themselves, every other tag (O, and the tags of labels
        left out) to O.

        labels (Sequence[str]): the kept labels, each one of `self.labels`.
        RETURNS (Tuple[BIOScheme, ndarray]): the subset's scheme, and
            (n_tags, n_subset_tags) 0/1 float32; `probs @ matrix` sums the
            probabilities of the tags each subset tag stands for.
        """
        unknown = [label for label in labels if label not in self.labels]
        if unknown:
            raise ValueError(f"labels {unknown} are not in {list(self.labels)}")
        subset = BIOScheme(labels)
        matrix = numpy.zeros((len(self.tags), len(subset.tags)), dtype="float32")
        for i, tag in enumerate(self.tags):
            matrix[i, subset.tag_to_id.get(tag, 0)] = 1.0
        return subset, matrix

    def spans(self, tag_ids: Sequence[int]) -> list[tuple[int, int, str]]:
        """Read entities off a valid tag sequence.

        RETURNS (List[Tuple[int, int, str]]): (start, end, label) token spans.
        """
        spans: list[tuple[int, int, str]] = []
        start: int | None = None
        label_index = -1
        for i, tag_id in enumerate(tag_ids):
            tag_id = int(tag_id)
            is_inside = tag_id != 0 and tag_id % 2 == 0
            if is_inside and start is not None and (tag_id - 2) // 2 == label_index:
                continue
            if start is not None:
                spans.append((start, i, self.labels[label_index]))
                start = None
            if tag_id != 0:
                # An I- tag that does not continue opens a span, so that an
                # unconstrained sequence still reads sensibly.
                start = i
                label_index = (tag_id - 1) // 2
        if start is not None:
            spans.append((start, len(tag_ids), self.labels[label_index]))
        return spans


def viterbi_decode(
    scores: numpy.ndarray, start: numpy.ndarray, trans: numpy.ndarray
) -> numpy.ndarray:
    """Best tag sequence under hard constraints (no learned transitions).

    scores (ndarray): (n_tokens, n_tags) log-probabilities.
    start (ndarray): (n_tags,) bool, tags allowed at position 0.
    trans (ndarray): (n_tags, n_tags) bool, trans[i, j]: j may follow i.
    RETURNS (ndarray): (n_tokens,) int tag ids; a valid sequence.
    """
    n_tokens, n_tags = scores.shape
    if n_tokens == 0:
        return numpy.zeros((0,), dtype="int32")
    penalty = numpy.where(trans, 0.0, -numpy.inf)  # (n_tags, n_tags)
    best = numpy.where(start, scores[0], -numpy.inf)  # (n_tags,)
    backpointers = numpy.zeros((n_tokens, n_tags), dtype="int32")
    for i in range(1, n_tokens):
        candidates = best[:, None] + penalty  # (prev, next)
        backpointers[i] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[i]
    path = numpy.zeros((n_tokens,), dtype="int32")
    path[-1] = int(best.argmax())
    for i in range(n_tokens - 1, 0, -1):
        path[i - 1] = backpointers[i, path[i]]
    return path
