"""The nightly job's report files: ``.asv/nightly.json`` and the Markdown beside it
(``.asv/nightly.md``), where they live, written whole, and the JSON read back in one place.

The JSON is :meth:`perfkit.jobs.nightly.Report.as_dict`; what is read back of it is the target and
the process values of every timing trial, which the A/A calibration pools
(``calibrate --from-nights``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import write_text_atomic

__all__ = ["NightTrial", "read_trials", "report_path", "write_files"]


@dataclass(frozen=True, slots=True)
class NightTrial:
    """One timing trial of a night: the process values of each side."""

    benchmark: str
    before: tuple[float, ...]
    after: tuple[float, ...]


def report_path(root: Path) -> Path:
    """Where the nightly job of the repository ``root`` writes its JSON report."""
    return root / ".asv" / "nightly.json"


def write_files(root: Path, data: Mapping[str, Any], markdown: str) -> None:
    """The report as JSON and as Markdown beside it, each written whole (replacing the run
    before), the Markdown also appended to ``$GITHUB_STEP_SUMMARY`` when set."""
    out = report_path(root)
    out.parent.mkdir(exist_ok=True)
    write_text_atomic(out, json.dumps(data, indent=2) + "\n")
    write_text_atomic(out.with_suffix(".md"), markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(markdown)


def read_trials(path: Path) -> tuple[str, list[NightTrial]]:
    """The target commit and the timing trials of the report in ``path``; :class:`ValueError`
    naming what is wrong when it is no nightly report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        trials = [_trial(t) for t in report["trials"]]
        return str(report["target"]), trials
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a nightly report ({exc})") from exc


def _trial(found: Any) -> NightTrial:
    before, after = tuple(map(float, found["before"])), tuple(map(float, found["after"]))
    return NightTrial(str(found["benchmark"]), before, after)
