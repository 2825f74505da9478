"""What a killed run left behind: the git worktrees and scratch folders of timing trials and
counts, which a run removes itself when it ends in any other way.

Each such folder carries the process id of the run that made it (``taskorch-engine-<pid>-...``,
``taskorch-trial-<pid>-...``), so a later run can tell a leftover (its process is gone) from a
folder another run is still using, and remove only the leftovers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from .gitrepo import git

__all__ = ["ENGINE", "TRIAL", "clean", "prefix"]

ENGINE, TRIAL = "taskorch-engine", "taskorch-trial"
_OWNER = re.compile(r"(taskorch-(?:engine|trial))-(\d+)-")


def prefix(kind: str) -> str:
    """The name a folder of ``kind`` made by this process starts with."""
    return f"{kind}-{os.getpid()}-"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def clean(root: Path) -> list[str]:
    """Remove the worktrees of ``root`` and the trial folders whose run is gone; returns what
    was removed, a line each. Worktrees whose folder is already gone are pruned."""
    done = []
    git(root, "worktree", "prune")
    for line in git(root, "worktree", "list", "--porcelain").splitlines():
        path = Path(line.removeprefix("worktree "))
        owner = _OWNER.search(str(path))
        if line.startswith("worktree ") and owner and owner[1] == ENGINE and _gone(int(owner[2])):
            git(root, "worktree", "remove", "--force", str(path))
            shutil.rmtree(path.parent, ignore_errors=True)
            done.append(f"removed a worktree left by a run that was killed: {path}")
    for folder in Path(tempfile.gettempdir()).glob(f"{TRIAL}-*"):
        owner = _OWNER.match(folder.name)
        if owner and folder.is_dir() and _gone(int(owner[2])):
            shutil.rmtree(folder, ignore_errors=True)
            done.append(f"removed a trial folder left by a run that was killed: {folder}")
    return done
