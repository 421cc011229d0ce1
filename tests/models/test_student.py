import pytest
import torch
from transformers import AutoModel

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.student import build_student, count_layers, every_other_layer, slice_layers


def test_every_other_layer():
    assert every_other_layer(6) == [0, 2, 4]
    assert every_other_layer(12) == [0, 2, 4, 6, 8, 10]


@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
def test_build_student_keeps_the_chosen_layers(model_type, tiny_bert, tiny_distilbert, tmp_path):
    source = tiny_bert if model_type == "bert" else tiny_distilbert
    summary = build_student(source, tmp_path / "student", layers="every-other")
    assert summary["kept_layers"] == [0, 2]
    assert count_layers(tmp_path / "student") == 2
    teacher = AutoModel.from_pretrained(str(source))
    student = AutoModel.from_pretrained(str(tmp_path / "student"))
    assert summary["student_parameters"] == sum(p.numel() for p in student.parameters())
    layers = (lambda m: m.encoder.layer) if model_type == "bert" else (lambda m: m.transformer.layer)
    # Student layer 1 is teacher layer 2, weights equal.
    for (name, p_student), (_, p_teacher) in zip(
        layers(student)[1].named_parameters(), layers(teacher)[2].named_parameters()
    ):
        assert torch.equal(p_student, p_teacher), name
    assert (tmp_path / "student" / "tokenizer.json").exists()


def test_build_student_explicit_layers(tiny_bert, tmp_path):
    summary = build_student(tiny_bert, tmp_path / "s", layers="1,3")
    assert summary["kept_layers"] == [1, 3]


@pytest.mark.parametrize("keep", [[], [4], [2, 1], [1, 1]])
def test_slice_layers_rejects_bad_indices(tiny_bert, keep):
    model = AutoModel.from_pretrained(str(tiny_bert))
    with pytest.raises(ClinkdError):
        slice_layers(model, keep)
