"""The report generator on hostile and malformed inputs: nothing it did not write itself reaches
the page as markup, and a file it cannot use is named, left out, or (when the user named it)
refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfkit.commands import Exit, report_cli, run

pytest.importorskip("matplotlib")

from tests.reports import EVIL, MARKUP, full_report, hostile_report, write_asv


def test_every_stored_field_is_escaped_in_the_html(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    page = report.to_html()
    assert [m for m in MARKUP if m in page] == []
    assert page.count("<script>") == 1  # the page's own plot counter
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 10
    assert "1 not numeric, left out" in page  # the monitor sample of strings
    assert "monitor: 3 samples, peak RSS 31.0 MB." in report.to_markdown()


def test_monitor_samples_never_reach_the_page_as_markup() -> None:
    from perfkit import generate_performance_report
    from perfkit.validation.monitor import Sample

    evil: Any = EVIL
    hostile = [Sample(0.0, 30.0, 1.0, evil, evil), Sample(1.0, 31.0, 2.0, evil, evil)]
    page = generate_performance_report(None, samples=hostile).to_html()
    assert [m for m in MARKUP if m in page] == []
    assert "2 samples, none usable (2 not numeric, left out)" in page
    mixed = [hostile[0], Sample(1.0, 31.0, 2.0, 1, 2)]
    page = generate_performance_report(None, samples=mixed).to_html()
    assert [m for m in MARKUP if m in page] == []
    assert "1 samples (1 not numeric, left out)" in page


SOURCES = {
    "results": "reports/validation/report.json",
    "leakcheck": "reports/leakcheck.json",
    "monitor": "reports/monitor/samples.json",
}
BAD = {
    "not JSON": (b'{"samples": [', "is not valid JSON"),
    "not UTF-8": (b'{"samples": "\xff\xfe"}', "is not UTF-8"),
    "wrong shape": (b'"just a string"', "is not"),
    "a list of numbers": (b"[1, 2, 3]", ""),
}


def good_sources(root: Path) -> None:
    """A validation run, leak verdicts and samples where the script looks for them."""
    full_report(root).write(root / "reports" / "validation")
    (root / SOURCES["leakcheck"]).write_text('[{"workload": "plan", "leaked": false}]')
    (root / "reports" / "monitor").mkdir(parents=True)
    sample = {"seconds": 0.0, "memory_mb": 30.0, "cpu_percent": 1.0,
              "database_connections": 1, "active_threads": 2}  # fmt: skip
    (root / SOURCES["monitor"]).write_text(json.dumps({"samples": [sample]}))


def generate(root: Path, *extra: str) -> int:
    return run("report", ["--repo", str(root), "--out", str(root / "out"), *extra])


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_file_is_named_and_the_report_made_from_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, bad: str
) -> None:
    good_sources(tmp_path)
    content, why = BAD[bad]
    path = tmp_path / SOURCES[source]
    path.write_bytes(content)
    assert generate(tmp_path) == 0
    out, err = capsys.readouterr()
    assert f"{path}: " in err and why in err and "Traceback" not in err
    page = (tmp_path / "out" / "report.html").read_text()
    found = [line.split()[-1] for line in out.splitlines() if line.endswith(("found", "absent"))]
    assert found.count("absent") == 2  # asv history (none here) and the malformed file
    assert "<h2>Success criteria</h2>" in page


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("bad", [*BAD, "missing"])
def test_a_file_named_on_the_command_line_must_be_usable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, bad: str
) -> None:
    path = tmp_path / "given.json"
    if bad != "missing":
        path.write_bytes(BAD[bad][0])
    assert generate(tmp_path, f"--{source}", str(path)) == Exit.USAGE
    err = capsys.readouterr().err
    assert str(path) in err and "nothing written" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("source", "row", "field"),
    [
        ("monitor", {"samples": [{"seconds": 0, "memory_mb": EVIL, "cpu_percent": 1,
                                  "database_connections": 1, "active_threads": 1}]},
         "samples[0].memory_mb"),
        ("monitor", {"samples": [{"seconds": 0, "memory_mb": 1, "cpu_percent": 1,
                                  "database_connections": 1.5, "active_threads": 1}]},
         "samples[0].database_connections"),
        ("monitor", {"samples": [{"seconds": 0, EVIL: 1}]}, "samples[0]"),
        ("leakcheck", [{"workload": "plan", "leaked": True, "iterations": EVIL}],
         "entry 0.iterations"),
        ("leakcheck", [{"workload": ["x"], "leaked": True}], "entry 0.workload"),
        ("leakcheck", [{"workload": "plan", "leaked": "yes"}], "entry 0.leaked"),
        ("results", {"session_id": "s", "results": [{"spec": {}, "task_id": EVIL}]},
         "results[0].task_id"),
        ("results", {"session_id": "s", "results": [{"spec": {}, "task_id": 1,
                                                     "metrics": {"mean_ms": EVIL}}]},
         "results[0].metrics.mean_ms"),
        ("results", {"session_id": "s", "results": [{"spec": {}, "task_id": 1,
                                                     "passed": EVIL}]},
         "results[0].passed"),
        ("results", {"session_id": "s", "plan_id": EVIL, "results": []}, "plan_id"),
    ],
)  # fmt: skip
def test_markup_where_a_number_belongs_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, row: object, field: str
) -> None:
    good_sources(tmp_path)
    path = tmp_path / SOURCES[source]
    path.write_text(json.dumps(row))
    assert generate(tmp_path) == 0
    err = capsys.readouterr().err
    assert f"{path}: {field}" in err
    page = (tmp_path / "out" / "report.html").read_text()
    assert [m for m in MARKUP if m in page] == []


def test_asv_result_files_that_are_not_utf8_are_left_out_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_asv(tmp_path / ".asv" / "results", [1e-5, 1e-5], [5e-6, 5e-6], hostile=True)
    (tmp_path / ".asv" / "results" / "box" / "ffffffff-venv.json").write_bytes(b"\xff\xfe{")
    assert generate(tmp_path) == 0
    out, err = capsys.readouterr()
    assert "asv result file left out: ffffffff-venv.json" in err
    assert "asv history        found" in out
    page = (tmp_path / "out" / "report.html").read_text()
    assert [m for m in MARKUP if m in page] == []


def test_a_missing_asv_folder_named_on_the_command_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate(tmp_path, "--asv-results", str(tmp_path / "nope")) == Exit.USAGE
    assert "nope is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_machine_is_a_plain_name_here_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate(tmp_path, "--machine", "../../elsewhere") == Exit.USAGE
    assert "must be a plain name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_help_says_what_happens_to_a_bad_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        report_cli.main(["--help"])
    assert "exit status 64" in capsys.readouterr().out


def test_outside_a_repository_the_report_says_to_name_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("report", ["--out", str(tmp_path / "out")]) == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert err.startswith("report: cannot run: not inside a git repository (")
    assert err.rstrip().endswith("): use --repo") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
