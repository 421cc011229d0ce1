"""Choose domain tokens by how much more frequent they are in clinical than
in general text (Sachidananda et al. 2021, "Efficient domain adaptation of
language models via adaptive tokenization").

Candidates are piece sequences under the *current* tokenizer: for every word
type split into >= 2 WordPiece pieces, each contiguous run of >= 2 of its
pieces, merged into one token: the whole word, a word-initial prefix
("hypercho") or a `##` continuation ("##cholesterol"). A run occurs once per
occurrence of its word, so a candidate's count in a corpus is

    c(s) = Σ_w count(w) · #{runs of w's pieces that merge to s}

and, with N the number of words in the corpus, V the number of candidates
that pass the filters and k the add-k smoothing constant,

    p_clin(s) = c_clin(s) / N_clin
    p_gen(s)  = (c_gen(s) + k) / (N_gen + k · V)
    score(s)  = p_clin(s) · log(p_clin(s) / p_gen(s))

score(s) is s's pointwise contribution to KL(p_clin ‖ p_gen) (objective
"kl", the paper's). The default objective "kl-savings" weights the same
log-ratio by the pieces s saves instead of its occurrences:

    saved(s)  = Σ_w count(w) · Σ_{runs r of w merging to s} (len(r) − 1)
    score(s)  = (saved(s) / N_clin) · log(p_clin(s) / p_gen(s))

For a run of two pieces both agree; a whole 5-piece word saves 4 pieces per
occurrence and ranks accordingly (on MACCROBAT it cuts entity-word pieces by
~3 points more at K=1,500). Filters: s is
not already in the vocabulary, c_clin(s) >= min_count, s (without "##") has
at least one letter (no pure digits or punctuation), and score(s) > 0.

Selection is greedy in rounds: take the `batch_size` best candidates, add
them to the vocabulary, re-tokenize every word with longest-match-first
WordPiece and recount. A chosen token therefore changes what later rounds see:
once "##cholesterol" is in, the runs it covered are single pieces and stop
competing, so slots are not spent on redundant sub-runs. Tokens that the
final vocabulary never uses on the clinical words (a later, longer token
shadows them) are dropped and their slots refilled. Ties sort by token
string, and nothing depends on dict or file-system order, so the same counts
and settings always give the same tokens in the same order.
"""
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..errors import ClinkdError, Errors
from .counting import CONTINUATION, PieceCache, piece_runs, wordpiece

OBJECTIVES = ("kl", "kl-savings")
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Candidate:
    """A scored candidate token.

    token (str): the merged token ("dyspnea", "##cholesterol").
    clin_count (int): c_clin(s).
    gen_count (int): c_gen(s).
    p_clin (float): c_clin(s) / N_clin.
    p_gen (float): smoothed general probability.
    score (float): p_clin · log(p_clin / p_gen).
    saved (int): pieces it saves on the clinical corpus when chosen.
    n_pieces (int): pieces the base vocabulary needs for it.
    round (int): the selection round that chose it (0-based).
    """

    token: str
    clin_count: int
    gen_count: int
    p_clin: float
    p_gen: float
    score: float
    saved: int = 0
    n_pieces: int = 0
    round: int = 0

    @property
    def kind(self) -> str:
        """RETURNS (str): "continuation" for `##` tokens, else "word-initial"."""
        return "continuation" if self.token.startswith(CONTINUATION) else "word-initial"


@dataclass
class Selection:
    """The result of `select_tokens`.

    tokens (List[Candidate]): the chosen tokens, in vocabulary order.
    n_clin_words (int): N_clin.
    n_gen_words (int): N_gen.
    settings (Dict[str, object]): the settings used.
    dropped (List[str]): tokens chosen, then dropped as unused.
    """

    tokens: list[Candidate]
    n_clin_words: int
    n_gen_words: int
    settings: dict[str, object] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def is_wordlike(token: str) -> bool:
    """RETURNS (bool): the token (without "##") has at least one letter."""
    return any(ch.isalpha() for ch in token_body(token))


