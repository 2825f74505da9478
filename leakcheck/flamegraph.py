"""Flamegraphs of what a check left alive, readable without network access.

memray's flamegraph page loads d3, jQuery, Bootstrap and plotly from a CDN unless its
``--no-web`` option embeds them (about 4.5 MB instead of 120 KB). Leakcheck always embeds
them, and checks the result so that a page which would reach out to the network is an error
rather than a blank page found later on an offline machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from leakcheck.errors import FlamegraphError
from leakcheck.outputs import replacing

__all__ = ["external_resources", "write_flamegraph"]

# Tags that load a resource when the page opens (unlike <a href>), and CSS imports.
_LOADING_TAG = re.compile(
    r"<(?:script|link|img|iframe|embed|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?"
    r"((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"(?:@import\s+|url\(\s*)[\"']?((?:https?:)?//[^\"')\s]+)", re.IGNORECASE)


def external_resources(html: str) -> list[str]:
    """URLs the page would fetch when opened: scripts, stylesheets, images, CSS imports."""
    return _LOADING_TAG.findall(html) + _CSS_URL.findall(html)


def write_flamegraph(capture: Path, output: Path) -> Path:
    """Render the memory still alive at the end of ``capture`` as a self-contained HTML page.

    Runs ``python -m memray flamegraph --leaks --no-web``; raises :class:`FlamegraphError` if
    memray fails or the page would load anything from the network. ``output`` is written
    whole or left as it was.
    """
    output = Path(output)
    with replacing(output) as partial:
        command = [
            sys.executable, "-m", "memray", "flamegraph",
            "--leaks", "--no-web", "--force", "--output", str(partial), str(capture),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise FlamegraphError(f"memray flamegraph failed ({result.returncode}): {detail}")
        remote = external_resources(partial.read_text(encoding="utf-8", errors="replace"))
        if remote:
            raise FlamegraphError(f"the flamegraph would load {remote[0]} from the network")
    return output
