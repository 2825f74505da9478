"""Plots for the reports, as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from taskorch.errors import ConfigurationError

from ..validation.monitor import Sample
from ..verdict.history import History

__all__ = ["data_uri", "history_plot", "samples_plot", "spec_plot"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ConfigurationError("plots need matplotlib: pip install 'taskorch[perf]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    _pyplot().close(fig)
    return buffer.getvalue()


def _literal(text: str) -> str:
    """``text`` shown as written: matplotlib reads ``$...$`` in labels as TeX, which a stored
    name could use to make the drawing fail."""
    return text.replace("$", r"\$")


def data_uri(png: bytes) -> str:
    """Embed PNG bytes in a page: the report must open without any network or extra file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def samples_plot(samples: Sequence[Sample], title: str = "Resource usage") -> bytes:
    """Memory, CPU, connections and threads over time, one panel each."""
    plt = _pyplot()
    fig, axes = plt.subplots(4, 1, figsize=(8, 7), sharex=True)
    t = [s.seconds for s in samples]
    panels = (
        ("memory_mb", "RSS (MB)"),
        ("cpu_percent", "CPU (%)"),
        ("database_connections", "DB connections"),
        ("active_threads", "threads"),
    )
    for ax, (attr, label) in zip(axes, panels, strict=True):
        ax.plot(t, [getattr(s, attr) for s in samples], linewidth=1.2)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_title(title)
    axes[-1].set_xlabel("seconds")
    return _png(fig)


def history_plot(history: History, keys: Sequence[str], title: str) -> bytes:
    """The given series over commits (in date order), one line each, log scale when spread."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    spread = []
    for key in keys:
        points = history.series[key]
        values = [p.value for p in points]
        spread.extend(values)
        ax.plot(range(len(points)), values, marker="o", markersize=3, label=_literal(key[-60:]))
    if spread and min(spread) > 0 and max(spread) / min(spread) > 50:
        ax.set_yscale("log")
    unit = history.unit(keys[0]) if keys else ""
    ax.set_ylabel(unit or "value")
    ax.set_xlabel("commit (oldest to newest)")
    ax.set_title(_literal(title))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


def spec_plot(
    labels: Sequence[str], values: Sequence[float], budgets: Sequence[float | None]
) -> bytes:
    """Mean time of each benchmark spec, with its expected budget when it has one."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * max(1, len(labels))))
    rows = range(len(labels))
    ax.barh(rows, values, color="#4a7ab5")
    for row, budget in zip(rows, budgets, strict=True):
        if budget is not None:
            ax.plot([budget, budget], [row - 0.4, row + 0.4], color="#c0392b", linewidth=2)
    ax.set_yticks(list(rows), [_literal(label[:50]) for label in labels], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("mean ms per operation (red: expected)")
    ax.invert_yaxis()
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)
