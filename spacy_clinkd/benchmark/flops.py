"""FLOPs of a BERT-like encoder from its layer shapes and the sequence
lengths it really ran on, and the machine's fp32 matmul rate to set them
against.

Per forward of an encoder with hidden size H, intermediate (FFN) size I and
N layers, on a batch of B windows padded to L wordpieces:

    FLOPs = N · B · (2·L·(4·H² + 2·H·I) + 4·L²·H)

per layer and window: the Q, K, V and output projections (4·L·H² multiply-
adds), the FFN's two matrices (2·L·H·I), the attention scores Q·Kᵀ (L²·H) and
their weighted sum of V (L²·H), with one multiply-add = 2 FLOPs. Embeddings,
layer norms, softmax, biases and the pooler (2·B·H², once per window) are
left out: they are lower order. Padded positions are computed like real ones,
so L is the padded length and the FLOPs are what the CPU did, not what the
text needed (`padding_waste` says how much of it was padding).
"""
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MATMUL_SIZE = 1024


@dataclass(frozen=True)
class EncoderDims:
    """The shapes of a BERT-like encoder that its FLOPs depend on.

    hidden (int): H, the hidden size.
    intermediate (int): I, the FFN's inner size.
    layers (int): N, the transformer layers.
    """

    hidden: int
    intermediate: int
    layers: int


@dataclass(frozen=True)
class Forward:
    """One call of the encoder: `batch` windows padded to `length`
    wordpieces, of which `real` (the attention mask's sum) are text."""

    batch: int
    length: int
    real: int


def encoder_flops(dims: EncoderDims, *, batch: int, length: int) -> int:
    """FLOPs of one forward (module docstring):
    N · B · (2·L·(4·H² + 2·H·I) + 4·L²·H).

    dims (EncoderDims): H, I and N.
    batch (int): B, windows in the batch.
    length (int): L, the padded length in wordpieces.
    RETURNS (int): the floating-point operations.
    """
    h, i = dims.hidden, dims.intermediate
    per_window = 2 * length * (4 * h * h + 2 * h * i) + 4 * length * length * h
    return dims.layers * batch * per_window


def encoder_dims(config: Any) -> EncoderDims | None:
    """H, I and N of a Hugging Face config: BERT-style names (`hidden_size`,
    `intermediate_size`, `num_hidden_layers`) or DistilBERT's (`dim`,
    `hidden_dim`, `n_layers`).

    RETURNS (Optional[EncoderDims]): None if the config has neither.
    """
    for names in (("hidden_size", "intermediate_size", "num_hidden_layers"), ("dim", "hidden_dim", "n_layers")):
        values = [getattr(config, name, None) for name in names]
        if all(isinstance(v, int) for v in values):
            return EncoderDims(*values)
    return None


def pass_summary(forwards: list[Forward], dims: EncoderDims) -> dict[str, Any]:
    """The FLOPs and wordpieces of one pass (a list of forwards).

    RETURNS (Dict[str, Any]): `flops_per_pass`, `forwards`, `pieces_computed`
        (B·L summed), `pieces_real` (attention-mask sums) and `padding_waste`
        (the share of computed pieces that were padding).
    """
    computed = sum(f.batch * f.length for f in forwards)
    real = sum(f.real for f in forwards)
    return {
        "flops_per_pass": sum(encoder_flops(dims, batch=f.batch, length=f.length) for f in forwards),
        "forwards": len(forwards),
        "pieces_computed": computed,
        "pieces_real": real,
        "padding_waste": 1 - real / computed if computed else 0.0,
    }


@contextmanager
def recording_forwards(module: Any) -> Iterator[list[Forward]]:
    """Record the input shape and attention-mask sum of every forward of a
    torch module inside the block (a forward pre-hook, removed afterwards).

    module (torch.nn.Module): the Hugging Face encoder.
    YIELDS (List[Forward]): filled as the module runs.
    """
    forwards: list[Forward] = []

    def hook(_: Any, args: tuple, kwargs: dict) -> None:
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
        batch, length = input_ids.shape  # (n_windows, padded_length)
        real = int(mask.sum()) if mask is not None else batch * length
        forwards.append(Forward(batch=int(batch), length=int(length), real=real))

    handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield forwards
    finally:
        handle.remove()


def matmul_gflops(*, size: int = MATMUL_SIZE, repeats: int = 5) -> float:
    """The machine's fp32 matmul rate with torch's current threads: the best
    of `repeats` timed `torch.mm` of two size × size matrices, 2·n³ FLOPs each.

    RETURNS (float): GFLOP/s.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.rand((size, size), generator=generator, dtype=torch.float32)
    b = torch.rand((size, size), generator=generator, dtype=torch.float32)
    torch.mm(a, b)  # first call allocates and picks the kernel
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
