import os

import torch

from spacy_clinkd.models import encoder  # noqa: F401  (registers the fork handler on import)


def threads_in_forked_child() -> int:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's teardown
        os.write(write_end, str(torch.get_num_threads()).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as f:
        return int(f.read())


def test_forked_child_runs_torch_on_one_thread(keep_threads):
    torch.set_num_threads(2)
    assert threads_in_forked_child() == 1
    assert torch.get_num_threads() == 2  # the parent keeps its threads
