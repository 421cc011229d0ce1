"""The git commit a directory is checked out at: the model card's provenance
states it, and `distill` saves it with the weights it trains (`TRAINED_AT`)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

# key of a pipeline's meta.json: `git_commit` of the directory its training ran in
TRAINED_AT = "clinkd_trained_at"


def git_commit(project_dir: str | Path) -> dict[str, Any]:
    """The commit checked out in `project_dir`, and whether tracked files differ from it.

    RETURNS (Dict[str, Any]): `{"commit": str ("unknown" outside a git checkout
        or without git), "dirty": Optional[bool]}`.
    """
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(project_dir), *args], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"commit": "unknown", "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}
