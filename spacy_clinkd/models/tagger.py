"""`clinkd.TokenTagger.v1`: token vectors -> linear logits over tags."""

from spacy.tokens import Doc
from thinc.api import Linear, Model, chain, with_array, zero_init
from thinc.types import Floats2d


def build_token_tagger(
    tok2vec: Model[list[Doc], list[Floats2d]], nO: int | None = None
) -> Model[list[Doc], list[Floats2d]]:
    """Unnormalized tag scores per spaCy token (logits, not probabilities:
    distillation needs them before the softmax and its temperature).

    tok2vec (Model[List[Doc], List[Floats2d]]): one vector per token.
    nO (Optional[int]): number of tags; set by the component at initialize.
    RETURNS (Model[List[Doc], List[Floats2d]]): (n_tokens, n_tags) per doc.
    """
    output_layer = Linear(nO=nO, init_W=zero_init)
    model = chain(tok2vec, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    return model
