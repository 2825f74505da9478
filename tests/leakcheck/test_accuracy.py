"""The comparison detectors and the scoring of the corpus."""

from __future__ import annotations

from leakcheck.accuracy import confusion_table, verdict_table
from leakcheck.baselines import Verdict, run_pytest_memray, tracemalloc_verdict
from leakcheck.corpus import CASES


def test_tracemalloc_diff_flags_a_bounded_cache() -> None:
    leak = tracemalloc_verdict("slow_leak", 4000, 400, 0.1)
    assert leak.leaked
    assert leak.location is not None
    assert leak.location.endswith(f"corpus.py:{CASES['slow_leak'].leak_line}")
    # Total growth divided by iterations: the filled cache reads as a leak.
    assert tracemalloc_verdict("lru_cache_bounded", 4000, 400, 0.1).leaked


def test_pytest_memray_limit_leaks_runs_and_is_parsed() -> None:
    # 1 B/iteration: a limit of 2 KB per stack, above what the clean case leaves behind.
    verdicts = run_pytest_memray(["leak_64_bytes", "allocate_and_free"], 2000, 200, 1.0)
    leak, clean = verdicts["leak_64_bytes"], verdicts["allocate_and_free"]
    assert leak.leaked is True, leak.error
    assert leak.location is not None
    assert leak.location.endswith(f"corpus.py:{CASES['leak_64_bytes'].leak_line}")
    assert clean.leaked is False, clean.error


def test_scoring() -> None:
    cases = [CASES["slow_leak"], CASES["sawtooth"], CASES["cache_beyond_window"]]
    corpus_file = "/x/leakcheck/corpus.py"
    line = CASES["slow_leak"].leak_line
    verdicts = [
        Verdict("slow_leak", "d", True, f"{corpus_file}:{line}"),
        Verdict("slow_leak", "d", False),
        Verdict("sawtooth", "d", True),
        Verdict("sawtooth", "d", None, error="crashed"),
        Verdict("cache_beyond_window", "d", True),
    ]
    rows = confusion_table(cases, ["d"], verdicts)
    assert rows[-1] == "| d | 1 | 1 | 1 | 0 | 1 | 1/1 | 1/1 |"
    table = "\n".join(verdict_table(cases, ["d"], verdicts))
    assert "| slow_leak | leak | 1/2 leak, line 1/2 |" in table
    assert "| sawtooth | no leak | 1/2 leak, 1 failed |" in table
