"""A student encoder sliced from a trained pipeline starts from the
teacher's *fine-tuned* layers ("shrink and fine-tune")."""
import json

import pytest
import spacy
import torch
from transformers import AutoModel, AutoTokenizer
from typer.testing import CliRunner

import spacy_clinkd.cli.student  # noqa: F401  (attaches the command to the app)
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.student import save_student
from spacy_clinkd.pipeline.loading import encoder_from_pipeline, is_spacy_pipeline


def test_student_from_pipeline_takes_fine_tuned_layers(teacher_dir, tiny_bert, tmp_path):
    assert is_spacy_pipeline(teacher_dir) and not is_spacy_pipeline(tiny_bert)
    fine_tuned, tokenizer = encoder_from_pipeline(teacher_dir)
    reference = {name: p.detach().clone() for name, p in fine_tuned.named_parameters()}
    pretrained = AutoModel.from_pretrained(str(tiny_bert))
    summary = save_student(fine_tuned, tokenizer, tmp_path / "student", layers="1,3", source="x")
    assert summary["kept_layers"] == [1, 3] and summary["teacher_layers"] == 4
    student = AutoModel.from_pretrained(str(tmp_path / "student"))
    assert student.config.num_hidden_layers == 2
    for i, j in ((0, 1), (1, 3)):
        got = student.encoder.layer[i].attention.self.query.weight
        assert torch.equal(got, reference[f"encoder.layer.{j}.attention.self.query.weight"])
        # the teacher's training moved it away from the pretrained weights
        assert not torch.equal(got, pretrained.encoder.layer[j].attention.self.query.weight)
    assert torch.equal(student.embeddings.word_embeddings.weight, reference["embeddings.word_embeddings.weight"])
    vocab = AutoTokenizer.from_pretrained(str(tmp_path / "student")).get_vocab()
    assert vocab == AutoTokenizer.from_pretrained(str(tiny_bert)).get_vocab()


def test_build_student_cli_accepts_a_pipeline(teacher_dir, tmp_path):
    result = CliRunner().invoke(app, ["build-student", str(teacher_dir), str(tmp_path / "s"), "--layers", "0,2"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    summary = json.loads((tmp_path / "s" / "clinkd_student.json").read_text(encoding="utf8"))
    assert summary["source"] == str(teacher_dir) and summary["kept_layers"] == [0, 2]
    assert AutoModel.from_pretrained(str(tmp_path / "s")).config.num_hidden_layers == 2


def test_encoder_from_pipeline_errors(tmp_path):
    blank = tmp_path / "blank"
    spacy.blank("en").to_disk(blank)
    with pytest.raises(ClinkdError, match="has no component 'clinkd_ner'"):
        encoder_from_pipeline(blank)
    ruler = tmp_path / "ruler"
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler", name="clinkd_ner")
    nlp.to_disk(ruler)
    with pytest.raises(ClinkdError, match="holds no transformer encoder"):
        encoder_from_pipeline(ruler)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.cfg").write_text("[nlp]\nlang = \"xx_not_a_language\"\n", encoding="utf8")
    (broken / "meta.json").write_text("{}", encoding="utf8")
    with pytest.raises(ClinkdError, match="Could not load the pipeline"):
        encoder_from_pipeline(broken)
