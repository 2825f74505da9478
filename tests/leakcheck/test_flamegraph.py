"""Flamegraphs must open on a machine without network access."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leakcheck import FlamegraphError, check, write_flamegraph
from leakcheck.flamegraph import external_resources


def test_loading_tags_are_found_and_links_are_not() -> None:
    html = """
    <link rel="stylesheet" href="https://cdn.example/x.css">
    <script src="//cdn.example/d3.js"></script>
    <style>@import url("https://fonts.example/f.css");</style>
    <a href="https://docs.example/help.html">help</a>
    <svg xmlns="http://www.w3.org/2000/svg"></svg>
    <script>const inline = 1;</script>
    """
    assert external_resources(html) == [
        "https://cdn.example/x.css",
        "//cdn.example/d3.js",
        "https://fonts.example/f.css",
    ]


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept: list[str] = []
    path = tmp_path_factory.mktemp("capture") / "capture.bin"
    check(lambda: kept.append(str(len(kept))), iterations=2000, warmup=200, keep_capture=path)
    return path


def test_memray_default_page_needs_the_network(capture: Path, tmp_path: Path) -> None:
    # Why leakcheck passes --no-web: without it the page loads d3 and friends from a CDN.
    page = tmp_path / "web.html"
    subprocess.run(
        [sys.executable, "-m", "memray", "flamegraph", "--leaks", "-o", str(page), str(capture)],
        check=True,
        capture_output=True,
    )
    assert any("cdn" in url for url in external_resources(page.read_text()))


def test_leakcheck_page_is_self_contained(capture: Path, tmp_path: Path) -> None:
    page = write_flamegraph(capture, tmp_path / "sub" / "leaks.html")
    html = page.read_text()
    assert external_resources(html) == []
    assert "d3" in html  # the libraries are inlined, not dropped


def test_unreadable_capture(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a capture")
    with pytest.raises(FlamegraphError, match="memray flamegraph failed"):
        write_flamegraph(bogus, tmp_path / "out.html")
