"""A student encoder sliced from a trained pipeline starts from the
teacher's *fine-tuned* layers ("shrink and fine-tune")."""
import pytest
import spacy
import torch
from transformers import AutoModel, AutoTokenizer

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.student import build_student, encoder_from_pipeline, is_spacy_pipeline


def test_build_student_from_pipeline_takes_fine_tuned_layers(teacher_dir, tiny_bert, tmp_path):
    assert is_spacy_pipeline(teacher_dir) and not is_spacy_pipeline(tiny_bert)
    fine_tuned, _ = encoder_from_pipeline(teacher_dir)
    pretrained = AutoModel.from_pretrained(str(tiny_bert))
    summary = build_student(teacher_dir, tmp_path / "student", layers="1,3")
    assert summary["kept_layers"] == [1, 3] and summary["teacher_layers"] == 4
    student = AutoModel.from_pretrained(str(tmp_path / "student"))
    assert student.config.num_hidden_layers == 2
    for i, j in ((0, 1), (1, 3)):
        got = student.encoder.layer[i].attention.self.query.weight
        assert torch.equal(got, fine_tuned.encoder.layer[j].attention.self.query.weight)
        # the teacher's training moved it away from the pretrained weights
        assert not torch.equal(got, pretrained.encoder.layer[j].attention.self.query.weight)
    assert torch.equal(
        student.embeddings.word_embeddings.weight, fine_tuned.embeddings.word_embeddings.weight
    )
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / "student"))
    assert tokenizer.get_vocab() == AutoTokenizer.from_pretrained(str(tiny_bert)).get_vocab()


def test_encoder_from_pipeline_without_the_component(tmp_path):
    path = tmp_path / "blank"
    spacy.blank("en").to_disk(path)
    with pytest.raises(ClinkdError, match="no component 'clinkd_ner'"):
        encoder_from_pipeline(path)
