"""Students built from a teacher given by name: a packaged encoder, a local
Hugging Face folder, a hub id, or a trained pipeline, whose *fine-tuned*
encoder the student then starts from ("shrink and fine-tune", Shleifer &
Rush 2020): the layers carry the task. The slicing itself is
`models.student`; this module adds the pipeline case and the provenance file.
"""
import json
from pathlib import Path

from ..models.encoder import resolve_encoder_name
from ..models.student import build_student, save_student
from ..pipeline.loading import encoder_from_pipeline, is_spacy_pipeline

# Written into every student dir: where it came from and what was kept.
PROVENANCE_FILE = "clinkd_student.json"


def student_from_teacher(
    teacher: str,
    output_dir: str | Path,
    *,
    layers: str = "every-other",
) -> dict[str, object]:
    """Build the student of a teacher given by name or path, and record its
    provenance in OUTPUT_DIR/clinkd_student.json.

    teacher (str): a packaged-encoder alias, a local HF model directory or a
        hub id (the pretrained encoder), or a trained pipeline directory (its
        fine-tuned encoder, `encoder_from_pipeline`).
    output_dir (Union[str, Path]): where the student is written.
    layers (str): "every-other" or comma-separated indices, e.g. "0,2,5".
    RETURNS (Dict[str, object]): the `save_student` summary plus `teacher`, as
        written to the provenance file.
    """
    if is_spacy_pipeline(teacher):
        model, tokenizer = encoder_from_pipeline(teacher)
        summary = save_student(model, tokenizer, output_dir, layers=layers, source=teacher)
    else:
        summary = build_student(resolve_encoder_name(teacher), output_dir, layers=layers)
    summary["teacher"] = teacher
    (Path(output_dir) / PROVENANCE_FILE).write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8"
    )
    return summary
