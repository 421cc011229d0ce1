"""The linear assertion classifier: multinomial logistic regression over an
entity's cue and context features.

The cue rules see a fixed list of cues and a fixed scope; what they get wrong
on MACCROBAT is mostly how far a cue reaches and which phrasings count
("arthritis and rash subsided", "remained seizure free"). A linear model over
the same evidence learns that from gold: one sparse binary feature vector per
entity (`entity_features`), one weight row per feature and class,

    z = b + Σ_{f ∈ features(entity)} W_f,   p = softmax(z)

fitted by minimising  (1/n) Σ_i −log p_i[y_i] + (λ/2)·‖W‖²  (`fit_linear`).
No encoder pass: the features come from the cue matches the rules compute
anyway (a few microseconds per token, docs/RESULTS.md run 20).

The rules may keep the last word on some classes (`keep_rules`, `decide`):
with `keep_rules = ("possible",)` a hedge the rules find stands, and the model
decides present against absent everywhere else; 5-fold CV over five fold seeds
prefers that to either alone (docs/RESULTS.md run 21). With `overrides =
("absent",)` the model may still call a hedged entity absent ("no signs
suggested arthritis"), which CV prefers again (run 23).

Saved as `classifier.json` (kind, window, l2, keep_rules, overrides, classes,
the feature names) and `weights.safetensors` (W, b): no pickles.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy

from ..errors import ClinkdError, Errors
from ..losses import token_cross_entropy

CLASSES = ("present", "absent", "possible")
KIND = "linear"
SETTINGS_FILE = "classifier.json"
WEIGHTS_FILE = "weights.safetensors"
Array = numpy.ndarray
MAX_BETWEEN = 8  # the most words between a cue and its entity that are features of their own


def classifier_kind(path: str | Path) -> str | None:
    """RETURNS (Optional[str]): the `kind` a classifier folder's settings file
    names ("linear", "encoder"), None if it names none or there is no file
    (an encoder classifier saved before the linear one existed)."""
    settings = Path(path) / SETTINGS_FILE
    return json.loads(settings.read_text(encoding="utf8")).get("kind") if settings.is_file() else None


def read_settings(path: str | Path, weights_file: str) -> dict[str, Any]:
    """The settings of a trained classifier folder, either kind: its
    `classifier.json`, checked to sit beside `weights_file` and to predict
    `CLASSES`.

    RAISES ClinkdError: a file is missing (E455), other classes (E456).
    """
    path = Path(path)
    if not (path / SETTINGS_FILE).exists() or not (path / weights_file).exists():
        raise ClinkdError(Errors.E455.format(path=path))
    settings = json.loads((path / SETTINGS_FILE).read_text(encoding="utf8"))
    if tuple(settings.get("classes", ())) != CLASSES:
        raise ClinkdError(Errors.E456.format(path=path, found=settings.get("classes"), expected=list(CLASSES)))
    return settings


def check_keep_rules(keep_rules: Sequence[str], source: str | Path = "settings") -> tuple[str, ...]:
    """RETURNS (Tuple[str, ...]): `keep_rules` in `CLASSES` order.
    RAISES ClinkdError: a name that is not a class, or every class (nothing
        left for the model to decide) (E460, naming `source`)."""
    keep_rules = keep_rules if isinstance(keep_rules, str) else list(keep_rules)
    if isinstance(keep_rules, str) or set(keep_rules) - set(CLASSES) or len(set(keep_rules)) == len(CLASSES):
        raise ClinkdError(Errors.E460.format(found=keep_rules, path=source, expected=list(CLASSES)))
    return tuple(c for c in CLASSES if c in keep_rules)


def check_overrides(
    overrides: Sequence[str], keep_rules: Sequence[str], source: str | Path = "settings"
) -> tuple[str, ...]:
    """RETURNS (Tuple[str, ...]): `overrides` in `CLASSES` order.
    RAISES ClinkdError: a name that is not a class, a class of `keep_rules`,
        or overrides without `keep_rules` (nothing to override) (E461, naming
        `source`)."""
    overrides = overrides if isinstance(overrides, str) else list(overrides)
    bad = isinstance(overrides, str) or set(overrides) - set(CLASSES) or set(overrides) & set(keep_rules)
    if bad or (overrides and not keep_rules):
        raise ClinkdError(Errors.E461.format(found=overrides, path=source, keep_rules=list(keep_rules)))
    return tuple(c for c in CLASSES if c in overrides)


def decide(
    probabilities: Array, rules: Sequence[str], keep_rules: Sequence[str] = (), overrides: Sequence[str] = ()
) -> list[str]:
    """Each entity's assertion from a classifier's probabilities and the rules'
    verdicts, K = `keep_rules`, O = `overrides`:

        y_i = argmax_c p_i[c]                  if r_i ∈ K and argmax_c p_i[c] ∈ O
        y_i = r_i                              if r_i ∈ K otherwise
        y_i = argmax_{c ∉ K} p_i[c]            otherwise

    (K empty: the classifier's most probable class.)

    probabilities (Array): (n, 3) p, columns in `CLASSES` order.
    rules (Sequence[str]): the rules' verdict of each entity.
    keep_rules (Sequence[str]): K.
    overrides (Sequence[str]): O, the classes the classifier may decide where
        the rules' verdict is kept (none of K).
    RETURNS (List[str]): one class per entity.
    """
    keep_rules = check_keep_rules(keep_rules, "decide")
    overrides = check_overrides(overrides, keep_rules, "decide")
    probabilities = numpy.asarray(probabilities, dtype="float32").reshape(-1, len(CLASSES))
    if len(rules) != len(probabilities):
        raise ValueError(f"{len(rules)} rule verdicts for {len(probabilities)} rows of probabilities")
    allowed = numpy.asarray([c not in keep_rules for c in CLASSES])
    best = numpy.where(allowed, probabilities, -numpy.inf).argmax(-1).tolist()
    top = [CLASSES[k] for k in probabilities.argmax(-1).tolist()]
    return [
        (t if t in overrides else rule) if rule in keep_rules else CLASSES[k]
        for rule, k, t in zip(rules, best, top)
    ]


def _gap_bucket(gap: int) -> str:
    return "0" if gap == 0 else "1-3" if gap <= 3 else "4-8" if gap <= 8 else "9+"


def entity_features(
    words: Sequence[str],
    ent: tuple[int, int],
    label: str,
    rule: str,
    relations: Sequence[Any],
    scope: tuple[int, int],
    window: int,
) -> list[str]:
    """The feature names of one entity.

    words (Sequence[str]): the doc's lower-cased token texts.
    ent (Tuple[int, int]): the entity's token offsets (start, end).
    label (str): the entity label.
    rule (str): the rules' verdict (present / absent / possible).
    relations (Sequence[CueRelation]): the cues pointing at the entity
        (`ClinkdAssertion.cue_relations`): category, start, end, gap, blocked.
    scope (Tuple[int, int]): token offsets of the entity's scope.
    window (int): context words kept on each side of the entity, in scope.
    RETURNS (List[str]): `rule=`, `label=`; per cue its category with its
        words, with its distance bucket and whether a termination cue blocks
        it, and with each word between it and the entity (`B:`; one `<far>`
        feature beyond `MAX_BETWEEN` words); the context words left (`L:`)
        and right (`R:`) and the entity's own words (`E:`).
    """
    start, end = ent
    feats = {f"rule={rule}", f"label={label}"}
    for rel in relations:
        cue = " ".join(words[rel.start : rel.end])
        feats.add(f"cue={rel.category}|{cue}")
        feats.add(f"kind={rel.category}|blocked={rel.blocked}")
        feats.add(f"kind={rel.category}|gap={_gap_bucket(rel.gap)}|blocked={rel.blocked}")
        if rel.gap > MAX_BETWEEN:
            feats.add(f"B:{rel.category}|<far>")
        else:  # the rel.gap words between a cue and the entity, on whichever side it stands
            feats.update(f"B:{rel.category}|{w}" for w in words[rel.end : start] or words[end : rel.start])
    feats.update(f"L:{w}" for w in words[max(scope[0], start - window) : start])
    feats.update(f"R:{w}" for w in words[end : min(scope[1], end + window)])
    feats.update(f"E:{w}" for w in words[start:end])
    return sorted(feats)


class LinearAssertion:
    """Multinomial logistic regression over `entity_features`.

    features (Sequence[str]): the feature names, one weight row each.
    weights (Array): (n_features, 3) W.
    bias (Array): (3,) b.
    window (int): the context window of `entity_features`.
    l2 (float): the λ it was fitted with (kept for the record).
    keep_rules (Sequence[str]): the classes where the rules' verdict stands (`decide`).
    overrides (Sequence[str]): the classes it may decide there all the same (`decide`).
    source (Union[str, Path]): where the settings came from, for errors.
    """

    kind = KIND

    def __init__(
        self, features: Sequence[str], weights: Array, bias: Array, *, window: int, l2: float,
        keep_rules: Sequence[str] = (), overrides: Sequence[str] = (), source: str | Path = "settings",
    ) -> None:
        weights = numpy.asarray(weights, dtype="float32")
        if weights.shape != (len(features), len(CLASSES)):
            raise ValueError(f"weights {weights.shape} for {len(features)} features")
        self.features = list(features)
        self.index = {name: i for i, name in enumerate(self.features)}
        self.weights = weights
        self.bias = numpy.asarray(bias, dtype="float32").reshape(len(CLASSES))
        self.window = int(window)
        self.l2 = float(l2)
        self.keep_rules = check_keep_rules(keep_rules, source)
        self.overrides = check_overrides(overrides, self.keep_rules, source)

    def with_keep_rules(self, keep_rules: Sequence[str], overrides: Sequence[str] = ()) -> LinearAssertion:
        """The same weights, deciding with other `keep_rules` and `overrides`
        (the fit does not depend on them)."""
        return LinearAssertion(
            self.features, self.weights, self.bias, window=self.window, l2=self.l2, keep_rules=keep_rules,
            overrides=overrides,
        )

    def logits(self, inputs: Sequence[Sequence[str]]) -> Array:
        """(n, 3) z of each entity's features (unknown features are ignored)."""
        out = numpy.tile(self.bias, (len(inputs), 1))
        for i, names in enumerate(inputs):
            rows = [self.index[n] for n in names if n in self.index]
            if rows:
                out[i] += self.weights[rows].sum(axis=0)
        return out

    def probabilities(self, inputs: Sequence[Sequence[str]]) -> Array:
        """softmax(z), (n, 3)."""
        z = self.logits(inputs)
        z = numpy.exp(z - z.max(axis=1, keepdims=True)) if len(z) else z
        return z / z.sum(axis=1, keepdims=True) if len(z) else z

    def save(self, path: str | Path) -> None:
        from safetensors.numpy import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_file({"weights": self.weights, "bias": self.bias}, str(path / WEIGHTS_FILE))
        settings = {
            "kind": KIND, "window": self.window, "l2": self.l2, "keep_rules": list(self.keep_rules),
            "overrides": list(self.overrides),
            "classes": list(CLASSES), "features": self.features,
        }
        (path / SETTINGS_FILE).write_text(json.dumps(settings, indent=1), encoding="utf8")

    @classmethod
    def load(cls, path: str | Path) -> LinearAssertion:
        from safetensors.numpy import load_file

        path = Path(path)
        settings = read_settings(path, WEIGHTS_FILE)
        tensors = load_file(str(path / WEIGHTS_FILE))
        return cls(
            settings["features"], tensors["weights"], tensors["bias"], window=settings["window"], l2=settings["l2"],
            keep_rules=settings.get("keep_rules") or (), overrides=settings.get("overrides") or (),
            source=path / SETTINGS_FILE,
        )


def fit_linear(
    inputs: Sequence[Sequence[str]],
    gold: Sequence[str],
    *,
    window: int,
    l2: float = 3e-4,
    steps: int = 400,
    learn_rate: float = 0.1,
    keep_rules: Sequence[str] = (),
    overrides: Sequence[str] = (),
) -> LinearAssertion:
    """Fit W and b by full-batch Adam (β = 0.9, 0.999) from zeros on

        L = (1/n) Σ_i −log softmax(z_i)[y_i] + (λ/2)·‖W‖²
        ∂L/∂W_f = Σ_{i: f ∈ x_i} ∂L/∂z_i + λ·W_f,   ∂L/∂b = Σ_i ∂L/∂z_i

    (∂L/∂z from `losses.token_cross_entropy`, rows = entities). Deterministic:
    no sampling, the features sorted by name.

    inputs (Sequence[Sequence[str]]): each entity's `entity_features`.
    gold (Sequence[str]): each entity's gold class (`CLASSES`).
    window (int): the window the features were made with (saved).
    l2 (float): λ.
    keep_rules, overrides (Sequence[str]): saved with the model for `decide`;
        the fit is the same with or without them.
    RETURNS (LinearAssertion): the fitted model.
    """
    features = sorted({name for names in inputs for name in names})
    index = {name: i for i, name in enumerate(features)}
    rows = [numpy.asarray([index[n] for n in names], dtype="int64") for names in inputs]
    lengths = numpy.asarray([len(r) for r in rows], dtype="int64")
    flat = numpy.concatenate(rows) if rows else numpy.zeros((0,), dtype="int64")
    owner = numpy.repeat(numpy.arange(len(rows)), lengths)
    y = numpy.asarray([CLASSES.index(g) for g in gold], dtype="int64")
    params = [numpy.zeros((len(features), len(CLASSES)), dtype="float32"), numpy.zeros((len(CLASSES),), dtype="float32")]
    moments = [(numpy.zeros_like(p), numpy.zeros_like(p)) for p in params]
    ones = numpy.ones(len(rows), dtype="float32")
    for t in range(1, steps + 1):
        W, b = params
        z = numpy.tile(b, (len(rows), 1))
        numpy.add.at(z, owner, W[flat])
        _, d_z = token_cross_entropy(z, y, ones)
        d_W = l2 * W
        numpy.add.at(d_W, flat, d_z[owner])
        grads = [d_W, d_z.sum(axis=0)]
        for p, g, (m, v) in zip(params, grads, moments):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= learn_rate * (m / (1 - 0.9**t)) / (numpy.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return LinearAssertion(features, params[0], params[1], window=window, l2=l2, keep_rules=keep_rules, overrides=overrides)
