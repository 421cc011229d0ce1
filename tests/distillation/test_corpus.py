"""`clinkd.DistillationCorpus.v1`: examples that carry their teacher's logits."""
import numpy
import pytest
from spacy.training import Example
from spacy.util import registry

from spacy_clinkd.corpora.transfer import create_transfer_corpus
from spacy_clinkd.distillation.corpus import DistillationCorpus
from spacy_clinkd.distillation.teachers import PipelineTargets, SpanFileTargets
from spacy_clinkd.pipeline.ner import TEACHER_LOGITS
from tests.util import DISTILLATION_DATA, TRAIN_DATA, make_ner_nlp


@pytest.fixture(scope="module")
def student(tiny_distilbert):
    nlp = make_ner_nlp(tiny_distilbert)
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA])
    return nlp


def test_registered_reader_builds_the_corpus(corpora, teacher_dir):
    reader = registry.readers.get("clinkd.DistillationCorpus.v1")
    corpus = reader(str(corpora["train"]), teacher=PipelineTargets(path=teacher_dir), teacher_batch_size=2)
    assert isinstance(corpus, DistillationCorpus) and corpus.teacher_batch_size == 2


def test_examples_carry_the_teachers_logits(student, corpora, teacher_dir, tmp_path):
    teacher = PipelineTargets(path=teacher_dir)
    transfer = create_transfer_corpus(str(DISTILLATION_DATA / "transfer"), pattern="*.txt")
    corpus = DistillationCorpus(corpora["train"], teacher=teacher, transfer=transfer, targets_cache=tmp_path)
    examples = list(corpus(student))
    assert [eg.reference.text for eg in examples[:3]] == [t for t, _ in TRAIN_DATA]
    assert len(examples) == 5  # 3 gold + 2 transfer notes
    direct = teacher([eg.predicted for eg in examples])
    for eg, expected in zip(examples, direct):
        logits = eg.predicted.user_data[TEACHER_LOGITS]
        assert logits.shape == (len(eg.predicted), len(student.get_pipe("clinkd_ner").tags))
        numpy.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
    assert [bool(eg.reference.ents) for eg in examples] == [True, True, True, False, False]
    assert corpus.counts()["labelled_now"] == 5
    # A second pass (the next epoch, or spaCy re-reading the dev corpus) runs no teacher.
    teacher.calls = 0
    again = list(corpus(student))
    assert teacher.calls == 0 and corpus.counts()["labelled_now"] == 5 and len(again) == 5


def test_uncovered_docs(student, corpora, tmp_path):
    """A span-file teacher covers only the texts it has: a gold doc without a
    target keeps its CE (no logits), a transfer chunk without one is left out
    and counted."""
    teacher = SpanFileTargets(DISTILLATION_DATA / "spans.jsonl")
    transfer = create_transfer_corpus(str(DISTILLATION_DATA / "transfer"), pattern="*.txt")
    extra = tmp_path / "train.spacy"
    from tests.util import write_corpus

    write_corpus(extra, TRAIN_DATA + [("has diabetes", [(4, 12, "DISEASE")])])
    corpus = DistillationCorpus(extra, teacher=teacher, transfer=transfer)
    examples = list(corpus(student))
    assert [TEACHER_LOGITS in eg.predicted.user_data for eg in examples] == [True, True, True, False]
    counts = corpus.counts()
    assert (counts["gold_docs"], counts["transfer_chunks"], counts["transfer_uncovered"]) == (4, 0, 2)
    assert counts["teacher"]["uncovered_docs"] == 3


def test_before_the_student_is_initialized_only_gold_is_read(tiny_distilbert, corpora, teacher_dir):
    """spaCy's initialize reads the train corpus for labels before the
    student has a tag set to bind the teacher to."""
    fresh = make_ner_nlp(tiny_distilbert)
    teacher = PipelineTargets(path=teacher_dir)
    transfer = create_transfer_corpus(str(DISTILLATION_DATA / "transfer"), pattern="*.txt")
    corpus = DistillationCorpus(corpora["train"], teacher=teacher, transfer=transfer)
    examples = list(corpus(fresh))
    assert len(examples) == 3 and all(TEACHER_LOGITS not in eg.predicted.user_data for eg in examples)
    # Labels known but no weights yet: still inside initialize.
    fresh.get_pipe("clinkd_ner").cfg["labels"] = ["DISEASE", "MEDICATION", "SYMPTOM"]
    assert all(TEACHER_LOGITS not in eg.predicted.user_data for eg in corpus(fresh))
    assert teacher.calls == 0
