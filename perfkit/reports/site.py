"""Make a site published by ``asv publish`` render with no network.

asv's ``index.html`` loads jQuery, flot, bootstrap and a few plugins from public CDNs. This fetches
the same libraries from the npm registry (``npm pack``, so nothing third-party is committed here),
copies the files into ``HTML_DIR/vendor/`` and points the page at them. Where the npm file is
byte-identical to the CDN's, the page's integrity hash is checked against it; the CDN-minified
builds of flot and stupidtable have no npm twin, so the npm build of the same release is used.

Publishing is one command, ``scripts/publish.py [--repo PATH] [-o HTML_DIR]`` (:func:`publish`):
``asv publish``, the regressions page rewritten from the history's change points
(:func:`perfkit.reports.sitedata.write_regressions`), then the libraries vendored. On a site already
published, ``scripts/asv_assets.py [HTML_DIR]`` (default ``.asv/html``) vendors alone. Both exit
0 when done, 4 when a step failed, a library could not be fetched or a page still refers to the
network.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from taskorch.errors import ConfigurationError

from ..data.asvdata import load_config, machines, one_sample_runs, scan
from ..data.files import write_bytes_atomic, write_text_atomic
from ..data.gitrepo import git, toplevel
from ..kit.exits import Exit
from ..kit.options import Parser, add_repo
from .sitedata import write_regressions

__all__ = [
    "ASSETS",
    "complete_site",
    "make_offline",
    "off_the_line",
    "publish",
    "publish_main",
    "remote_references",
    "unpublishable",
    "vendor",
]

# URL in asv 0.6.6's index.html -> (npm package@version, file inside the package)
ASSETS = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": (
        "flot@0.8.3",
        "jquery.flot.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": (
        "flot@0.8.3",
        "jquery.flot.time.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": (
        "flot@0.8.3",
        "jquery.flot.selection.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": (
        "flot@0.8.3",
        "jquery.flot.categories.js",
    ),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": (
        "flot-orderbars@1.0.0",
        "js/jquery.flot.orderBars.js",
    ),
    # 1.0.1 was never published to npm; 1.1.3 keeps the same jQuery plugin interface.
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": (
        "stupid-table-plugin@1.1.3",
        "stupidtable.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": (
        "blueimp-md5@2.19.0",
        "js/md5.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": (
        "bootstrap@3.1.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": (
        "bootstrap@3.1.1",
        "dist/css/bootstrap.min.css",
    ),
}
# Files the CSS refers to relatively (glyph icons).
EXTRA = {"bootstrap@3.1.1": ["dist/fonts/"]}

TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"[^>]*>")
ATTRIBUTE = re.compile(r'\s(integrity|crossorigin|referrerpolicy)="[^"]*"')


def fetch(spec: str, into: Path) -> Path:
    """Unpack package ``spec`` from the npm registry into ``into``; return its root."""
    into.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(into), spec],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    tarball = into / out[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(into / spec, filter="data")
    return into / spec / "package"


def integrity_ok(tag: str, data: bytes) -> bool | None:
    """Whether ``data`` matches the tag's subresource-integrity hash (None: no hash given)."""
    match = re.search(r'integrity="(sha\d+)-([^"]+)"', tag)
    if match is None:
        return None
    digest = hashlib.new(match.group(1), data).digest()
    return base64.b64encode(digest).decode() == match.group(2)


def vendor(html_dir: Path) -> list[str]:
    """Copy the libraries in and rewrite every page; returns a line per library."""
    report = []
    pages = sorted(html_dir.glob("*.html"))
    with tempfile.TemporaryDirectory() as tmp:
        roots: dict[str, Path] = {}
        for spec, inner in sorted(set(ASSETS.values())):
            if spec not in roots:
                roots[spec] = fetch(spec, Path(tmp))
            _copy(roots[spec] / inner, html_dir / "vendor" / spec / inner)
        for spec, dirs in EXTRA.items():
            for inner in dirs:
                for source in sorted((roots[spec] / inner).rglob("*")):
                    if source.is_file():
                        relative = source.relative_to(roots[spec])
                        _copy(source, html_dir / "vendor" / spec / relative)

        def local(match: re.Match[str]) -> str:
            tag, url = match.group(0), match.group(2)
            if url not in ASSETS:
                return tag
            spec, inner = ASSETS[url]
            data = (html_dir / "vendor" / spec / inner).read_bytes()
            same = integrity_ok(tag, data)
            verdict = {True: "identical to the CDN file", False: "npm build", None: "no hash"}
            report.append(f"{spec}/{inner}: {verdict[same]}")
            return ATTRIBUTE.sub("", tag.replace(url, f"vendor/{spec}/{inner}"))

        for page in pages:
            write_text_atomic(page, TAG.sub(local, page.read_text(encoding="utf-8")))
    return report


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, source.read_bytes())


