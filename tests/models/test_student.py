import re

import pytest
import torch
from transformers import AutoModel

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.student import build_student, count_layers, every_other_layer, slice_layers


def test_every_other_layer():
    assert every_other_layer(6) == [0, 2, 4]
    assert every_other_layer(12) == [0, 2, 4, 6, 8, 10]


# "encoder.layer.3.attention.self.query.weight" (BERT), "transformer.layer.3.ffn.lin1.bias" (DistilBERT)
LAYER_KEY = re.compile(r"^(encoder|transformer)\.layer\.(\d+)\.(.+)$")


def assert_student_is_slice(teacher, student, kept: list[int]) -> None:
    """The student holds exactly the teacher's embeddings (and pooler) and, as
    its layer i, the tensors of the teacher's layer kept[i]; none of a dropped
    layer's weight matrices is anywhere in it."""
    teacher_state, student_state = teacher.state_dict(), student.state_dict()
    expected = {}
    for key, tensor in teacher_state.items():
        match = LAYER_KEY.match(key)
        if match is None:
            expected[key] = tensor
        elif int(match[2]) in kept:
            expected[f"{match[1]}.layer.{kept.index(int(match[2]))}.{match[3]}"] = tensor
    assert sorted(student_state) == sorted(expected)
    for key, tensor in student_state.items():
        assert torch.equal(tensor, expected[key]), key
    # Only the (random) weight matrices tell layers apart: LayerNorms start at
    # ones and biases at zeros in every layer.
    dropped = [
        tensor
        for key, tensor in teacher_state.items()
        if (match := LAYER_KEY.match(key)) and int(match[2]) not in kept and tensor.dim() == 2
    ]
    assert dropped
    for tensor in dropped:
        assert not any(torch.equal(tensor, kept_tensor) for kept_tensor in student_state.values())


@pytest.mark.parametrize("model_type", ["bert", "distilbert", "mpnet"])
def test_build_student_keeps_the_chosen_layers(model_type, tiny_bert, tiny_distilbert, tiny_mpnet, tmp_path):
    source = {"bert": tiny_bert, "distilbert": tiny_distilbert, "mpnet": tiny_mpnet}[model_type]
    summary = build_student(source, tmp_path / "student", layers="every-other")
    assert summary["kept_layers"] == [0, 2]
    assert count_layers(tmp_path / "student") == 2
    teacher = AutoModel.from_pretrained(str(source))
    student = AutoModel.from_pretrained(str(tmp_path / "student"))
    assert summary["teacher_layers"] == 4
    assert summary["teacher_parameters"] == sum(p.numel() for p in teacher.parameters())
    assert summary["student_parameters"] == sum(p.numel() for p in student.parameters())
    # student layer 0 is teacher layer 0, student layer 1 teacher layer 2
    assert_student_is_slice(teacher, student, [0, 2])
    assert (tmp_path / "student" / "tokenizer.json").exists()


def test_build_student_explicit_layers(tiny_bert, tmp_path):
    summary = build_student(tiny_bert, tmp_path / "s", layers="1,3")
    assert summary["kept_layers"] == [1, 3]
    assert count_layers(tmp_path / "s") == 2
    teacher = AutoModel.from_pretrained(str(tiny_bert))
    assert_student_is_slice(teacher, AutoModel.from_pretrained(str(tmp_path / "s")), [1, 3])


@pytest.mark.parametrize("keep", [[], [4], [2, 1], [1, 1]])
def test_slice_layers_rejects_bad_indices(tiny_bert, keep):
    model = AutoModel.from_pretrained(str(tiny_bert))
    with pytest.raises(ClinkdError, match=r"Cannot keep layers .* of a model with 4 layers"):
        slice_layers(model, keep)
