"""The git repository the asv jobs work in, found from the working directory.

Not from this package's location: perfkit may be installed as a wheel, away from any checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from taskorch.errors import ConfigurationError

__all__ = ["git", "toplevel", "worktree"]


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output; :class:`subprocess.CalledProcessError` when
    git fails (an unknown revision, say)."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def toplevel(start: Path | None = None) -> Path:
    """The root of the git work tree holding ``start`` (by default the working directory)."""
    try:
        return Path(git(start or Path.cwd(), "rev-parse", "--show-toplevel"))
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = str(getattr(exc, "stderr", "") or exc).strip()
        raise ConfigurationError(f"not inside a git repository ({detail}): use --repo") from exc


@contextmanager
def worktree(root: Path, commit: str) -> Iterator[Path]:
    """A detached git worktree of ``commit`` in a temporary directory, removed afterwards: the
    engine of that commit, importable with the worktree on ``PYTHONPATH``."""
    # The process id in the name tells a later run whether this one is gone
    # (perfkit.data.leftovers).
    with tempfile.TemporaryDirectory(prefix=f"taskorch-engine-{os.getpid()}-") as tmp:
        tree = Path(tmp) / "tree"
        git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree
        finally:
            try:
                git(root, "worktree", "remove", "--force", str(tree))
            except subprocess.CalledProcessError as exc:  # leave it to `git worktree prune`
                print(f"could not remove the worktree {tree}: {exc.stderr}", file=sys.stderr)