def count_candidates(
    counts: Mapping[str, int],
    pieces_of: PieceCache,
    *,
    keep: Mapping[str, object] | None = None,
    max_run: int = 0,
    savings: Counter | None = None,
) -> Counter:
    """c(s) for every run over a word Counter (see module docstring).

    counts (Mapping[str, int]): word type → count.
    pieces_of (PieceCache): the current tokenization.
    keep (Optional[Mapping[str, object]]): count only these candidates.
    max_run (int): longest run in pieces; 0 for no limit.
    savings (Optional[Counter]): if given, receives for each candidate the
        pieces it would save: Σ_w count(w) · (run length − 1).
    RETURNS (Counter): candidate → count.
    """
    out: Counter = Counter()
    unk = pieces_of.unk_token
    for word, count in counts.items():
        pieces = pieces_of(word)
        if len(pieces) < 2 or unk in pieces:
            continue
        for token, n_run in piece_runs(pieces, max_run=max_run):
            if keep is None or token in keep:
                out[token] += count
                if savings is not None:
                    savings[token] += count * (n_run - 1)
    return out


def score_candidates(
    clin_counts: Mapping[str, int],
    gen_counts: Mapping[str, int],
    pieces_of: PieceCache,
    *,
    n_clin: int,
    n_gen: int,
    min_count: int = 5,
    smoothing: float = 1.0,
    max_run: int = 0,
    objective: str = "kl-savings",
) -> list[Candidate]:
    """Score every candidate under the current tokenization.

    clin_counts (Mapping[str, int]): clinical word type → count.
    gen_counts (Mapping[str, int]): general word type → count.
    pieces_of (PieceCache): the current tokenization.
    n_clin (int): N_clin, words in the clinical corpus.
    n_gen (int): N_gen, words in the general corpus.
    min_count (int): minimum c_clin(s).
    smoothing (float): k of the add-k smoothing of p_gen.
    max_run (int): longest run in pieces; 0 for no limit.
    objective (str): "kl-savings" or "kl" (see the module docstring).
    RETURNS (List[Candidate]): candidates with score > 0, best first (ties by
        token string).
    """
    if objective not in OBJECTIVES:
        raise ClinkdError(Errors.E313.format(objective=objective, options=list(OBJECTIVES)))
    saved: Counter = Counter()
    clin = count_candidates(clin_counts, pieces_of, max_run=max_run, savings=saved)
    kept = {
        s: c for s, c in clin.items()
        if c >= min_count and s not in pieces_of.vocab and is_wordlike(s)
    }
    if not kept:
        return []
    gen = count_candidates(gen_counts, pieces_of, keep=kept, max_run=max_run)
    denominator = n_gen + smoothing * len(kept)
    scored = []
    for token, c_clin in kept.items():
        p_clin = c_clin / n_clin
        c_gen = gen.get(token, 0)
        p_gen = (c_gen + smoothing) / denominator
        log_ratio = math.log(p_clin / p_gen)
        if objective == "kl":
            score = p_clin * log_ratio
        else:
            score = (saved[token] / n_clin) * log_ratio
        if score > 0:
            scored.append(Candidate(token, c_clin, c_gen, p_clin, p_gen, score, saved[token]))
    scored.sort(key=lambda c: (-c.score, c.token))
    return scored


