"""The site's regressions page lists the history's regressions: ``asv publish`` on a toy
repository whose raw reference steps (asv's own detection flags it), then the rewrite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from perfkit.reports.sitedata import main, write_regressions
from perfkit.verdict.history import load_history
from tests.asvfiles import Value, noisy, step, toy_repository, write_results

PLAN, RAW, GET = "lifecycle.Plan.time_plan", "raw.RawInsert.time_raw_insert", "db.Get.time_get"
PARAMS = {PLAN: [["1", "10"]], RAW: [["1", "10"]]}
N = 12


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site") / "repo"
    commits = toy_repository(root, N)
    columns = {
        (PLAN, 0): noisy(N, 1, center=3e-5),
        (PLAN, 1): step(noisy(N, 2, center=3e-4), 6, 1.3),  # the engine alone: a regression
        (RAW, 0): step(noisy(N, 3), 4, 1.4),  # a raw reference: the machine
        (RAW, 1): noisy(N, 4, center=1e-4),
        (GET, 0): step(noisy(N, 5), 8, 0.7),  # faster: an improvement
    }
    for i, commit in enumerate(commits):
        values: dict[str, list[Value]] = {}
        for (name, _), column in columns.items():
            values.setdefault(name, []).append(column[i])
        write_results(root / "results", "box", commit, values, date=i + 1, params=PARAMS)
    subprocess.run([sys.executable, "-m", "asv", "publish", "--no-pull"], cwd=root, check=True,
                   capture_output=True)  # fmt: skip
    return root


def names(html: Path) -> list[str]:
    data = json.loads((html / "regressions.json").read_text())
    return sorted(entry[0] for entry in data["regressions"])


def test_the_page_lists_exactly_the_historys_regressions(site: Path) -> None:
    html = site / "html"
    assert f"{RAW}(1)" in names(html), "asv's own detection should flag the raw step"
    history = load_history(site / "results", "box")
    assert history is not None
    assert {str(s.label) for s in history.changes()} == {"regression", "machine", "improvement"}
    assert write_regressions(html, site / "results", site) == 1
    [regression] = history.regressions()
    [entry] = json.loads((html / "regressions.json").read_text())["regressions"]
    index = json.loads((html / "index.json").read_text())
    revision = {h: int(r) for r, h in index["revision_to_hash"].items()}
    assert entry[0] == f"{PLAN}(10)" == regression.benchmark
    assert (html / entry[1]).is_file() and entry[1].endswith(f"/{PLAN}.json")
    assert entry[2] == {} and entry[3] == 1  # one machine; the second parameter set
    values = [p.value for p in history.series[f"{PLAN}(10)"]]
    assert entry[4] == values[-1] and entry[5] == min(values)
    assert entry[6] == [[revision[regression.baseline], revision[regression.commit],
                         regression.before, regression.after]]  # fmt: skip
    feed = (html / "regressions.xml").read_text()
    assert f"{PLAN}(10)" in feed and RAW not in feed and GET not in feed


def test_the_command_rewrites_the_published_site(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--repo", str(site)]) == 0
    assert "1 regression(s)" in capsys.readouterr().out
    assert names(site / "html") == [f"{PLAN}(10)"]
    assert main(["--repo", str(site / "nowhere")]) == 4  # could not run


def test_a_repository_with_no_published_site_is_told_to_publish_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    toy_repository(root, 2)
    assert main(["--repo", str(root)]) == 4
    err = capsys.readouterr().err
    assert "holds no published site: publish it first (python scripts/publish.py" in err
    assert "Errno" not in err


def previous_site(site: Path, into: Path) -> Path:
    """A copy of the published site whose regressions page and feed differ from what a rewrite
    writes, so that a failed rewrite is seen to have left them."""
    html = into / "html"
    shutil.copytree(site / "html", html)
    (html / "regressions.json").write_text('{"regressions":[]}', encoding="utf-8")
    (html / "regressions.xml").write_text("<feed/>", encoding="utf-8")
    return html


def snapshot(html: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in html.iterdir() if p.is_file()}


def test_a_failed_replace_leaves_the_previous_page(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = previous_site(site, tmp_path)
    before = snapshot(html)

    def fail(src: object, dst: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="no space"):
        write_regressions(html, site / "results", site)
    assert snapshot(html) == before  # the pages as they were, and no temporary file beside them
    monkeypatch.undo()
    assert write_regressions(html, site / "results", site) == 1
    assert names(html) == [f"{PLAN}(10)"]


def test_a_feed_that_fails_midway_leaves_both_files(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed is made before either file is written, so the page and its feed never disagree."""
    from asv import feed  # type: ignore[import-untyped]

    html = previous_site(site, tmp_path)
    before = snapshot(html)

    def half(dest: BinaryIO | str, *args: object, **kwargs: object) -> None:
        """asv's writer, stopped partway; like asv's, it takes a path or a file."""
        partial = b"<?xml version='1.0' encoding='utf-8'?>\n<feed"
        if isinstance(dest, str):
            Path(dest).write_bytes(partial)
        else:
            dest.write(partial)
        raise RuntimeError("interrupted")

    monkeypatch.setattr(feed, "write_atom", half)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_regressions(html, site / "results", site)
    assert snapshot(html) == before
