"""clinkd_ner on tiny random-weight BERT and DistilBERT models."""
import pickle

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.pipeline.ner import ClinkdNER

TRAIN_DATA = [
    ("the patient has fever and cough", [(16, 21, "SYMPTOM"), (26, 31, "SYMPTOM")]),
    ("took aspirin 5mg with insulin", [(5, 12, "MEDICATION"), (22, 29, "MEDICATION")]),
    ("no chest pain, has diabetes", [(3, 13, "SYMPTOM"), (19, 27, "DISEASE")]),
]


def make_nlp(encoder_dir) -> spacy.Language:
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("clinkd_ner", config={"model": {"tok2vec": {"name": str(encoder_dir)}}})
    return nlp


def examples(nlp):
    return [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]


@pytest.fixture(scope="module")
def trained(tiny_encoder):
    """A pipeline overfit on three docs."""
    import torch

    torch.manual_seed(0)  # the encoder's own dropout
    nlp = make_nlp(tiny_encoder)
    train = examples(nlp)
    nlp.initialize(lambda: train)
    # encoder at 3e-3, the zero-initialised head at head_lr_scale (50) times that
    optimizer = Adam(0.003)
    losses_seen = []
    for _ in range(120):
        losses = {}
        nlp.update(train, sgd=optimizer, losses=losses)
        losses_seen.append(losses["clinkd_ner"])
    return nlp, losses_seen


def ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def test_overfit_to_near_zero_loss(trained):
    nlp, losses = trained
    assert losses[0] > 1.0
    assert losses[-1] < 0.05
    for text, gold in TRAIN_DATA:
        assert ents(nlp(text)) == gold


def test_labels_and_tags(trained):
    ner = trained[0].get_pipe("clinkd_ner")
    assert ner.labels == ("DISEASE", "MEDICATION", "SYMPTOM")
    assert len(ner.tags) == 7


def test_distillable_learns_from_a_teacher_pipe(trained, tiny_encoder):
    """`is_distillable` tells spaCy v4's `Language.distill` to call
    `distill(teacher_pipe, examples)`; that call must make a fresh student
    learn the teacher pipe's tags, with no gold to learn from."""
    import torch

    teacher_nlp, _ = trained
    teacher = teacher_nlp.get_pipe("clinkd_ner")
    torch.manual_seed(0)  # the encoder's own dropout
    nlp = make_nlp(tiny_encoder)
    nlp.initialize(lambda: examples(nlp))
    student = nlp.get_pipe("clinkd_ner")
    assert student.is_distillable
    no_gold = [Example.from_dict(nlp.make_doc(t), {}) for t, _ in TRAIN_DATA]
    optimizer = Adam(0.003)
    kd = [student.distill(teacher, no_gold, sgd=optimizer)["clinkd_ner_kd"] for _ in range(15)]
    assert kd[-1] < 0.05 * kd[0]
    for text, _ in TRAIN_DATA:
        assert ents(nlp(text)) == ents(teacher_nlp(text))


def test_confidences_stored(trained):
    nlp, _ = trained
    doc = nlp(TRAIN_DATA[0][0])
    group = doc.spans["clinkd_ner"]
    assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
    scores = group.attrs["scores"]
    assert len(scores) == len(doc.ents) == 2
    assert all(0.5 < s <= 1.0 for s in scores)


