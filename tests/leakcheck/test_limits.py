"""Every entry point checks its numbers (iterations, warm-up, threshold, budget) before it runs
anything: of the right type, finite, in range, with an error naming the argument."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from leakcheck import check, check_session
from leakcheck.errors import UsageError
from leakcheck.suite import run_suite

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the run_python fixture

NAN, INF = float("nan"), float("inf")
BAD = {
    "iterations": [-1, 2.5, "2000", True, None, 10**12, NAN],
    "warmup": [-1, 0.5, "0", False, 10**12, INF],
    "threshold": [NAN, INF, -INF, -0.5, "0.1", True, None, 1e300],
}
CASES = [(name, value) for name, values in BAD.items() for value in values]


class Never:
    """A step or session that fails the test if anything calls it."""

    calls = 0

    def __call__(self, *args: object) -> Any:
        self.calls += 1
        raise AssertionError("ran despite a bad argument")


@pytest.mark.parametrize(("name", "value"), CASES, ids=repr)
def test_check_refuses_a_bad_number_naming_it(name: str, value: object) -> None:
    step = Never()
    with pytest.raises(UsageError, match=f"^{name} must be"):
        check(step, **{"iterations": 32, "warmup": 0, name: value})
    assert step.calls == 0


@pytest.mark.parametrize(("name", "value"), CASES, ids=repr)
def test_check_session_refuses_before_the_session_opens(name: str, value: object) -> None:
    session = Never()
    with pytest.raises(UsageError, match=f"^{name} must be"):
        check_session(session, **{"iterations": 32, "warmup": 0, name: value})
    assert session.calls == 0


class Registered:
    def __init__(self) -> None:
        self.opened = 0

    @contextmanager
    def session(self, scratch: Path) -> Iterator[Callable[[], None]]:
        self.opened += 1
        yield lambda: None


@pytest.mark.parametrize(
    ("name", "value"),
    [*CASES, ("budget", NAN), ("budget", INF), ("budget", -1), ("budget", "60"),
     ("budget", 10**9)],
    ids=repr,
)  # fmt: skip
def test_the_suite_refuses_a_bad_number_before_any_workload(name: str, value: object) -> None:
    if name == "warmup" and value is None:
        pytest.skip("None means the suite's default warm-up")
    workload = Registered()
    with pytest.raises(UsageError, match=f"^{name} must be"):
        run_suite({"w": workload}, **{"iterations": 32, name: value})  # type: ignore[dict-item]
    assert workload.opened == 0


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("run", "--threshold", "nan"), ("run", "--threshold", "inf"),
        ("run", "--threshold", "-1"), ("run", "--iterations", "1e4"),
        ("run", "--iterations", str(10**12)), ("run", "--warmup", "-5"),
        ("run", "--warmup", "nan"), ("suite", "--budget", "nan"), ("suite", "--budget", "-3"),
        ("suite", "--budget", "inf"), ("suite", "--iterations", "0"),
    ],
)  # fmt: skip
def test_the_command_line_exits_2_naming_the_option(
    run_python: Runner, tmp_path: Path, command: str, option: str, value: str
) -> None:
    (tmp_path / "never.py").write_text("def step():\n    raise SystemExit(99)\n")
    target = ["never:step"] if command == "run" else ["--only", "nothing"]
    result = run_python("-m", "leakcheck", command, *target, option, value, "-q", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert option in result.stderr and "Traceback" not in result.stderr
