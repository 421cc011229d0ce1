"""KL scoring and greedy selection on hand-made counts with a toy vocabulary.

Under the toy vocabulary of tests/conftest.py:
  dyspnea → dys ##pnea      runs: "dyspnea" (2 pieces)
  xyz     → x ##y ##z       runs: "xy" (2), "xyz" (3), "##yz" (2)
  ab      → a ##b           runs: "ab" (2)
  fever   → fever           no runs (already one piece)
"""
import math
from collections import Counter

import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.wordpiece.counting import (
    PieceCache,
    merge_pieces,
    piece_runs,
    wordpiece,
)
from spacy_clinkd.wordpiece.scoring import (
    Candidate,
    is_wordlike,
    pick_batch,
    score_candidates,
    select_tokens,
)
from tests.util import toy_vocab

CLIN = Counter({"dyspnea": 4, "xyz": 2, "ab": 3, "fever": 10})  # N_clin = 19
GEN = Counter({"ab": 30, "fever": 5, "xy": 1, "the": 64})  # N_gen = 100


@pytest.fixture
def vocab():
    return {token: i for i, token in enumerate(toy_vocab())}


@pytest.fixture
def pieces_of(vocab):
    return PieceCache(vocab)


def test_toy_tokenization(pieces_of):
    assert pieces_of("dyspnea") == ("dys", "##pnea")
    assert pieces_of("xyz") == ("x", "##y", "##z")
    assert pieces_of("fever") == ("fever",)


def test_python_wordpiece_matches_rust(vocab, pieces_of):
    for word in ["dyspnea", "xyz", "fevers", "coughing", "aspirin", "q9"]:
        assert tuple(wordpiece(word, vocab)) == pieces_of(word)
    assert wordpiece("pnea", vocab, continuation=True) == ["##pnea"]
    assert wordpiece("x" * 101, vocab) is None


def test_piece_runs():
    runs = piece_runs(["hyper", "##cho", "##les", "##terol"])
    assert runs == [
        ("hypercho", 2), ("hypercholes", 3), ("hypercholesterol", 4),
        ("##choles", 2), ("##cholesterol", 3), ("##lesterol", 2),
    ]
    assert piece_runs(["one"]) == []
    assert merge_pieces(["##cho", "##les"]) == "##choles"


def test_kl_scores_hand_computed(pieces_of):
    # V = 5 candidates pass min_count=2 ("ab" is scored but negative).
    # p_gen(s) = (c_gen + 1) / (100 + 5);  p_clin(s) = c_clin / 19
    scored = score_candidates(
        CLIN, GEN, pieces_of, n_clin=19, n_gen=100, min_count=2, smoothing=1.0, objective="kl"
    )
    expected = [
        ("dyspnea", 4 / 19 * math.log((4 / 19) / (1 / 105))),  # 0.6518
        ("##yz", 2 / 19 * math.log((2 / 19) / (1 / 105))),  # 0.2529, tie with xyz:
        ("xyz", 2 / 19 * math.log((2 / 19) / (1 / 105))),  # ties sort by string
        ("xy", 2 / 19 * math.log((2 / 19) / (2 / 105))),  # 0.1799
    ]
    assert [c.token for c in scored] == [t for t, _ in expected]
    for cand, (_, score) in zip(scored, expected):
        assert cand.score == pytest.approx(score, rel=1e-12)
    assert scored[0].score == pytest.approx(0.65175, abs=1e-5)
    assert scored[3].gen_count == 1 and scored[3].clin_count == 2
    # "ab" is more frequent in general text: negative score, left out
    assert "ab" not in {c.token for c in scored}


def test_kl_savings_ranks_longer_runs_higher(pieces_of):
    scored = score_candidates(
        CLIN, GEN, pieces_of, n_clin=19, n_gen=100, min_count=2, objective="kl-savings"
    )
    # saved: dyspnea 4·1, xyz 2·2, ##yz 2·1, xy 2·1
    assert [c.token for c in scored] == ["dyspnea", "xyz", "##yz", "xy"]
    xyz = scored[1]
    assert xyz.saved == 4
    assert xyz.score == pytest.approx(4 / 19 * math.log((2 / 19) / (1 / 105)), rel=1e-12)