def remote_references(html_dir: Path) -> list[str]:
    """Scripts and stylesheets that would still be fetched from the network."""
    found = []
    for page in sorted(html_dir.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        found += [f"{page.name}: {m.group(2)}" for m in TAG.finditer(text)]
    return found


def make_offline(html_dir: Path) -> list[str]:
    """Vendor the libraries into a published site and point its pages at them; returns what
    went wrong, nothing when the site now renders with no network."""
    try:
        for line in vendor(html_dir):
            print(f"vendored {line}")
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        return [f"could not fetch the site's libraries from npm: {exc}\n{detail}"]
    return [f"still remote: {line}" for line in remote_references(html_dir)]


def main(argv: list[str] | None = None) -> int:
    """``scripts/asv_assets.py [HTML_DIR]``."""
    parser = Parser(
        description="Make a site published by `asv publish` render with no network.",
        epilog="Exit status: 0 done, 4 no published site, a library could not be fetched or a"
        " page still refers to the network.",
    )
    parser.add_argument("html_dir", nargs="?", type=Path, default=Path(".asv/html"),
                        help="the published site (default .asv/html)")  # fmt: skip
    html_dir: Path = parser.parse_args(argv).html_dir
    if not (html_dir / "index.html").exists():
        print(f"{html_dir}/index.html not found: run `asv publish` first", file=sys.stderr)
        return Exit.CANNOT_RUN
    problems = make_offline(html_dir)
    for line in problems:
        print(line, file=sys.stderr)
    return Exit.CANNOT_RUN if problems else Exit.OK


# How dense each kind of graph is, said in the site's navigation bar (static text).
HISTORY_NOTE = (
    '<li><p class="navbar-text" id="history-note" title="Instruction counts, sizes and statement'
    " counts are recorded for every first-parent commit of main that changes the engine, so"
    " their graphs step at the commit that moved them. Timings are recorded on the commits the"
    " nightly job measured (a commit's timings cost minutes), so a step in a timing lies"
    ' somewhere between two of its points.">counts: every engine commit &middot; timings:'
    " the nightly's commits</p></li>\n"
)
_NAV_END = re.compile(r"(\s*</ul>\s*</nav>)")


def note_density(html_dir: Path) -> bool:
    """Say in the summary page's navigation bar which commits each kind of graph has; False
    when the page has no navigation bar where asv 0.6 puts it."""
    index = html_dir / "index.html"
    text = index.read_text(encoding="utf-8")
    if 'id="history-note"' in text:
        return True
    noted, found = _NAV_END.subn(lambda m: "\n" + HISTORY_NOTE + m.group(1).lstrip("\n"), text, 1)
    if found:
        write_text_atomic(index, noted)
    return bool(found)


def complete_site(html_dir: Path, results: Path, root: Path | None = None) -> list[str]:
    """What follows ``asv publish``: the regressions page rewritten from the history of
    ``results`` (thresholds from the calibration under ``root``), the graphs' density noted,
    then the libraries vendored; returns what went wrong, nothing when the site is complete."""
    count = write_regressions(html_dir, results, root)
    print(f"{html_dir}/regressions.json: {count} regression(s) by the history's rule")
    noted = [] if note_density(html_dir) else [f"{html_dir}/index.html: no navigation bar"]
    return noted + make_offline(html_dir)


def unpublishable(results: Path) -> list[str]:
    """Why ``results`` must not be published, nothing when they may: one-sample values (``asv
    run --quick`` saves them), which asv would draw beside the history as measurements."""
    quick = one_sample_runs(results)
    if not quick:
        return []
    return [*quick, "refused: results hold one-sample values (asv run --quick saves them);"
            " run those commits again without --quick, or remove their result files"]  # fmt: skip


def off_the_line(root: Path, results: Path, branches: tuple[str, ...]) -> list[str]:
    """The kept commits ``asv publish`` leaves out of the site, a line each: asv draws only the
    first-parent history of its branches, so a commit of a merged side branch, or of a branch
    not yet merged, is measured and then dropped with one line of its own output."""
    line: set[str] = set()
    for branch in branches:
        try:
            line.update(git(root, "rev-list", "--first-parent", branch).split())
        except subprocess.CalledProcessError:
            continue  # a branch this clone lacks: asv says so itself
    return [
        f"{results / machine} {run.commit[:8]}: not on the first-parent line of"
        f" {' or '.join(branches)}; the site leaves it out"
        for machine in machines(results)
        for run in scan(results, machine).runs
        if run.commit not in line
    ]


def publish(
    root: Path,
    html_dir: Path | None = None,
    run_asv: Callable[[Sequence[str]], int] | None = None,
) -> list[str]:
    """Publish the site of ``root``'s kept results into ``html_dir`` (default: the config's):
    ``asv publish`` (through ``run_asv``, given asv's arguments; default: a process in ``root``),
    then :func:`complete_site`; returns what went wrong, a disk that fills up on the way
    included. Kept commits the site leaves out are named on stderr (:func:`off_the_line`)."""
    config = load_config(root)
    refused = unpublishable(config.results_dir)
    if refused:
        return refused
    for line in off_the_line(root, config.results_dir, config.branches):
        print(f"publish: warning: {line}", file=sys.stderr)
    html = (html_dir or config.html_dir).resolve()
    if run_asv is None:

        def run_asv(args: Sequence[str]) -> int:
            return subprocess.run([sys.executable, "-m", "asv", *args], cwd=root).returncode

    status = run_asv(["publish", "-o", str(html)])
    if status != 0:
        return [f"asv publish failed with exit status {status}"]
    try:
        return complete_site(html, config.results_dir, root)
    except OSError as exc:  # a full disk: the site is not complete
        return [f"the site could not be completed: {exc}"]


def publish_main(argv: list[str] | None = None) -> int:
    """``scripts/publish.py [--repo PATH] [-o HTML_DIR]``."""
    parser = Parser(
        description="Publish the benchmark history site: `asv publish`, the regressions page"
        " rewritten from the history's change points, the libraries vendored for offline use.",
        epilog="Exit status: 0 done, 4 results that must not be published, a step failed, a"
        " library could not be fetched or a page still refers to the network.",
    )
    add_repo(parser)
    parser.add_argument("-o", "--html-dir", type=Path,
                        help="where to publish (default: html_dir of asv.conf.json)")  # fmt: skip
    options = parser.parse_args(argv)
    try:
        problems = publish(options.repo or toplevel(), options.html_dir)
    except ConfigurationError as exc:
        problems = [str(exc)]
    for line in problems:
        print(f"publish: {line}", file=sys.stderr)
    return Exit.CANNOT_RUN if problems else Exit.OK