def test_predict_does_not_mutate(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("clinkd_ner")
    doc = nlp.make_doc(TRAIN_DATA[0][0])
    scores = ner.predict([doc])
    assert scores[0].shape == (len(doc), len(ner.tags))
    assert list(doc.ents) == [] and "clinkd_ner" not in doc.spans


def test_pipe_equals_call(trained):
    nlp, _ = trained
    texts = [t for t, _ in TRAIN_DATA] * 4 + ["", "fever"]
    piped = list(nlp.pipe(texts, batch_size=8))
    single = [nlp(t) for t in texts]
    assert [ents(d) for d in piped] == [ents(d) for d in single]
    for a, b in zip(piped, single):
        numpy.testing.assert_allclose(
            a.spans["clinkd_ner"].attrs["scores"], b.spans["clinkd_ner"].attrs["scores"], rtol=1e-4
        )


def test_empty_doc_and_empty_batch(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("clinkd_ner")
    assert list(nlp("").ents) == []
    assert list(nlp.pipe([])) == []
    assert ner.predict([]) == []
    losses = ner.update([Example.from_dict(nlp.make_doc(""), {"entities": []})])
    assert losses["clinkd_ner"] == 0.0


def test_doc_longer_than_512_wordpieces(trained):
    nlp, _ = trained
    text = "the patient has fever and cough . " * 110
    doc = nlp.make_doc(text)
    ner = nlp.get_pipe("clinkd_ner")
    trf = ner.model.get_ref("tok2vec").get_ref("transformer")
    assert len(trf.tokenizer(text)["input_ids"]) > 512
    scores = ner.predict([doc])
    assert scores[0].shape == (len(doc), len(ner.tags))
    doc = nlp(text)
    # Windows cut the repeated sentence at arbitrary points; nearly all of
    # the 110 mentions must still be found across the >512-piece document.
    assert sum(1 for e in doc.ents if e.text == "fever") >= 100


def test_window_over_the_wordpiece_limit_is_halved_not_truncated(trained):
    # One line of 40 letter soup words (3 pieces each, 120 in all) before a
    # known sentence: with a 64-piece limit, spacy-transformers would drop the
    # pieces past 64, and with them every token of the sentence.
    nlp, _ = trained
    ner = nlp.get_pipe("clinkd_ner")
    trf = ner.model.get_ref("tok2vec").get_ref("transformer")
    text = "qzx " * 40 + "the patient has fever and cough"
    doc = nlp.make_doc(text)
    assert len(trf.tokenizer(text)["input_ids"]) > 64
    saved = trf.tokenizer.model_max_length
    trf.tokenizer.model_max_length = 64
    try:
        windows = trf.attrs["get_spans"]([doc])[0]
        assert len(windows) > 1
        assert all(len(trf.tokenizer(w.text)["input_ids"]) <= 64 for w in windows)
        # (the toy model's guesses on the letter soup are not under test)
        sentence = [(e.text, e.label_) for e in nlp(text).ents if e.start_char >= len("qzx " * 40)]
        assert sentence == [("fever", "SYMPTOM"), ("cough", "SYMPTOM")]
    finally:
        trf.tokenizer.model_max_length = saved


def test_pipe_in_two_processes_equals_one(trained):
    # Linux forks the workers (their torch threads: tests/models/test_threads.py)
    nlp, _ = trained
    texts = [t for t, _ in TRAIN_DATA] * 3
    assert [ents(d) for d in nlp.pipe(texts, n_process=2, batch_size=2)] == [ents(d) for d in nlp.pipe(texts)]


def test_pipeline_pickles(trained):
    # the spawn start method (macOS, Windows) pickles the pipeline for workers
    nlp, _ = trained
    loaded = pickle.loads(pickle.dumps(nlp))
    for text, gold in TRAIN_DATA:
        assert ents(loaded(text)) == gold


def test_to_disk_from_disk_round_trip(trained, tmp_path):
    nlp, _ = trained
    nlp.to_disk(tmp_path / "nlp")
    loaded = spacy.load(tmp_path / "nlp")
    assert [t.text for t in loaded.make_doc("5mg aspirin/day")] == ["5", "mg", "aspirin", "/", "day"]
    for text, _ in TRAIN_DATA:
        assert ents(loaded(text)) == ents(nlp(text))


def test_to_bytes_from_bytes_round_trip(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("clinkd_ner")
    fresh = spacy.util.load_model_from_config(nlp.config, auto_fill=True)
    fresh.get_pipe("clinkd_ner").from_bytes(ner.to_bytes())
    for text, _ in TRAIN_DATA:
        doc_a, doc_b = nlp.make_doc(text), fresh.make_doc(text)
        numpy.testing.assert_allclose(
            ner.predict([doc_a])[0], fresh.get_pipe("clinkd_ner").predict([doc_b])[0], rtol=1e-5, atol=1e-6
        )


def test_add_label_after_initialize_raises(trained):
    ner = trained[0].get_pipe("clinkd_ner")
    with pytest.raises(ClinkdError):
        ner.add_label("NEW")


def test_initialize_without_labels_raises(tiny_bert):
    nlp = make_nlp(tiny_bert)
    eg = Example.from_dict(nlp.make_doc("fever"), {"entities": []})
    with pytest.raises(ClinkdError, match="no labels"):
        nlp.initialize(lambda: [eg])


def test_get_loss_masks_unknown_tokens(tiny_bert):
    nlp = make_nlp(tiny_bert)
    train = examples(nlp)
    nlp.initialize(lambda: train)
    ner: ClinkdNER = nlp.get_pipe("clinkd_ner")
    # "fever" has a missing gold annotation (None): it must get no gradient;
    # "took" is known O and "aspirin" known B-MEDICATION: both get one.
    gold = Doc(nlp.vocab, words=["took", "aspirin", "fever"], ents=["O", "B-MEDICATION", None])
    eg = Example(nlp.make_doc("took aspirin fever"), gold)
    scores = ner.predict([eg.predicted])
    loss, d_scores = ner.get_loss([eg], scores)
    assert d_scores[0].shape == scores[0].shape
    assert loss > 0
    row_norms = numpy.abs(d_scores[0]).sum(axis=1).tolist()
    assert row_norms[0] > 0 and row_norms[1] > 0
    assert row_norms[2] == 0.0


def test_teacher_student_loss_zero_for_identical_scores(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("clinkd_ner")
    scores = ner.predict([nlp.make_doc(t) for t, _ in TRAIN_DATA])
    loss, d = ner.get_teacher_student_loss(scores, scores, temperature=2.0)
    assert loss == pytest.approx(0.0, abs=1e-5)
    assert all(numpy.abs(x).max() < 1e-5 for x in d)


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_head_learning_rate_scale(tiny_bert, scale):
    """The output layer moves `head_lr_scale` times as far as with scale 1;
    the encoder's update does not depend on it."""
    import torch
    from thinc.api import SGD

    deltas = {}
    for head_scale in (1.0, scale):
        torch.manual_seed(0)  # the encoder's own dropout
        nlp = make_nlp(tiny_bert)
        nlp.get_pipe("clinkd_ner").cfg["head_lr_scale"] = head_scale
        train = examples(nlp)
        nlp.initialize(lambda train=train: train)
        ner = nlp.get_pipe("clinkd_ner")
        head = ner.model.get_ref("output_layer")
        hf = ner.model.get_ref("tok2vec").get_ref("transformer").transformer
        w_before = head.get_param("W").copy()
        e_before = hf.embeddings.word_embeddings.weight.detach().clone()
        nlp.update(train, sgd=SGD(0.01, L2=0.0, grad_clip=0.0))
        deltas[head_scale] = (
            numpy.abs(head.get_param("W") - w_before).sum(),
            float((hf.embeddings.word_embeddings.weight.detach() - e_before).abs().sum()),
        )
    assert deltas[1.0][0] > 0
    assert deltas[scale][0] == pytest.approx(scale * deltas[1.0][0], rel=1e-4)
    assert deltas[scale][1] == pytest.approx(deltas[1.0][1], rel=1e-4)


def test_output_labels_decode_over_the_shipped_labels(tiny_bert):
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}})
    nlp.add_pipe(
        "clinkd_ner",
        config={"model": {"tok2vec": {"name": str(tiny_bert)}}, "output_labels": ["SYMPTOM"]},
    )
    train = [Example.from_dict(nlp.make_doc("left arm pain"), {"entities": [(0, 8, "AUX"), (9, 13, "SYMPTOM")]})]
    nlp.initialize(lambda: train)
    ner = nlp.get_pipe("clinkd_ner")
    assert ner.labels == ("AUX", "SYMPTOM") and ner.output_labels == ("SYMPTOM",)
    doc = nlp.make_doc("left arm pain")
    # tags O, B-AUX, I-AUX, B-SYMPTOM, I-SYMPTOM. Token 0: B-SYMPTOM is the
    # single likeliest tag, but O plus the auxiliary tags outweigh it;
    # token 2: a symptom.
    probs = numpy.array(
        [[0.2, 0.25, 0.0, 0.35, 0.2], [0.1, 0.0, 0.8, 0.0, 0.1], [0.05, 0.05, 0.0, 0.9, 0.0]], dtype="float32"
    )
    ner.set_annotations([doc], [numpy.log(probs + 1e-9)])
    assert ents(doc) == [(9, 13, "SYMPTOM")]
    assert doc.spans["clinkd_ner"].attrs["scores"] == [pytest.approx(0.9, abs=1e-5)]
    # the setting survives serialization
    again = make_nlp(tiny_bert)
    again.get_pipe("clinkd_ner").from_bytes(ner.to_bytes())
    assert again.get_pipe("clinkd_ner").output_labels == ("SYMPTOM",)


def test_output_label_not_trained_on_raises(tiny_bert):
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}})
    nlp.add_pipe(
        "clinkd_ner",
        config={"model": {"tok2vec": {"name": str(tiny_bert)}}, "output_labels": ["DISEASE"]},
    )
    eg = Example.from_dict(nlp.make_doc("fever"), {"entities": [(0, 5, "SYMPTOM")]})
    with pytest.raises(ClinkdError, match="output_labels .*DISEASE"):
        nlp.initialize(lambda: [eg])
