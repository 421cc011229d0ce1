"""The precisions an encoder runs at in prediction: "fp32" (the trained
weights) or "int8" (`models.int8`, made from them). Apart from
`models.inference`, which runs them, so that the pipeline loader and the
command line can check a precision without importing torch.
"""
from ..errors import ClinkdError, Errors

PRECISIONS = ("fp32", "int8")


def check_precision(precision: str) -> None:
    """RAISES ClinkdError: E041 for a precision other than fp32 or int8."""
    if precision not in PRECISIONS:
        raise ClinkdError(Errors.E041.format(precision=precision, options=list(PRECISIONS)))
