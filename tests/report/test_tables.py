"""The one table, the one "score [low, high]" cell and the one score table."""
from spacy_clinkd.report.tables import interval_cell, label_rows, score_table, table


def test_table_rule_follows_the_alignment_and_cells_are_escaped():
    lines = table(["name", "n"], [["a|b", 3], ["two\nlines", 4]])
    assert lines == ["| name | n |", "|---|---:|", "| a\\|b | 3 |", "| two lines | 4 |"]
    assert table(["a", "b", "c"], [], align="lrl")[1] == "|---|---:|---|"


def test_interval_cell():
    assert interval_cell(0.41666, [0.28, 0.514]) == "0.417 [0.28, 0.51]"
    assert interval_cell(0.41666) == "0.417"
    assert interval_cell(0.5, [0.25, 0.75], interval_spec=".3f") == "0.500 [0.250, 0.750]"
    assert interval_cell(2500.4, [2000, 3100], spec=",.0f", interval_spec=",.0f") == "2,500 [2,000, 3,100]"


def scores(p, r, f, support):
    return {"p": p, "r": r, "f": f, "support": support}


def test_score_table_intervals_per_column_and_micro_last():
    metrics = {"per_label": {"DISEASE": scores(0.5, 0.25, 0.333, 4)}, "micro": scores(0.6, 0.5, 0.545, 12)}
    side = {"per_label": {"DISEASE": {"p": [0.4, 0.6], "r": [0.1, 0.35], "f": [0.2, 0.45]}}}
    every = score_table(label_rows(metrics, side))
    assert every == [
        "| type | P | R | F1 | support |",
        "|---|---:|---:|---:|---:|",
        "| DISEASE | 0.500 [0.40, 0.60] | 0.250 [0.10, 0.35] | 0.333 [0.20, 0.45] | 4 |",
        "| **micro** | 0.600 | 0.500 | 0.545 | 12 |",
    ]
    f_only = score_table(label_rows(metrics, side), first="label", with_intervals=("f",))
    assert f_only[0] == "| label | P | R | F1 | support |"
    assert f_only[2] == "| DISEASE | 0.500 | 0.250 | 0.333 [0.20, 0.45] | 4 |"
