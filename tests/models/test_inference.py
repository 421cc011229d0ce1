"""LengthBatched: the same outputs as one padded batch, fewer pieces computed."""
import numpy
import pytest
import torch
from transformers import AutoModel

from spacy_clinkd.models.inference import LengthBatched, hf_shim, running
from tests.util import random_head_pipeline


def padded_batch(lengths, width, vocab=100, seed=0):
    rng = numpy.random.default_rng(seed)
    ids = torch.zeros((len(lengths), width), dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.from_numpy(rng.integers(5, vocab, n))
        mask[row, :n] = 1
    return ids, mask


@pytest.mark.parametrize("group_size", [1, 2, 3, 16])
def test_grouped_outputs_equal_one_padded_batch(tiny_encoder, group_size):
    encoder = AutoModel.from_pretrained(tiny_encoder).eval()
    lengths = [3, 17, 9, 17, 1, 12, 5]
    ids, mask = padded_batch(lengths, width=20)
    with torch.no_grad():
        reference = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        grouped = LengthBatched(encoder, group_size=group_size)(ids, mask).last_hidden_state
    assert grouped.shape == reference.shape
    for row, n in enumerate(lengths):
        # real pieces only: what a padding position holds is never read
        torch.testing.assert_close(grouped[row, :n], reference[row, :n], atol=1e-5, rtol=1e-4)


def test_groups_compute_fewer_pieces(tiny_bert):
    encoder = AutoModel.from_pretrained(tiny_bert).eval()
    shapes = []
    encoder.register_forward_pre_hook(lambda m, a, kw: shapes.append(tuple(kw["input_ids"].shape)), with_kwargs=True)
    ids, mask = padded_batch([20, 2, 2, 2], width=20)
    with torch.no_grad():
        LengthBatched(encoder, group_size=2)(ids, mask)
    assert shapes == [(2, 20), (2, 2)]  # 44 pieces computed, not 80


def test_pipeline_predictions_do_not_depend_on_grouping(tiny_bert):
    nlp = random_head_pipeline(tiny_bert, scale=3.0)
    ner = nlp.get_pipe("clinkd_ner")
    texts = ["the patient has fever and cough\nno", "denies chest pain", "took aspirin 5mg with insulin and fever"]
    docs = [nlp.make_doc(t) for t in texts]
    ner.batch_by_length = False
    one_batch = ner.predict(docs)
    ner.batch_by_length = True
    grouped = ner.predict(docs)
    for a, b in zip(one_batch, grouped):
        numpy.testing.assert_allclose(a, b, atol=1e-4)
    fp32 = hf_shim(ner.model)._model
    with running(ner.model, LengthBatched(fp32)):
        assert isinstance(hf_shim(ner.model)._model, LengthBatched)
    assert hf_shim(ner.model)._model is fp32