def test_filters(pieces_of):
    clin = Counter({"dyspnea": 4, "12": 50, "xyz": 1})
    gen = Counter({"the": 1000})
    scored = score_candidates(clin, gen, pieces_of, n_clin=55, n_gen=1000, min_count=2)
    tokens = {c.token for c in scored}
    assert "dyspnea" in tokens
    assert "12" not in tokens  # pure digits (1 ##2)
    assert not tokens & {"xyz", "xy", "##yz"}  # below min_count
    assert "fever" not in tokens  # already one piece
    assert not is_wordlike("##-.")
    assert not is_wordlike("123")
    assert is_wordlike("10mg")
    # min_count is a floor: lowering it admits the rare word
    low = score_candidates(clin, gen, pieces_of, n_clin=55, n_gen=1000, min_count=1)
    assert "xyz" in {c.token for c in low}


def test_unknown_objective(pieces_of):
    with pytest.raises(ClinkdError):
        score_candidates(CLIN, GEN, pieces_of, n_clin=19, n_gen=100, objective="tfidf")


def test_pick_batch_skips_overlaps():
    def cand(token, score):
        return Candidate(token, 1, 0, 0.1, 0.01, score)

    ranked = [cand("musculoskeletal", 3), cand("##loskeletal", 2), cand("muscu", 1.5), cand("edema", 1)]
    assert [c.token for c in pick_batch(ranked, 3)] == ["musculoskeletal", "edema"]
    assert [c.token for c in pick_batch(ranked, 1)] == ["musculoskeletal"]


@pytest.mark.parametrize("batch_size", [1, 2, 10])
def test_select_greedy(vocab, batch_size):
    sel = select_tokens(CLIN, GEN, vocab, size=2, min_count=2, batch_size=batch_size)
    assert [c.token for c in sel.tokens] == ["dyspnea", "xyz"]
    assert sel.n_clin_words == 19 and sel.n_gen_words == 100
    assert sel.tokens[1].n_pieces == 3


def test_select_rescored_after_each_round(vocab):
    # Once "xyz" is in, its sub-runs ("xy", "##yz") lose their counts: the
    # third token is never a redundant sub-run of the second.
    sel = select_tokens(CLIN, GEN, vocab, size=4, min_count=2, batch_size=1)
    tokens = [c.token for c in sel.tokens]
    assert tokens[:2] == ["dyspnea", "xyz"]
    assert "##yz" not in tokens and "xy" not in tokens
    assert len(tokens) == 2  # no candidate with a positive score is left
    assert [c.round for c in sel.tokens] == [0, 1]


def test_select_every_token_is_used(vocab):
    clin = Counter({"xyzw": 5, "xyz": 5, "dyspnea": 3})
    sel = select_tokens(clin, GEN, vocab, size=3, min_count=1, batch_size=3)
    extended = dict(vocab)
    for c in sel.tokens:
        extended[c.token] = len(extended)
    pieces_of = PieceCache(extended)
    used = Counter(p for w in clin for p in pieces_of(w))
    assert all(used[c.token] > 0 for c in sel.tokens)


def test_select_deterministic_under_input_order(vocab):
    a = select_tokens(CLIN, GEN, vocab, size=3, min_count=1)
    rev_clin = Counter(dict(reversed(list(CLIN.items()))))
    rev_gen = Counter(dict(reversed(list(GEN.items()))))
    b = select_tokens(rev_clin, rev_gen, vocab, size=3, min_count=1)
    assert a.tokens == b.tokens


def test_select_bad_size(vocab):
    with pytest.raises(ClinkdError):
        select_tokens(CLIN, GEN, vocab, size=0)
    with pytest.raises(ClinkdError):
        select_tokens(Counter(), GEN, vocab, size=1)
