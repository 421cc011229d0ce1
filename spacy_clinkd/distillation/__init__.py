"""Knowledge distillation: pure losses, cached teacher targets, the loop."""
from .loop import DistillItem, DistillSettings, run_distillation
from .losses import combine_terms, distillation_loss, distillation_terms
from .sources import MatcherTargets, PipelineTargets, SpanFileTargets
from .targets import TargetCache, smoothed_logits, teacher_targets

__all__ = [
    "DistillItem",
    "DistillSettings",
    "MatcherTargets",
    "PipelineTargets",
    "SpanFileTargets",
    "TargetCache",
    "combine_terms",
    "distillation_loss",
    "distillation_terms",
    "run_distillation",
    "smoothed_logits",
    "teacher_targets",
]
