"""The published benchmark site lists the history's regressions and renders with no network.

The kept results are published with the one publish command (scripts/publish.py: ``asv publish``,
the regressions page from the history's change points, the site's libraries vendored from the npm
registry), and headless Chromium loads the pages from a local server with every other host
unreachable. Needs ``npm`` (skipped without it); the rendering also needs Debian's ``chromium``.
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
from typing import Any

import pytest

from perfkit.data.gitrepo import git
from perfkit.reports.site import off_the_line
from perfkit.verdict.history import load_history
from tests.asvfiles import toy_repository, write_results
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

pytestmark = pytest.mark.skipif(
    not any((ROOT / "results").glob("*/*.json")), reason="no kept results"
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("needs npm for the site libraries")
    html = tmp_path_factory.mktemp("html")
    publish = [sys.executable, str(ROOT / "scripts" / "publish.py"), "-o", str(html)]
    subprocess.run(publish, cwd=ROOT, check=True)
    return html


def listed(html: Path) -> list[list[Any]]:
    return list(json.loads((html / "regressions.json").read_text(encoding="utf-8"))["regressions"])


def test_plain_asv_publish_lists_no_raw_reference(tmp_path: Path) -> None:
    """asv.conf.json switches asv's own step detection off for ``raw.*``, so even a site
    published by plain ``asv publish`` lists no raw sqlite3 reference."""
    html = tmp_path / "html"
    asv = [sys.executable, "-m", "asv", "publish", "--no-pull", "-o", str(html)]
    subprocess.run(asv, cwd=ROOT, check=True, capture_output=True)
    names = [entry[0] for entry in listed(html)]
    assert not [name for name in names if name.startswith("raw.")]


def test_the_publish_command_lists_exactly_the_historys_regressions(site: Path) -> None:
    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    to_hash = {int(r): str(h) for r, h in index["revision_to_hash"].items()}
    on_page = {(entry[0], to_hash[jump[1]]) for entry in listed(site) for jump in entry[6]}
    expected = set()
    for machine in sorted(p.name for p in (ROOT / "results").iterdir() if p.is_dir()):
        history = load_history(ROOT / "results", machine, root=ROOT)
        if history is not None:
            expected |= {(s.benchmark, s.commit) for s in history.regressions()}
    assert on_page == expected
    assert not any(name.startswith("raw.") for name, _ in on_page)
    assert "raw." not in (site / "regressions.xml").read_text(encoding="utf-8")


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


def test_the_publish_command_fails_outside_a_repository(tmp_path: Path) -> None:
    publish = [sys.executable, str(ROOT / "scripts" / "publish.py"), "--repo", str(tmp_path)]
    done = subprocess.run(publish, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 4  # could not run
    assert f"{tmp_path}/asv.conf.json" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_page_refers_to_the_network(site: Path) -> None:
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "cdnjs.cloudflare.com" not in text and "cdn.jsdelivr.net" not in text, page.name
        assert "code.jquery.com" not in text, page.name


@needs_chromium
def test_summary_page_draws_its_graphs(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/index.html", tmp_path / "profile")
    assert "js_load_failure" in dom  # the page itself, not error.html
    assert "Cannot load" not in dom and "error.html" not in dom.split("</head>")[-1]
    assert "summarygrid-lifecycle.Plan.time_plan" in dom, "the benchmark grid is missing"
    assert dom.count('class="flot-base"') >= 1, "the summary grid drew no graphs"


@needs_chromium
def test_benchmark_page_draws_its_graph(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/index.html#lifecycle.Plan.time_plan", tmp_path / "profile")
    assert 'class="flot-base"' in dom, "the benchmark's history graph was not drawn"
    assert "lifecycle.Plan.time_plan" in dom


@needs_chromium
def test_the_regressions_page_shows_the_historys_regressions(
    site: Path, server: str, tmp_path: Path
) -> None:
    """The page shows what the history's rule found, and no raw sqlite3 reference, whose code
    never changes."""
    names = [entry[0] for entry in listed(site)]
    dom = render(f"{server}/index.html#/regressions", tmp_path / "profile")
    body = dom.split('id="regressions-body"', 1)[1]
    assert "raw.Raw" not in body
    for name in names:
        assert name.split("(", 1)[0] in body, f"{name} is not on the page"
    assert ("<table" in body) == bool(names)


@needs_chromium
def test_the_check_is_really_offline(tmp_path: Path) -> None:
    """asv's own page, with its CDN links, must fail here: proof that the network is off."""
    html = tmp_path / "html"
    asv = [sys.executable, "-m", "asv", "publish", "--no-pull", "-o", str(html)]
    subprocess.run(asv, cwd=ROOT, check=True, capture_output=True)
    with serve(html) as url:
        dom = render(f"{url}/index.html", tmp_path / "profile")
    assert 'class="flot-base"' not in dom


def test_commits_the_site_would_leave_out_are_named(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    commits = toy_repository(root, 2)
    git(root, "checkout", "-q", "-b", "side")
    (root / "code.txt").write_text("side\n")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
        "commit", "-q", "-am", "on a side branch")  # fmt: skip
    side = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "main")
    results = root / "results"
    for date, commit in enumerate([*commits, side], start=1):
        write_results(results, "box", commit, {"m.B.track_x": [1.0]}, date=date)
    [line] = off_the_line(root, results, ("main",))
    assert side[:8] in line and "not on the first-parent line of main" in line
    assert off_the_line(root, results, ("side",)) == []  # side holds main's commits too


def test_the_summary_page_says_which_commits_each_kind_of_graph_has(site: Path) -> None:
    text = (site / "index.html").read_text(encoding="utf-8")
    assert text.count('id="history-note"') == 1
    assert "every first-parent commit of main that changes the engine" in text
