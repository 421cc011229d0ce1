"""Encoder FLOPs: the formula against a hand count, the shapes of Hugging
Face configs, and a real pass against torch's own FLOP counter."""
import pytest

from spacy_clinkd.benchmark.engine import count_encoder_pass, find_encoder
from spacy_clinkd.benchmark.flops import EncoderDims, encoder_dims, encoder_flops
from spacy_clinkd.models.inference import hf_shim
from tests.util import NOTE_TEXTS, random_head_pipeline


def test_flops_formula_matches_a_hand_count():
    # H = 2, I = 3, one layer, one window of L = 2 pieces; (m×k)@(k×n) costs 2·m·k·n:
    # Q, K, V, O: 4 × 2·2·2·2 = 64; FFN: 2·2·2·3 + 2·2·3·2 = 48;
    # scores Q·Kᵀ (2×2 @ 2×2): 16; weighted sum (2×2 @ 2×2): 16. Total 144.
    dims = EncoderDims(hidden=2, intermediate=3, layers=1)
    assert encoder_flops(dims, batch=1, length=2) == 144
    # L = 4: projections 4 × 2·4·2·2 = 128, FFN 2 × 2·4·2·3 = 96, attention 2 × 2·4·4·2 = 128
    assert encoder_flops(dims, batch=1, length=4) == 352
    # linear in layers and windows
    assert encoder_flops(EncoderDims(2, 3, 2), batch=3, length=2) == 6 * 144


def test_encoder_dims_of_bert_and_distilbert(tiny_bert, tiny_distilbert):
    from transformers import AutoConfig

    # both tiny encoders: hidden 16, FFN 32, 4 layers, under their own attribute names
    assert encoder_dims(AutoConfig.from_pretrained(tiny_bert)) == EncoderDims(16, 32, 4)
    assert encoder_dims(AutoConfig.from_pretrained(tiny_distilbert)) == EncoderDims(16, 32, 4)
    assert encoder_dims(object()) is None


def test_flops_of_a_pass_match_torch_flop_counter(tiny_bert):
    """Every forward of a real pass is recorded, with its padded shape: the
    FLOPs equal what torch counts in the encoder's matmuls."""
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import AutoTokenizer, BertModel

    nlp = random_head_pipeline(tiny_bert, scale=3.0)
    # one padded batch per call, as spacy-transformers makes it (LengthBatched
    # would nest the encoder under another module name in the counter)
    nlp.get_pipe("clinkd_ner").batch_by_length = False
    # the same weights with eager attention, whose matmuls torch's counter sees (not CPU SDPA's)
    hf_shim(nlp.get_pipe("clinkd_ner").model)._model = BertModel.from_pretrained(tiny_bert, attn_implementation="eager")
    assert find_encoder(nlp).config._attn_implementation == "eager"
    with FlopCounterMode(display=False) as counter:
        docs, summary = count_encoder_pass(nlp, NOTE_TEXTS, batch_size=2)
    assert len(docs) == len(NOTE_TEXTS)
    assert summary["flops_per_pass"] == sum(counter.get_flop_counts()["BertModel.encoder"].values())
    # each short note is one window: [CLS] pieces [SEP]; batches of 2 padded to their longest
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    lengths = [len(tokenizer(text)["input_ids"]) for text in NOTE_TEXTS]
    padded = sum(len(lengths[i : i + 2]) * max(lengths[i : i + 2]) for i in range(0, len(lengths), 2))
    assert len(set(lengths)) > 1, "equal lengths would leave nothing padded"
    assert summary["forwards"] == 3
    assert (summary["pieces_real"], summary["pieces_computed"]) == (sum(lengths), padded)
    assert summary["padding_waste"] == pytest.approx(1 - sum(lengths) / padded)
