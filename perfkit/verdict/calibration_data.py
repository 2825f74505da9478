"""The A/A calibration's file, ``calibration/<machine>.json``, read in one place.

:mod:`perfkit.timing.calibration` writes it: each benchmark's threshold (``thresholds``), the pool
of process values they came from (``pool``) and the commit measured, and the benchmarks a night
cannot judge at 10 % on the machine (``history_only``, each with why). The nightly job, the
history and the site read the thresholds (:func:`load_thresholds`); the nightly job leaves the
``history_only`` benchmarks to the history (:func:`history_only`); a new calibration can reuse
the pool (``--pool``). A file that cannot be used raises
:class:`~taskorch.errors.ConfigurationError` naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch.errors import ConfigurationError

from .regression import MIN_THRESHOLD

__all__ = ["Calibration", "history_only", "load_thresholds", "read_calibration"]


@dataclass(frozen=True, slots=True)
class Calibration:
    """What a calibration file holds; a part the file lacks is None."""

    thresholds: dict[str, float] | None
    pool: dict[str, list[float]] | None
    commit: str | None
    # The benchmarks a night cannot judge at 10 % on the machine, each with why.
    history_only: dict[str, str] | None = None


def read_calibration(path: Path) -> Calibration | None:
    """The calibration in ``path``; None when there is no such file. A threshold is a relative
    change of at least :data:`~perfkit.verdict.regression.MIN_THRESHOLD` and below 10, a number
    (not a boolean), finite; a pool maps each benchmark to a list of numbers."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not a calibration file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: not a calibration file: not a JSON object")
    commit = data.get("commit")
    return Calibration(
        _thresholds(path, data["thresholds"]) if "thresholds" in data else None,
        _pool(path, data["pool"]) if "pool" in data else None,
        None if commit is None else str(commit),
        _reasons(path, data["history_only"]) if "history_only" in data else None,
    )


def load_thresholds(path: Path) -> dict[str, float]:
    """The thresholds of the calibration file ``path``, by benchmark; an absent file is no
    thresholds, a file without them cannot be used."""
    found = read_calibration(path)
    if found is None:
        return {}
    if found.thresholds is None:
        raise ConfigurationError(
            f"{path}: no 'thresholds' mapping of benchmark to a relative change"
        )
    return found.thresholds


def history_only(path: Path) -> dict[str, str]:
    """The benchmarks the calibration file ``path`` found a night cannot judge at 10 %, each
    with why; none when there is no file or it names none."""
    found = read_calibration(path)
    return {} if found is None or found.history_only is None else found.history_only


def _reasons(path: Path, found: Any) -> dict[str, str]:
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise ConfigurationError(f"{path}: 'history_only' is no mapping of benchmark to a reason")
    return {str(k): v for k, v in found.items()}


def _thresholds(path: Path, found: Any) -> dict[str, float]:
    if not isinstance(found, dict):
        raise ConfigurationError(
            f"{path}: no 'thresholds' mapping of benchmark to a relative change"
        )
    for name, value in found.items():
        usable = isinstance(value, int | float) and not isinstance(value, bool)
        if not (usable and math.isfinite(value) and MIN_THRESHOLD <= value < 10):
            raise ConfigurationError(
                f"{path}: the threshold of {name} must be a relative change from"
                f" {MIN_THRESHOLD} to 10, not {json.dumps(value)}"
            )
    return {str(k): float(v) for k, v in found.items()}


def _pool(path: Path, found: Any) -> dict[str, list[float]]:
    try:
        return {str(k): [float(v) for v in values] for k, values in found.items()}
    except (AttributeError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: 'pool' is no mapping of benchmark to values") from exc
