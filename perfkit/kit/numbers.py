"""How every report of the toolkit writes a measured value: one formatter for the nightly's
Markdown, the HTML report, the figures, the site's regressions page and the peer comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["amount"]

# Largest first: a value takes the first scale it reaches.
_SCALES = {
    "seconds": ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")),
    "bytes": ((2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"), (1.0, "B")),
}


def amount(value: object, unit: str = "") -> str:
    """``value`` with ``unit``, as text: "—" for no value and "n/a" for NaN; seconds and bytes in
    the scale that suits them with three significant digits (``49.6 µs``, ``15.6 MiB``); any other
    number from 100 up as a whole number with thousands separators (``133,622 instructions``),
    below with four significant digits (``0.9772``); a list as its values; anything else as
    its text."""
    if value is None:
        return "—"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(amount(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value} {unit}".strip()
    if math.isnan(value):
        return "n/a"
    if math.isinf(value) or unit not in _SCALES:
        number = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
        return f"{number} {unit}".strip()
    scales = _SCALES[unit]
    for size, name in scales:
        if abs(value) >= size:
            return f"{value / size:.3g} {name}"
    size, name = scales[-1]
    return f"{value / size:.3g} {name}"
