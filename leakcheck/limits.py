"""The numbers every entry point takes (iterations, warm-up, threshold, time budget), checked
where they come in: of the right type, finite and in range, or a :class:`UsageError` that names
the argument. The command line applies the same rules while it parses its options."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

from leakcheck.errors import UsageError

T = TypeVar("T", int, float)

__all__ = [
    "MAX_BUDGET",
    "MAX_ITERATIONS",
    "MAX_THRESHOLD",
    "amount",
    "amount_option",
    "count",
    "count_option",
]

#: Far above any run worth waiting for (memray records every allocation of each iteration),
#: low enough that a slip of the keyboard is refused rather than run for days.
MAX_ITERATIONS = 100_000_000
MAX_THRESHOLD = 1e12  # bytes per iteration
MAX_BUDGET = 7 * 86_400.0  # seconds per workload


def count(name: str, value: object, minimum: int, maximum: int = MAX_ITERATIONS) -> int:
    """``value`` as a whole number in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a whole number, not {value!r}")
    if not minimum <= value <= maximum:
        raise UsageError(f"{name} must be between {minimum:,} and {maximum:,}, not {value:,}")
    return value


def amount(name: str, value: object, minimum: float, maximum: float) -> float:
    """``value`` as a finite number in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number, not {value!r}")
    if not (math.isfinite(value) and minimum <= value <= maximum):
        raise UsageError(
            f"{name} must be a finite number between {minimum:g} and {maximum:g}, not {value!r}"
        )
    return float(value)


def count_option(minimum: int, maximum: int = MAX_ITERATIONS) -> Callable[[str], int]:
    """An argparse ``type`` for :func:`count`; argparse names the option in its message."""
    return _option(int, lambda value: count("the value", value, minimum, maximum))


def amount_option(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse ``type`` for :func:`amount`."""
    return _option(float, lambda value: amount("the value", value, minimum, maximum))


def _option(convert: Callable[[str], T], checked: Callable[[T], T]) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            return checked(convert(text))
        except (ValueError, UsageError) as exc:
            raise argparse.ArgumentTypeError(_reason(exc, text)) from None

    return parse


def _reason(exc: Exception, text: str) -> str:
    return str(exc) if isinstance(exc, UsageError) else f"not a number: {text!r}"
