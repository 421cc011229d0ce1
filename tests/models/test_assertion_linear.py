"""The linear assertion classifier: its features, its fit, its files."""
import numpy
import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.assertion_linear import (
    CLASSES,
    MAX_BETWEEN,
    LinearAssertion,
    decide,
    entity_features,
    fit_linear,
)
from spacy_clinkd.pipeline.assertion import CueRelation


def test_features_name_the_cue_its_reach_and_the_context():
    words = "she denies chest pain , but has fever .".split()
    relation = CueRelation("negation_preceding", 1, 2, gap=0, blocked=False)
    feats = entity_features(words, (2, 4), "SYMPTOM", "absent", [relation], (0, 9), window=2)
    assert "rule=absent" in feats and "label=SYMPTOM" in feats
    assert "cue=negation_preceding|denies" in feats
    assert "kind=negation_preceding|gap=0|blocked=False" in feats
    assert {"L:she", "L:denies", "E:chest", "E:pain", "R:,", "R:but"} <= set(feats)
    assert "R:has" not in feats  # outside the window
    # the scope bounds the context: nothing left of its start
    assert not any(f.startswith("L:") for f in entity_features(words, (2, 4), "SYMPTOM", "absent", [], (2, 9), 5))
    far = CueRelation("negation_preceding", 1, 2, gap=12, blocked=True)
    assert "kind=negation_preceding|gap=9+|blocked=True" in entity_features(words, (2, 4), "SYMPTOM", "absent", [far], (0, 9), 1)


def test_features_name_the_words_between_a_cue_and_its_entity():
    words = "no fever , chills or rash ; all resolved".split()
    before = CueRelation("negation_preceding", 0, 1, gap=4, blocked=False)
    after = CueRelation("negation_following", 8, 9, gap=2, blocked=False)
    feats = entity_features(words, (5, 6), "SYMPTOM", "absent", [before, after], (0, 9), window=1)
    between = {f for f in feats if f.startswith("B:")}
    assert between == {
        "B:negation_preceding|fever", "B:negation_preceding|,", "B:negation_preceding|chills",
        "B:negation_preceding|or", "B:negation_following|;", "B:negation_following|all",
    }
    # a cue next to its entity has no words between; one farther than MAX_BETWEEN words has one feature
    assert not any(f.startswith("B:") for f in entity_features(words, (1, 2), "SYMPTOM", "absent",
                                                               [CueRelation("negation_preceding", 0, 1, 0, False)], (0, 9), 1))
    long = ["no"] + ["x"] * (MAX_BETWEEN + 1) + ["rash"]
    far = CueRelation("negation_preceding", 0, 1, gap=MAX_BETWEEN + 1, blocked=False)
    assert [f for f in entity_features(long, (len(long) - 1, len(long)), "S", "absent", [far], (0, len(long)), 1)
            if f.startswith("B:")] == ["B:negation_preceding|<far>"]


# "nix" is no cue of the rules; "maybe" is a hedge: the fit must learn both from gold
INPUTS = [["rule=present", "L:nix", "E:fever"], ["rule=present", "E:cough"], ["rule=present", "L:nix", "E:rash"],
          ["rule=present", "L:has", "E:pain"], ["rule=present", "L:maybe", "E:pain"], ["rule=present", "L:maybe", "E:rash"]]
GOLD = ["absent", "present", "absent", "present", "possible", "possible"]


def test_the_fit_learns_what_the_rules_miss_and_is_deterministic():
    model = fit_linear(INPUTS, GOLD, window=3, l2=1e-3)
    probs = model.probabilities(INPUTS)
    assert probs.shape == (6, 3) and numpy.allclose(probs.sum(axis=1), 1.0)
    assert [CLASSES[k] for k in probs.argmax(-1)] == GOLD
    # a new entity with the learned cue, a word the fit never saw, another label
    assert CLASSES[model.probabilities([["rule=present", "L:nix", "E:headache", "label=X"]]).argmax()] == "absent"
    again = fit_linear(INPUTS, GOLD, window=3, l2=1e-3)
    assert numpy.array_equal(again.weights, model.weights) and again.features == model.features


def test_the_penalty_shrinks_the_weights():
    small = fit_linear(INPUTS, GOLD, window=3, l2=1e-4)
    large = fit_linear(INPUTS, GOLD, window=3, l2=1e-1)
    assert numpy.abs(large.weights).sum() < numpy.abs(small.weights).sum()


