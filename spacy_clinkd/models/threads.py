"""One torch thread in forked worker processes.

CPU PyTorch runs its intra-op thread pool on GNU OpenMP, which is not
fork-safe: once a process has run a parallel region, a child made by `fork()`
that starts another one waits forever for the parent's pool threads, which do
not exist in the child. spaCy's `nlp.pipe(texts, n_process=N)` forks on Linux,
so with a transformer pipeline it hangs with no error (explosion/spaCy#6662,
#4667). Like torch's own DataLoader workers, a forked child here gets a single
intra-op thread: the N workers then share the cores instead of waiting.
"""
import os

_registered = False


def single_thread_torch() -> None:
    """Set torch to one intra-op thread (run in a forked child)."""
    import torch

    torch.set_num_threads(1)


def register_fork_handler() -> None:
    """Run `single_thread_torch` in every child forked from now on (once per
    process; a no-op where `os.register_at_fork` does not exist)."""
    global _registered
    if _registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=single_thread_torch)
    _registered = True
