"""The markdown of `evaluate` and of the assertion CV."""
from spacy_clinkd.evaluation.error_table import CLASSES
from spacy_clinkd.report.scores import cv_markdown, error_table_markdown, metrics_to_markdown


def scores(p, r, f, support):
    return {"p": p, "r": r, "f": f, "support": support}


def test_markdown_report():
    # strict: MED 1 right of 2 predicted; SYM 1 of 2 gold found; DIS missed; lenient finds one SYM more
    metrics = {
        "per_label": {"MED": scores(0.5, 1.0, 0.667, 1), "SYM": scores(0.5, 0.5, 0.5, 2), "DIS": scores(0.0, 0.0, 0.0, 1)},
        "micro": scores(0.5, 0.5, 0.5, 4),
        "lenient": {
            "per_label": {"MED": scores(0.5, 1.0, 0.667, 1), "SYM": scores(1.0, 1.0, 1.0, 2), "DIS": scores(0.0, 0.0, 0.0, 1)},
            "micro": scores(0.75, 0.75, 0.75, 4),
        },
    }
    md = metrics_to_markdown(metrics, title="Toy eval")
    lines = md.splitlines()
    assert lines[0] == "## Toy eval"
    assert "| label | P | R | F1 | support |" in lines
    assert "| MED | 0.500 | 1.000 | 0.667 | 1 |" in lines
    assert "| SYM | 0.500 | 0.500 | 0.500 | 2 |" in lines
    assert "| **micro** | 0.500 | 0.500 | 0.500 | 4 |" in lines
    assert "| **micro** | 0.750 | 0.750 | 0.750 | 4 |" in lines
    strict_at = md.index("Strict")
    lenient_at = md.index("Lenient")
    assert strict_at < md.index("| **micro** | 0.500") < lenient_at
    assert md.index("| **micro** | 0.750") > lenient_at


def test_markdown_shows_f1_interval():
    med = scores(0.5, 1.0, 0.667, 1)
    metrics = {"per_label": {"MED": med}, "micro": med, "lenient": {"per_label": {"MED": med}, "micro": med}, "n_docs": 1}
    without = metrics_to_markdown(metrics, title="Toy")
    assert "| MED | 0.500 | 1.000 | 0.667 | 1 |" in without.splitlines()
    assert "bootstrap" not in without
    metrics["bootstrap"] = {
        "strict": {"micro": {"f": [0.4912, 0.6123]}, "per_label": {"MED": {"f": [0.5, 0.75]}}},
        "lenient": {"micro": {"f": None}, "per_label": {}},
        "n_samples": 1000,
        "confidence": 0.95,
        "seed": 0,
    }
    lines = metrics_to_markdown(metrics, title="Toy").splitlines()
    assert "| MED | 0.500 | 1.000 | 0.667 [0.50, 0.75] | 1 |" in lines
    assert "| **micro** | 0.500 | 1.000 | 0.667 [0.49, 0.61] | 1 |" in lines
    # Missing or None intervals (e.g. no docs) fall back to the point value.
    assert lines.count("| MED | 0.500 | 1.000 | 0.667 | 1 |") == 1
    assert lines.count("| **micro** | 0.500 | 1.000 | 0.667 | 1 |") == 1
    assert "F1 intervals: 95% percentile bootstrap over documents (1000 samples, seed 0)." in lines


def test_error_table_markdown_has_a_total_row():
    one_each = dict.fromkeys(CLASSES, 1)
    errors = {"per_label": {"SYMPTOM": {**one_each, "spurious": 0}}, "total": one_each}
    lines = error_table_markdown(errors)
    assert lines[0] == "| label | " + " | ".join(CLASSES) + " |"
    assert lines[2] == "| SYMPTOM | 1 | 1 | 1 | 1 | 1 | 0 |"
    assert lines[-1] == "| total | 1 | 1 | 1 | 1 | 1 | 1 |"


def test_cv_markdown():
    per_class = {name: {"f": f} for name, f in (("absent", 0.5), ("possible", 0.25), ("present", 0.8125))}
    rules = {
        "n_docs": 4, "n": 4,
        "mean": per_class, "sd": {name: {"f": 0.125} for name in per_class},
        "macro_f": {"mean": 0.5208, "sd": 0.1},
        "pooled": {"per_class": per_class},
        "intervals": {"absent": {"f": [0.1, 0.9]}, "possible": {"f": [0.0, 0.6667]}},
    }
    table = cv_markdown({"k": 2, "seed": 0, "candidates": {"rules": rules}})
    assert "2-fold cross-validation over 4 documents (4 gold entities)" in table
    assert "| rules | 0." in table
    assert "| rules | 0.500 ± 0.125 | 0.250 ± 0.125 | 0.812 ± 0.125 | 0.521 ± 0.100 | 0.500 [0.100, 0.900] | 0.250 [0.000, 0.667] |" in table


def test_markdown_shows_the_context_table_when_the_metrics_have_one():
    from spacy_clinkd.evaluation.assertion import score_contexts

    pairs = [[(frozenset({"historical"}), frozenset({"historical"})), (frozenset(), frozenset({"family"}))]]
    on_gold = {"n": 2, "accuracy": 1.0, "per_class": {"absent": scores(1.0, 1.0, 1.0, 2)}}
    e2e = {"per_class": {"absent": scores(1.0, 1.0, 1.0, 2)}, "micro": scores(1.0, 1.0, 1.0, 2)}
    metrics = {"per_label": {}, "assertion": {"on_gold_entities": on_gold, "end_to_end": e2e}}
    assert "ConText" not in metrics_to_markdown(metrics, title="T")
    metrics["assertion"]["context_on_gold_entities"] = score_contexts(pairs, bootstrap=10)
    lines = metrics_to_markdown(metrics, title="T").splitlines()
    start = lines.index(next(line for line in lines if line.startswith("### ConText categories")))
    rows = {line.split("|")[1].strip(): line for line in lines[start:] if line.startswith("| ") and "---" not in line}
    assert set(rows) >= {"historical", "family", "hypothetical"}
    assert "| 1.000 [" in rows["historical"] and rows["family"].startswith("| family | 0.000")