def test_save_and_load_give_the_same_model(tmp_path):
    model = fit_linear(INPUTS, GOLD, window=3, l2=1e-3)
    model.save(tmp_path / "clf")
    assert not list((tmp_path / "clf").glob("*.pkl")) and not list((tmp_path / "clf").glob("*.bin"))
    loaded = LinearAssertion.load(tmp_path / "clf")
    assert (loaded.window, loaded.l2, loaded.features) == (3, 1e-3, model.features)
    assert numpy.array_equal(loaded.probabilities(INPUTS), model.probabilities(INPUTS))
    with pytest.raises(ClinkdError, match="No trained assertion classifier"):
        LinearAssertion.load(tmp_path / "missing")


def test_decide_keeps_the_rules_verdict_only_for_the_kept_classes():
    # columns: present, absent, possible
    probs = numpy.asarray([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    rules = ["present", "possible", "absent", "absent"]
    assert decide(probs, rules) == ["possible", "present", "possible", "present"]
    # "possible" kept: the rules' hedge stands (row 2), no other entity becomes possible (rows 1, 3)
    assert decide(probs, rules, ("possible",)) == ["absent", "possible", "absent", "present"]
    assert decide(numpy.zeros((0, 3)), [], ("possible",)) == []
    with pytest.raises(ValueError, match="2 rule verdicts for 4 rows"):
        decide(probs, rules[:2])


@pytest.mark.parametrize("keep", [["maybe"], list(CLASSES), "possible"])
def test_keep_rules_must_name_some_classes(keep):
    with pytest.raises(ClinkdError, match="must be some, not all"):
        fit_linear(INPUTS, GOLD, window=3, keep_rules=keep)
    with pytest.raises(ClinkdError, match="must be some, not all"):
        decide(numpy.ones((1, 3)), ["present"], keep)


def test_keep_rules_are_saved_and_a_bad_value_names_the_file(tmp_path):
    model = fit_linear(INPUTS, GOLD, window=3, l2=1e-3, keep_rules=["possible"])
    model.save(tmp_path / "clf")
    assert LinearAssertion.load(tmp_path / "clf").keep_rules == ("possible",)
    settings = tmp_path / "clf" / "classifier.json"
    settings.write_text(settings.read_text().replace('"possible"\n ],\n "overrides"', '"maybe"\n ],\n "overrides"'))
    with pytest.raises(ClinkdError, match="classifier.json"):
        LinearAssertion.load(tmp_path / "clf")


def test_overrides_let_the_model_decide_a_kept_verdict():
    # columns: present, absent, possible; every rule verdict "possible" (kept)
    probs = numpy.asarray([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.4, 0.5], [0.3, 0.3, 0.4]])
    rules = ["possible"] * 4
    assert decide(probs, rules, ("possible",)) == ["possible"] * 4
    # "absent" overrides: the hedge falls only where absent is the model's most probable class
    assert decide(probs, rules, ("possible",), ("absent",)) == ["absent", "possible", "possible", "possible"]
    # any iterable of classes will do, a generator too
    assert decide(probs, rules, ("possible",), (c for c in ["absent"])) == ["absent", "possible", "possible", "possible"]
    # entities the rules do not hedge are decided as before, overrides or not
    assert decide(probs, ["present"] * 4, ("possible",), ("absent",)) == decide(probs, ["present"] * 4, ("possible",))


@pytest.mark.parametrize("keep,overrides", [(("possible",), ("possible",)), ((), ("absent",)), (("possible",), ("gone",))])
def test_overrides_must_be_classes_outside_the_kept_ones(keep, overrides):
    with pytest.raises(ClinkdError, match="overrides .* must be classes outside keep_rules"):
        decide(numpy.ones((1, 3)), ["present"], keep, overrides)
    with pytest.raises(ClinkdError, match="must be classes outside keep_rules"):
        fit_linear(INPUTS, GOLD, window=3, keep_rules=keep, overrides=overrides)


def test_overrides_are_saved_and_an_older_file_has_none(tmp_path):
    model = fit_linear(INPUTS, GOLD, window=3, l2=1e-3, keep_rules=["possible"], overrides=["absent"])
    model.save(tmp_path / "clf")
    loaded = LinearAssertion.load(tmp_path / "clf")
    assert (loaded.keep_rules, loaded.overrides) == (("possible",), ("absent",))
    assert loaded.with_keep_rules(("possible",)).overrides == ()
    settings = tmp_path / "clf" / "classifier.json"
    settings.write_text(settings.read_text().replace(' "overrides": [\n  "absent"\n ],\n', ""))
    assert "overrides" not in settings.read_text()
    assert LinearAssertion.load(tmp_path / "clf").overrides == ()
