"""The harness helpers: fresh databases, process memory, timed calls and their summary."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

import taskorch
from perfkit.harness import memory, store, timing
from perfkit.harness.environment import environment

ONE = [{"key": "a", "title": "t", "specialist": "s"}]


# -- fresh databases ---------------------------------------------------------------------------


def test_a_fresh_path_removes_what_an_earlier_run_left(tmp_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"run.db{suffix}").write_text("left over")
    path = store.fresh_path(tmp_path, "run")
    assert path == tmp_path / "run.db"
    assert not any(tmp_path.iterdir())


def test_open_fresh_starts_empty_where_a_store_with_rows_was(tmp_path: Path) -> None:
    with store.open_fresh(tmp_path, "s") as orch:
        orch.plan("g", ONE)
    with store.open_fresh(tmp_path, "s", durability="off") as orch:
        assert orch.status().total == 0


def test_fresh_url_carries_store_options(tmp_path: Path) -> None:
    url = store.fresh_url(tmp_path / "new", "s", durability="off", busy_timeout=2)
    assert url == f"sqlite:///{tmp_path}/new/s.db?durability=off&busy_timeout=2"
    with taskorch.open(url) as orch:
        assert orch.plan("g", ONE).task_ids


@pytest.mark.parametrize("name", ["", "a/b", "..\\x"])
def test_a_database_name_is_one_file_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="one file name"):
        store.fresh_path(tmp_path, name)


def test_a_scratch_url_and_its_directory_are_gone_after_the_run() -> None:
    with store.scratch_url("s", prefix="perfkit-test-") as url:
        path = Path(url.removeprefix("sqlite:///"))
        with taskorch.open(url) as orch:
            orch.plan("g", ONE)
        assert path.is_file()
    assert not path.parent.exists()


def test_a_new_directory_outlives_the_call(tmp_path: Path) -> None:
    first, second = store.new_directory(tmp_path), store.new_directory(tmp_path)
    assert first != second and first.is_dir() and first.parent == tmp_path


# -- process memory ----------------------------------------------------------------------------


def test_rss_grows_with_what_the_process_holds_and_the_peak_follows() -> None:
    before = memory.rss_bytes()
    ballast = bytearray(64 * memory.MIB)  # zero-filled: every page is touched
    grown = memory.rss_bytes()
    assert len(ballast) and grown - before > 48 * memory.MIB
    assert memory.peak_rss_bytes() >= grown


def test_a_sampler_records_at_start_interval_and_stop() -> None:
    with memory.MemorySampler(interval=0.02) as sampler:
        time.sleep(0.15)
    seconds = [t for t, _ in sampler.samples]
    assert len(seconds) >= 4 and seconds == sorted(seconds) and seconds[0] == 0.0
    assert sampler.peak_mib == max(mib for _, mib in sampler.samples) > 1
    with pytest.raises(RuntimeError, match="already running"):
        sampler.start()
        sampler.start()
    sampler.stop()


def test_a_sampler_works_as_an_async_context_manager() -> None:
    async def run() -> memory.Sampler[tuple[float, float]]:
        async with memory.MemorySampler(interval=0.01) as sampler:
            await asyncio.sleep(0.05)
        return sampler

    assert len(asyncio.run(run()).samples) >= 2


def test_a_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        memory.MemorySampler(interval=0)


def test_without_psutil_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # makes `import psutil` fail
    with pytest.raises(taskorch.ConfigurationError, match=r"taskorch\[perf\]"):
        memory.rss_bytes()


CHILD = """
import sys
print("before")
ballast = bytearray(int(sys.argv[1]) * 2**20)
print(sys.argv[2], flush=True)
sys.stdin.readline()
print("after", len(ballast))
"""


def test_a_child_is_measured_from_outside_while_it_waits() -> None:
    ballast = bytearray(200 * memory.MIB)  # the parent's memory is not the child's
    run = memory.run_measured([sys.executable, "-c", CHILD, "80", memory.READY])
    assert len(ballast) and run.returncode == 0 and run.memory is not None
    assert 80 < run.memory.rss_mib < 150 and run.memory.peak_bytes >= run.memory.rss_bytes
    assert run.stdout.split() == ["before", "after", str(80 * memory.MIB)]


def test_a_child_that_never_asks_is_not_measured() -> None:
    run = memory.run_measured([sys.executable, "-c", "import sys; sys.exit('no')"])
    assert run.memory is None and run.returncode == 1 and "no" in run.stderr


# -- timing ------------------------------------------------------------------------------------


def test_a_summary_of_known_times() -> None:
    s = timing.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.count, s.mean, s.median, s.min, s.max) == (5, 3.0, 3.0, 1.0, 5.0)
    assert s.p95 == pytest.approx(4.8)  # interpolated between the two largest
    assert s.as_ms()["mean_ms"] == 3000.0 and s.as_ms()["ops_per_second"] == pytest.approx(1 / 3)
    assert timing.summarize([2.0]).p95 == 2.0
    with pytest.raises(ValueError, match="no times"):
        timing.summarize([])


def test_calls_are_timed_one_by_one_after_the_warmup() -> None:
    calls: list[str] = []
    times = timing.time_calls(lambda: calls.append("x"), 7, warmup=3)
    assert len(calls) == 10 and len(times) == 7 and all(t >= 0 for t in times)


def test_round_robin_takes_the_steps_in_turn() -> None:
    order: list[str] = []
    steps = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    times = timing.time_round_robin(steps, 5, warmup=1)
    assert order == ["a", "b", "a", "b", "a", "b", "a"]  # warm-up of each, then in turn
    assert [len(times["a"]), len(times["b"])] == [3, 2]


def test_a_slow_step_takes_its_time() -> None:
    [took] = timing.time_calls(lambda: time.sleep(0.02), 1, warmup=0)
    assert 0.015 < took < 1.0


def test_awaited_calls_are_timed() -> None:
    async def step() -> None:
        await asyncio.sleep(0.01)

    times = asyncio.run(timing.atime_calls(step, 3, warmup=1))
    assert len(times) == 3 and min(times) > 0.005


@pytest.mark.parametrize(("calls", "warmup"), [(0, 1), (1, -1)])
def test_bad_counts_are_refused(calls: int, warmup: int) -> None:
    with pytest.raises(ValueError):
        timing.time_calls(lambda: None, calls, warmup=warmup)
    with pytest.raises(ValueError, match="no steps"):
        timing.time_round_robin({}, 1)


def test_the_environment_names_the_versions() -> None:
    env = environment()
    assert env["taskorch"] == taskorch.__version__ and env["codec"] in ("json", "orjson")
    assert {"python", "sqlite", "platform", "cpus"} <= set(env)
