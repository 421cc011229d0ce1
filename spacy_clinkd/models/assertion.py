"""The learned assertion classifier: a small encoder over an entity's marked context.

One input per entity (the approach of the i2b2 2010 assertion systems built on
BERT): the words of the entity's scope (its sentence, cut at line breaks), at
most `window` words on each side, with the entity between `[E]` and `[/E]`,
after a prefix that carries what the cue rules say (unless `rule_input` is off)
and the entity's label:

    "absent symptom : she denies [E] chest pain [/E] or fever ."

The encoder reads it; the [CLS] vector goes through one linear layer to the
logits of present / absent / possible. The prefix gives the model the rules'
verdict as an input (so it learns where they go wrong), the markers tell it
which entity of the sentence is asked about.

The classifier is saved as a Hugging Face folder (`encoder/`: config,
tokenizer, safetensors weights) plus `head.safetensors` (the linear layer) and
`classifier.json` (window, max length, classes): no pickles, loaded offline.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from spacy.tokens import Doc, Span

from .assertion_linear import CLASSES, SETTINGS_FILE, read_settings
from .integrity import check_encoder_folder
from .threads import register_fork_handler

register_fork_handler()

OPEN, CLOSE = "[E]", "[/E]"
HEAD_FILE = "head.safetensors"
ENCODER_DIR = "encoder"


def marked_context(doc: Doc, ent: Span, rule: str | None, scope: tuple[int, int], window: int) -> str:
    """The classifier's input text for one entity (module docstring).

    rule (Optional[str]): the rules' verdict, or None for a classifier that
        does not read it (the prefix is then the label alone).
    scope (Tuple[int, int]): token offsets of the entity's scope.
    window (int): the most words kept on each side of the entity.
    """
    start = max(scope[0], ent.start - window)
    end = min(scope[1], ent.end + window)
    left = doc[start : ent.start].text
    right = doc[ent.end : end].text
    prefix = f"{ent.label_.lower()} :" if rule is None else f"{rule} {ent.label_.lower()} :"
    return f"{prefix} {left} {OPEN} {ent.text} {CLOSE} {right}".strip()


class AssertionClassifier(torch.nn.Module):
    """Encoder + linear layer over [CLS]: marked contexts -> (n, 3) logits."""

    kind = "encoder"
    # the encoder classifier decides every class (`assertion_linear.decide`)
    keep_rules: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()

    def __init__(
        self, encoder, tokenizer, *, window: int = 24, max_length: int = 96, rule_input: bool = True
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.window = int(window)
        self.rule_input = bool(rule_input)
        self.max_length = int(max_length)
        self.head = torch.nn.Linear(encoder.config.hidden_size, len(CLASSES))

    @classmethod
    def from_encoder(
        cls, path: str | Path, *, window: int = 24, max_length: int = 96, rule_input: bool = True
    ) -> AssertionClassifier:
        """A new classifier (random head) on a local Hugging Face encoder folder,
        checked like every encoder folder (safetensors, no custom code).
        rule_input: whether its input carries the rules' verdict."""
        from transformers import AutoModel, AutoTokenizer

        check_encoder_folder(Path(path))
        encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        return cls(encoder, tokenizer, window=window, max_length=max_length, rule_input=rule_input)

    def forward(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return self.head(hidden[:, 0])

    @torch.no_grad()
    def probabilities(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """softmax(logits), (n, 3), in batches, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            out = [torch.softmax(self(texts[i : i + batch_size]), dim=-1) for i in range(0, len(texts), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out) if out else torch.zeros((0, len(CLASSES)))

    def save(self, path: str | Path) -> None:
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(path / ENCODER_DIR, safe_serialization=True)
        self.tokenizer.save_pretrained(path / ENCODER_DIR)
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(path / HEAD_FILE))
        settings = {
            "kind": self.kind, "window": self.window, "max_length": self.max_length, "rule_input": self.rule_input,
            "classes": list(CLASSES),
        }
        (path / SETTINGS_FILE).write_text(json.dumps(settings, indent=2), encoding="utf8")

    @classmethod
    def load(cls, path: str | Path) -> AssertionClassifier:
        from safetensors.torch import load_file

        path = Path(path)
        settings = read_settings(path, HEAD_FILE)
        model = cls.from_encoder(
            path / ENCODER_DIR, window=settings["window"], max_length=settings["max_length"],
            rule_input=settings.get("rule_input", True),
        )
        model.head.load_state_dict(load_file(str(path / HEAD_FILE)))
        model.eval()
        return model
