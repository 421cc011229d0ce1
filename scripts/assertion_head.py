"""Candidate (b) of the assertion comparison (issue 11): a trained assertion
head on the shipped student's encoder, fine-tuned on MACCROBAT polarity.

Each gold entity becomes one input: its sentence (the pipeline's tokenizer
and sentence boundaries), cut to 96 wordpieces before and 64 after the
entity, with marker pieces around the entity:

    [CLS] left [unused0] entity [unused1] right [SEP]

The class scores are a linear layer on [CLS] ⊕ the first marker's vector;
encoder and head are fine-tuned together with cross-entropy (AdamW,
linear warm-up over 10 % of the steps, then linear decay). The epoch is
chosen on dev (absent F1); test is scored once, at that epoch. Scored like
`clinkd_assertion` (`spacy_clinkd.evaluation.assertion.score_assertions`).

    python scripts/assertion_head.py training/en_clinkd_ner corpus/maccrobat/train.spacy \\
        corpus/maccrobat/dev.spacy corpus/maccrobat/test.spacy metrics/assertion_head.json

It is a measurement, not a shipped component: the rules scored higher on dev
(docs/RESULTS.md, run 9), and a head that fine-tunes the encoder would need
its own copy of it at inference (a second encoder pass per sentence).
"""
import argparse
import json
import random
import time
from pathlib import Path

import torch
from spacy.tokens import DocBin

from spacy_clinkd.corpora.spans import gold_assertions
from spacy_clinkd.evaluation.assertion import score_assertions
from spacy_clinkd.pipeline.assertion import ASSERTIONS, PRESENT
from spacy_clinkd.pipeline.loading import encoder_from_pipeline, load_pipeline

LEFT, ENTITY, RIGHT = 96, 32, 64


def marker_ids(tokenizer) -> tuple[int, int]:
    ids = tokenizer.convert_tokens_to_ids(["[unused0]", "[unused1]"])
    if tokenizer.unk_token_id in ids:
        raise SystemExit("the encoder's vocabulary has no [unused0]/[unused1] pieces for the entity markers")
    return ids[0], ids[1]


def examples(nlp, tokenizer, path: Path) -> list[tuple[list[int], int, int]]:
    """(piece ids, position of the opening marker, class index) per gold entity."""
    open_id, close_id = marker_ids(tokenizer)

    def pieces(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    out = []
    sentencizer = nlp.get_pipe("sentencizer")
    for gold in DocBin().from_disk(path).get_docs(nlp.vocab):
        truth = gold_assertions(gold) or {}
        doc = sentencizer(nlp.make_doc(gold.text))
        for ent in gold.ents:
            span = doc.char_span(ent.start_char, ent.end_char, alignment_mode="expand")
            sent = doc[span.start].sent
            left = pieces(gold.text[sent.start_char : ent.start_char])[-LEFT:]
            middle = pieces(gold.text[ent.start_char : ent.end_char])[:ENTITY]
            right = pieces(gold.text[ent.end_char : max(sent.end_char, ent.end_char)])[:RIGHT]
            ids = [tokenizer.cls_token_id, *left, open_id, *middle, close_id, *right, tokenizer.sep_token_id]
            label = truth.get((ent.start_char, ent.end_char), PRESENT)
            out.append((ids, 1 + len(left), ASSERTIONS.index(label)))
    return out


def batches(data, size: int, rng: random.Random | None = None):
    """Padded batches of `data`, shuffled by `rng` if given."""
    data = list(data)
    if rng is not None:
        rng.shuffle(data)
    for i in range(0, len(data), size):
        batch = data[i : i + size]
        width = max(len(ids) for ids, _, _ in batch)
        input_ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, (ids, _, _) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            mask[row, : len(ids)] = 1
        yield input_ids, mask, torch.tensor([p for _, p, _ in batch]), torch.tensor([y for _, _, y in batch])


class AssertionHead(torch.nn.Module):
    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.output = torch.nn.Linear(2 * encoder.config.hidden_size, len(ASSERTIONS))

    def forward(self, input_ids, mask, marker):
        hidden = self.encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
        rows = torch.arange(len(marker))
        return self.output(torch.cat([hidden[:, 0], hidden[rows, marker]], dim=-1))


def score(model: AssertionHead, data) -> dict:
    model.eval()
    predicted: list[int] = []
    with torch.no_grad():
        for input_ids, mask, marker, _ in batches(data, 64):
            predicted.extend(model(input_ids, mask, marker).argmax(-1).tolist())
    model.train()
    return score_assertions([(ASSERTIONS[y], ASSERTIONS[p]) for (_, _, y), p in zip(data, predicted)])


def main(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    encoder, tokenizer = encoder_from_pipeline(args.model)
    nlp = load_pipeline(args.model, exclude=["clinkd_ner", "clinkd_assertion"])
    train, dev, test = (examples(nlp, tokenizer, p) for p in (args.train, args.dev, args.test))
    model = AssertionHead(encoder.float()).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * -(-len(train) // args.batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
    )
    history, best, best_state, best_dev = [], -1.0, None, None
    start = time.perf_counter()
    for epoch in range(args.epochs):
        for input_ids, mask, marker, gold in batches(train, args.batch_size, rng):
            loss = torch.nn.functional.cross_entropy(model(input_ids, mask, marker), gold)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        dev_scores = score(model, dev)
        absent = dev_scores["per_class"]["absent"]["f"]
        history.append({"epoch": epoch, "dev_absent_f": absent, "seconds": round(time.perf_counter() - start, 1)})
        print(history[-1], flush=True)
        if absent > best:
            best, best_dev = absent, dev_scores
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    result = {
        "model": str(args.model),
        "settings": {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "seed": args.seed},
        "n_examples": {"train": len(train), "dev": len(dev), "test": len(test)},
        "history": history,
        "dev": best_dev,
        "test": score(model, test),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    for split in ("dev", "test"):
        print(split, {c: round(s["f"], 3) for c, s in result[split]["per_class"].items()})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the assembled pipeline (its encoder, tokenizer and sentencizer)")
    parser.add_argument("train", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("test", type=Path)
    parser.add_argument("output", type=Path, help="scores JSON to write")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
