"""Cross-validated assertion scores: per fold, mean ± sd, pooled with intervals."""
import statistics

import pytest

from spacy_clinkd.evaluation.assertion_cv import cv_summary, run_assertion_cv
from spacy_clinkd.pipeline.assertion_training import EntityExample


def test_mean_and_sd_are_over_folds():
    # fold 0: absent found once of twice (F1 2/3); fold 1: absent found (F1 1)
    pairs_by_doc = [
        [("absent", "absent"), ("absent", "present")],
        [("present", "present")],
        [("absent", "absent"), ("present", "present")],
    ]
    summary = cv_summary(pairs_by_doc, [0, 0, 1], n_samples=50)
    assert summary["k"] == 2
    assert [f["per_class"]["absent"]["f"] for f in summary["per_fold"]] == pytest.approx([2 / 3, 1.0])
    assert summary["mean"]["absent"]["f"] == pytest.approx(5 / 6)
    assert summary["sd"]["absent"]["f"] == pytest.approx(statistics.stdev([2 / 3, 1.0]))
    # pooled: 2 of 3 absent found, no false absent
    assert summary["pooled"]["per_class"]["absent"]["f"] == pytest.approx(0.8)
    low, high = summary["intervals"]["absent"]["f"]
    assert 0.0 <= low <= 0.8 <= high <= 1.0
    assert (summary["n_docs"], summary["n"]) == (3, 5)


def test_rules_only_cv_scores_the_rules_verdicts():
    def ex(rule, gold):
        return EntityExample(text=f"{rule} symptom : [E] x [/E]", rule=rule, gold=gold)

    by_doc = [[ex("absent", "absent")], [ex("present", "absent")], [ex("present", "present")], [ex("absent", "present")]]
    result = run_assertion_cv(by_doc, ["a", "b", "c", "d"], k=2, seed=0, encoder=None)
    assert set(result["candidates"]) == {"rules"}
    rules = result["candidates"]["rules"]
    assert rules["pooled"]["per_class"]["absent"]["f"] == pytest.approx(0.5)
    assert sorted(result["folds"].values()) == [0, 0, 1, 1]


def test_linear_candidate_is_fitted_on_the_other_folds():
    """A cue the rules miss ("nix") in every doc: the linear model fitted on the
    other fold finds it in the held-out one; the rules do not."""
    from spacy_clinkd.pipeline.assertion_training import LinearSettings

    def ex(gold, word):
        return EntityExample(text="", rule="present", gold=gold, features=("rule=present", f"L:{word}", "E:x"))

    by_doc = [[ex("absent", "nix"), ex("present", "has")] for _ in range(4)]
    result = run_assertion_cv(by_doc, ["a", "b", "c", "d"], k=2, seed=0, encoder=None, linear=LinearSettings(l2=1e-3))
    assert set(result["candidates"]) == {"rules", "linear"}
    assert result["candidates"]["linear"]["pooled"]["per_class"]["absent"]["f"] == pytest.approx(1.0)
    assert result["candidates"]["rules"]["pooled"]["per_class"]["absent"]["f"] == pytest.approx(0.0)
    assert result["linear_settings"]["l2"] == 1e-3
