"""The published benchmark site renders with no network: pages load and the graphs draw.

The kept results are published with ``asv publish``, the site's libraries are vendored from the
npm registry (scripts/asv_assets.py), and headless Chromium loads the pages from a local server with
every other host unreachable. Needs Debian's ``chromium`` and ``npm``; skipped without them.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfkit.sitedata import write_regressions
from tests.support import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No network: everything but the loopback goes to a closed port, and no host name resolves.
OFFLINE = [
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=15000",
]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("npm") is None, reason="needs npm for the site libraries"),
    pytest.mark.skipif(not any((ROOT / "results").glob("*/*.json")), reason="no kept results"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html = tmp_path_factory.mktemp("html")
    asv = [sys.executable, "-m", "asv"]
    subprocess.run([*asv, "publish", "--no-pull", "-o", str(html)], cwd=ROOT, check=True)
    write_regressions(html, ROOT / "results", ROOT)
    assets = [sys.executable, str(ROOT / "scripts" / "asv_assets.py"), str(html)]
    subprocess.run(assets, cwd=ROOT, check=True)
    return html


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on the loopback, as ``asv preview`` does."""
    handler = functools.partial(Quiet, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with serve(site) as url:
        yield url


def render(url: str, profile: Path) -> str:
    """The DOM of ``url`` after its scripts ran, in offline headless Chromium."""
    assert CHROMIUM is not None
    command = [CHROMIUM, *FLAGS, *OFFLINE, f"--user-data-dir={profile}", "--dump-dom", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_no_page_refers_to_the_network(site: Path) -> None:
    for page in site.glob("*.html"):
        text = page.read_text()
        assert "cdnjs.cloudflare.com" not in text and "cdn.jsdelivr.net" not in text, page.name
        assert "code.jquery.com" not in text, page.name


def test_summary_page_draws_its_graphs(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/index.html", tmp_path / "profile")
    assert "js_load_failure" in dom  # the page itself, not error.html
    assert "Cannot load" not in dom and "error.html" not in dom.split("</head>")[-1]
    assert "summarygrid-lifecycle.Plan.time_plan" in dom, "the benchmark grid is missing"
    assert dom.count('class="flot-base"') >= 1, "the summary grid drew no graphs"


def test_benchmark_page_draws_its_graph(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/index.html#lifecycle.Plan.time_plan", tmp_path / "profile")
    assert 'class="flot-base"' in dom, "the benchmark's history graph was not drawn"
    assert "lifecycle.Plan.time_plan" in dom


def test_the_regressions_page_lists_the_historys_regressions(
    site: Path, server: str, tmp_path: Path
) -> None:
    """The page shows what the history's rule found (``perfkit.sitedata``), and no raw sqlite3
    reference, whose code never changes."""
    listed = [
        entry[0] for entry in json.loads((site / "regressions.json").read_text())["regressions"]
    ]
    dom = render(f"{server}/index.html#/regressions", tmp_path / "profile")
    body = dom.split('id="regressions-body"', 1)[1]
    assert not any(name.startswith("raw.") for name in listed)
    assert "raw.Raw" not in body
    for name in listed:
        assert name.split("(", 1)[0] in body, f"{name} is not on the page"
    assert ("<table" in body) == bool(listed)


def test_the_check_is_really_offline(tmp_path: Path) -> None:
    """asv's own page, with its CDN links, must fail here: proof that the network is off."""
    html = tmp_path / "html"
    asv = [sys.executable, "-m", "asv", "publish", "--no-pull", "-o", str(html)]
    subprocess.run(asv, cwd=ROOT, check=True, capture_output=True)
    with serve(html) as url:
        dom = render(f"{url}/index.html", tmp_path / "profile")
    assert 'class="flot-base"' not in dom
