"""The Python API on real workloads: reports, errors, files left behind."""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import memray
import pytest

import leakcheck
from leakcheck import Report, Step, check, check_session
from leakcheck.flamegraph import external_resources
from leakcheck.progress import StreamProgress

SMALL = {"iterations": 2000, "warmup": 200}


def make_leaky() -> tuple[Step, int]:
    kept: list[bytes] = []

    def leaky() -> None:
        kept.append(bytes(100))

    return leaky, leaky.__code__.co_firstlineno + 1


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files of the code under test go to a directory of the test's own."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_leak_report() -> None:
    step, line = make_leaky()
    report = check(step, name="leaky", **SMALL)
    assert report.leaked
    assert report.iterations == 2000 and report.warmup == 200
    assert report.bytes_per_iteration == pytest.approx(133, rel=0.01)  # sys.getsizeof(bytes(100))
    assert (report.locations[0].file, report.locations[0].line) == (__file__, line)
    assert report.locations[0].function == "leaky"
    assert report.allocations > 2000
    assert report.timings.loop > 0 and report.timings.analysis > 0
    assert report.capture is None and report.flamegraph is None


def test_report_is_immutable_and_round_trips_through_json() -> None:
    step, _ = make_leaky()
    report = check(step, **SMALL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.leaked = False  # type: ignore[misc]
    data = report.to_dict()
    assert {"leaked", "bytes_per_iteration", "iterations", "locations"} <= data.keys()
    assert {"file", "line", "function", "bytes_per_iteration"} <= data["locations"][0].keys()
    assert Report.from_dict(data) == report


def test_clean_workload() -> None:
    report = check(lambda: [n * n for n in range(20)], **SMALL)
    assert not report.leaked
    assert report.leaks == ()
    assert "no leak" in report.describe()


def test_workload_that_raises() -> None:
    calls = iter(range(10**6))

    def flaky() -> None:
        if next(calls) == 700:
            raise KeyError("gone")

    with pytest.raises(leakcheck.WorkloadError, match=r"KeyError.*iteration 501") as info:
        check(flaky, **SMALL)
    assert isinstance(info.value.__cause__, KeyError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 10}, "iterations"),
        ({"warmup": -1}, "warmup"),
        ({"threshold": -0.5}, "threshold"),
    ],
)
def test_bad_options(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(leakcheck.UsageError, match=message):
        check(lambda: None, **{**SMALL, **kwargs})  # type: ignore[arg-type]


def test_not_callable() -> None:
    with pytest.raises(leakcheck.UsageError, match="callable"):
        check(42, **SMALL)  # type: ignore[arg-type]


def test_capture_is_deleted(private_tmp: Path) -> None:
    check(lambda: None, **SMALL)
    assert list(private_tmp.iterdir()) == []


def test_capture_is_kept_on_request(private_tmp: Path, tmp_path: Path) -> None:
    step, _ = make_leaky()
    kept = tmp_path / "keep" / "capture.bin"
    report = check(step, keep_capture=kept, **SMALL)
    assert report.capture == kept
    reader = memray.FileReader(kept)
    assert reader.metadata.total_allocations > 0
    reader.close()
    assert list(private_tmp.iterdir()) == []


def test_flamegraph_opens_offline(tmp_path: Path) -> None:
    step, _ = make_leaky()
    out = tmp_path / "leak.html"
    report = check(step, flamegraph=out, **SMALL)
    assert report.flamegraph == out
    html = out.read_text(encoding="utf-8")
    assert external_resources(html) == []
    assert "<script" in html and "leaky" in html


def test_flamegraph_only_when_leaking(tmp_path: Path) -> None:
    out = tmp_path / "clean.html"
    report = check(lambda: None, flamegraph=out, flamegraph_on_leak_only=True, **SMALL)
    assert report.flamegraph is None and not out.exists()


def test_another_tracker_is_reported(tmp_path: Path) -> None:
    with (
        memray.Tracker(tmp_path / "outer.bin"),
        pytest.raises(leakcheck.TrackerError, match="another memray Tracker"),
    ):
        check(lambda: None, **SMALL)


def test_progress_is_written_for_long_runs() -> None:
    stream = io.StringIO()
    check(lambda: None, progress=StreamProgress(stream, delay=0, interval=0), **SMALL)
    text = stream.getvalue()
    assert "tracking: " in text and "2000/2000 iterations (100%)" in text


# --- the session (factory) form -----------------------------------------------------------


def test_session_gets_a_scratch_directory_and_is_closed() -> None:
    seen: list[Path] = []
    closed: list[bool] = []

    @contextmanager
    def session(scratch: Path) -> Iterator[Step]:
        seen.append(scratch)
        (scratch / "state.txt").write_text("open")
        yield lambda: (scratch / "state.txt").read_text()
        closed.append(True)

    report = check_session(session, **SMALL)
    assert not report.leaked
    assert closed == [True]
    assert not seen[0].exists()


def test_session_that_fails_to_start() -> None:
    @contextmanager
    def session(scratch: Path) -> Iterator[Step]:
        raise OSError("database locked")
        yield lambda: None  # pragma: no cover

    with pytest.raises(leakcheck.WorkloadError, match=r"failed to start.*database locked"):
        check_session(session, **SMALL)


def test_session_is_closed_when_its_step_raises() -> None:
    closed: list[bool] = []

    @contextmanager
    def session(scratch: Path) -> Iterator[Step]:
        try:
            yield lambda: 1 / 0
        finally:
            closed.append(True)

    with pytest.raises(leakcheck.WorkloadError, match="ZeroDivisionError"):
        check_session(session, **SMALL)
    assert closed == [True]


def test_session_that_fails_to_close() -> None:
    @contextmanager
    def session(scratch: Path) -> Iterator[Step]:
        yield lambda: None
        raise RuntimeError("flush failed")

    with pytest.raises(leakcheck.WorkloadError, match=r"failed to close.*flush failed"):
        check_session(session, **SMALL)


def test_leak_held_by_the_open_session_is_found() -> None:
    @contextmanager
    def session(scratch: Path) -> Iterator[Step]:
        history: list[str] = []
        yield lambda: history.append(f"event {len(history)}")

    report = check_session(session, **SMALL)
    assert report.leaked
    assert report.locations[0].file == __file__


def test_bytes_per_iteration_for_benchmarks() -> None:
    step, _ = make_leaky()
    assert leakcheck.bytes_per_iteration(step, **SMALL) == pytest.approx(133, rel=0.01)
    assert leakcheck.bytes_per_iteration(lambda: None, **SMALL) == 0.0