def select_tokens(
    clin_counts: Mapping[str, int],
    gen_counts: Mapping[str, int],
    vocab: Mapping[str, int],
    *,
    size: int = 1500,
    min_count: int = 5,
    smoothing: float = 1.0,
    batch_size: int = 50,
    max_run: int = 0,
    objective: str = "kl-savings",
    unk_token: str = "[UNK]",
    max_chars: int = 100,
    max_refills: int = 5,
    progress: ProgressCallback | None = None,
) -> Selection:
    """Greedy top-K selection with re-tokenization between rounds.

    clin_counts (Mapping[str, int]): clinical word type → count.
    gen_counts (Mapping[str, int]): general word type → count.
    vocab (Mapping[str, int]): the base vocabulary (token → id).
    size (int): K, the number of tokens to add.
    min_count (int): minimum clinical count of a candidate.
    smoothing (float): k of the add-k smoothing of p_gen.
    batch_size (int): tokens added per round; 1 is the exact greedy, `size`
        a single round (plain top-K over the base tokenization).
    max_run (int): longest piece run considered; 0 for no limit.
    objective (str): "kl-savings" or "kl" (see the module docstring).
    unk_token (str): the tokenizer's unknown token.
    max_chars (int): the tokenizer's max_input_chars_per_word.
    max_refills (int): passes that drop unused tokens and refill.
    progress (Optional[Callable[[int, int], None]]): called with (chosen, K).
    RETURNS (Selection): the tokens (fewer than K only if candidates run out).
    """
    if size < 1:
        raise ClinkdError(Errors.E116.format(name="--size", value=size))
    n_clin = sum(clin_counts.values())
    n_gen = sum(gen_counts.values())
    if n_clin == 0:
        raise ClinkdError(Errors.E304.format(side="clinical", specs="(empty counts)"))
    if n_gen == 0:
        raise ClinkdError(Errors.E304.format(side="general", specs="(empty counts)"))
    # Deterministic iteration order, whatever order the counts were built in.
    clin_counts = dict(sorted(clin_counts.items()))
    gen_counts = dict(sorted(gen_counts.items()))
    base = PieceCache(dict(vocab), unk_token=unk_token, max_chars=max_chars)
    current: dict[str, int] = dict(vocab)
    chosen: list[Candidate] = []
    dropped: list[str] = []
    dropped_set: set[str] = set()
    n_round = 0
    for _ in range(max_refills + 1):
        while len(chosen) < size:
            pieces_of = PieceCache(current, unk_token=unk_token, max_chars=max_chars)
            scored = score_candidates(
                clin_counts, gen_counts, pieces_of, n_clin=n_clin, n_gen=n_gen,
                min_count=min_count, smoothing=smoothing, max_run=max_run,
                objective=objective,
            )
            batch = pick_batch(
                [c for c in scored if c.token not in dropped_set],
                min(batch_size, size - len(chosen)),
            )
            if not batch:
                break
            for cand in batch:
                current[cand.token] = len(current)
                n_pieces = _base_pieces(base, cand.token)
                chosen.append(replace(cand, n_pieces=n_pieces, round=n_round))
            n_round += 1
            if progress is not None:
                progress(len(chosen), size)
        unused = _unused_tokens(clin_counts, chosen, current, unk_token=unk_token, max_chars=max_chars)
        if not unused:
            break
        dropped.extend(sorted(unused))
        dropped_set.update(unused)
        chosen = [c for c in chosen if c.token not in unused]
        current = dict(vocab)
        for cand in chosen:
            current[cand.token] = len(current)
    settings = {
        "size": size, "min_count": min_count, "smoothing": smoothing,
        "batch_size": batch_size, "max_run": max_run, "objective": objective,
        "rounds": n_round,
    }
    return Selection(chosen, n_clin, n_gen, settings, dropped)


def token_body(token: str) -> str:
    """RETURNS (str): the token without its "##" prefix."""
    return token.removeprefix(CONTINUATION)


def pick_batch(ranked: list[Candidate], n: int) -> list[Candidate]:
    """The best `n` candidates that do not overlap each other.

    Runs of one word rank together ("musculoskeletal", "musculoskel",
    "##loskeletal"), and once one is in the vocabulary the others lose most
    of their counts, or are shadowed by longest-match-first. So a candidate
    whose text contains, or is contained in, one already picked this round
    waits for the next round, where it is rescored on the new tokenization.

    ranked (List[Candidate]): candidates, best first.
    n (int): how many to pick.
    RETURNS (List[Candidate]): the batch, in rank order.
    """
    picked: list[Candidate] = []
    bodies: list[str] = []
    for cand in ranked:
        if len(picked) >= n:
            break
        body = token_body(cand.token)
        if any(body in other or other in body for other in bodies):
            continue
        picked.append(cand)
        bodies.append(body)
    return picked


def _base_pieces(base: PieceCache, token: str) -> int:
    if token.startswith(CONTINUATION):
        pieces = wordpiece(token[len(CONTINUATION):], base.vocab, continuation=True)
        return len(pieces) if pieces else 0
    return len(base(token))


def _unused_tokens(
    clin_counts: Mapping[str, int],
    chosen: list[Candidate],
    vocab: dict[str, int],
    *,
    unk_token: str,
    max_chars: int,
) -> list[str]:
    pieces_of = PieceCache(vocab, unk_token=unk_token, max_chars=max_chars)
    used: Counter = Counter()
    for word in clin_counts:
        used.update(pieces_of(word))
    return [c.token for c in chosen if used[c.token] == 0]


def fragmentation(counts: Mapping[str, int], pieces_of: PieceCache) -> tuple[float, float]:
    """Mean pieces per word and share of words in > 1 piece, count-weighted.

    counts (Mapping[str, int]): word type → count.
    pieces_of (PieceCache): the tokenization.
    RETURNS (Tuple[float, float]): (mean pieces per word, split share).
    """
    total = sum(counts.values())
    if not total:
        return 0.0, 0.0
    pieces = sum(len(pieces_of(w)) * c for w, c in counts.items())
    split = sum(c for w, c in counts.items() if len(pieces_of(w)) > 1)
    return pieces / total, split / total
