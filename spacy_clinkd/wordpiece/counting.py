"""Word counts in BERT's own terms, and WordPiece runs over them.

The unit of counting is what a BERT fast tokenizer hands to WordPiece: its
normalizer (clean-up, lower-casing and accent stripping for uncased models)
then its pre-tokenizer (whitespace and punctuation split, so "year-old" is
three words). Counting those strings once keeps the statistics streamed and
small: a corpus becomes a `Counter` of word types, and every piece statistic
is derived from the types and their counts.
"""
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tqdm import tqdm

CONTINUATION = "##"


class WordSplitter:
    """Normalize and pre-tokenize text exactly as a fast BERT tokenizer does.

    tokenizer (PreTrainedTokenizerFast): the (source) tokenizer.
    """

    def __init__(self, tokenizer: Any) -> None:
        backend = tokenizer.backend_tokenizer
        self._normalizer = backend.normalizer
        self._pre_tokenizer = backend.pre_tokenizer

    def __call__(self, text: str) -> list[str]:
        """text (str): raw text. RETURNS (List[str]): its words."""
        if self._normalizer is not None:
            text = self._normalizer.normalize_str(text)
        if self._pre_tokenizer is None:
            return text.split()
        return [word for word, _ in self._pre_tokenizer.pre_tokenize_str(text)]


def count_words(
    texts: Iterable[str | tuple[str, int]],
    splitter: WordSplitter,
    *,
    desc: str | None = None,
    progress: bool = False,
) -> Counter:
    """Count word types over a stream of texts.

    texts (Iterable[Union[str, Tuple[str, int]]]): the corpus, streamed: texts,
        or (text, weight) pairs whose words count `weight` times.
    splitter (WordSplitter): normalizer + pre-tokenizer of the source model.
    desc (Optional[str]): label of the progress bar.
    progress (bool): show a progress bar (texts read, words counted).
    RETURNS (Counter): word type → (weighted) count.
    """
    counts: Counter = Counter()
    n_words = 0
    bar = tqdm(desc=desc, unit=" texts", disable=not progress, leave=True)
    for item in texts:
        text, weight = (item, 1) if isinstance(item, str) else item
        words = splitter(text)
        if weight == 1:
            counts.update(words)
        else:
            counts.update({w: c * weight for w, c in Counter(words).items()})
        n_words += len(words)
        bar.update(1)
        if bar.n % 200 == 0:
            bar.set_postfix(words=n_words, refresh=False)
    bar.set_postfix(words=n_words)
    bar.close()
    return counts


def wordpiece(
    word: str,
    vocab: Mapping[str, int],
    *,
    continuation: bool = False,
    max_chars: int = 100,
) -> list[str] | None:
    """Longest-match-first WordPiece, as BERT's tokenizer runs it.

    word (str): one normalized, pre-tokenized word.
    vocab (Mapping[str, int]): the vocabulary.
    continuation (bool): tokenize `word` as the inside of a word, so its first
        piece is a `##` piece too (used to embed a new `##x` token).
    max_chars (int): longer words are unknown, as in BERT.
    RETURNS (Optional[List[str]]): the pieces, or None if the word is unknown.
    """
    if len(word) > max_chars:
        return None
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = len(word)
        piece = None
        while start < end:
            sub = word[start:end]
            if start > 0 or continuation:
                sub = CONTINUATION + sub
            if sub in vocab:
                piece = sub
                break
            end -= 1
        if piece is None:
            return None
        pieces.append(piece)
        start = end
    return pieces


class PieceCache:
    """WordPiece tokenizations of word types under one vocabulary, through
    the Rust `tokenizers` WordPiece model (fast), cached per word.

    vocab (Dict[str, int]): token → id.
    unk_token (str): the unknown token.
    max_chars (int): the tokenizer's max_input_chars_per_word.
    """

    def __init__(self, vocab: dict[str, int], *, unk_token: str = "[UNK]", max_chars: int = 100) -> None:
        from tokenizers.models import WordPiece

        self.vocab = vocab
        self.unk_token = unk_token
        self._model = WordPiece(
            vocab=dict(vocab), unk_token=unk_token, max_input_chars_per_word=max_chars,
            continuing_subword_prefix=CONTINUATION,
        )
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        """word (str): a normalized word. RETURNS (Tuple[str, ...]): its pieces
        (a single unk token when WordPiece cannot cover it)."""
        pieces = self._cache.get(word)
        if pieces is None:
            pieces = tuple(tok.value for tok in self._model.tokenize(word))
            self._cache[word] = pieces
        return pieces

    def n_pieces(self, counts: Mapping[str, int]) -> int:
        """RETURNS (int): total pieces over a word Counter."""
        return sum(len(self(w)) * c for w, c in counts.items())


def merge_pieces(pieces: Sequence[str]) -> str:
    """Join contiguous pieces into one token: the first keeps its form (a
    word-initial piece or a `##` piece), the others lose their `##`.

    pieces (Sequence[str]): e.g. ("##cho", "##les").
    RETURNS (str): e.g. "##choles".
    """
    head, *tail = pieces
    return head + "".join(p.removeprefix(CONTINUATION) for p in tail)


def piece_runs(pieces: Sequence[str], *, max_run: int = 0) -> list[tuple[str, int]]:
    """Every contiguous run of >= 2 pieces of one word, merged.

    pieces (Sequence[str]): the word's pieces, e.g. hyper ##cho ##les.
    max_run (int): longest run considered; 0 for no limit.
    RETURNS (List[Tuple[str, int]]): (merged token, pieces it replaces), e.g.
        ("hypercho", 2), ("hypercholes", 3), ("##choles", 2).
    """
    n = len(pieces)
    runs: list[tuple[str, int]] = []
    for i in range(n - 1):
        top = n if not max_run else min(n, i + max_run)
        merged = pieces[i]
        for j in range(i + 1, top):
            piece = pieces[j]
            merged += piece.removeprefix(CONTINUATION)
            runs.append((merged, j - i + 1))
    return runs
