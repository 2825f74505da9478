"""Counting instructions under real valgrind (skipped, saying so, where valgrind is missing: CI
installs it), and reading callgrind's output files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfkit.counts import instructions
from perfkit.counts.callgrind import parse
from perfkit.counts.instructions import Count, Operation, count, count_bytecodes, grown
from tests.support import ROOT

needs_valgrind = pytest.mark.skipif(
    instructions.valgrind() is None, reason=instructions.INSTALL_HINT
)

# Small and without state: a 2 KB context encoded to JSON.
TINY = Operation("encode_context", {}, steps=(20, 60))


@needs_valgrind
def test_a_tiny_workload_is_counted_per_step_whatever_the_loop_lengths() -> None:
    longer = Operation("encode_context", {}, steps=(40, 160))
    found = count({"tiny": TINY, "longer": longer, "again": TINY})
    tiny, again = found["tiny"].instructions, found["again"].instructions
    assert tiny is not None and 2_000 < tiny < 200_000
    # Start-up and the loop's own entry cancel: other loop lengths, or what ran before in the
    # process, move the count per step by less than the gate's 1 %.
    assert found["longer"].instructions == pytest.approx(tiny, rel=0.01)
    assert again == pytest.approx(tiny, rel=0.01)
    # The C functions of the step, publish's own included, per step.
    assert found["tiny"].functions
    assert max(found["tiny"].functions.values()) <= 2.5 * tiny


def test_bytecodes_name_the_python_functions() -> None:
    found = count_bytecodes({"tiny": TINY})["tiny"]
    assert found.instructions is not None and found.instructions > 5
    assert any(name.startswith("dumps (") for name in found.functions)


def test_unknown_operations_are_refused() -> None:
    with pytest.raises(instructions.CountError, match="unknown operations"):
        count(["no_such_operation"])


SNIPPET = """
import operator
def work(n):
    def run():
        sorted([(i * 7919) % 1000 for i in range(n)])
    return run
operator.call(work(1000))
operator.call(work(3000))
"""


@needs_valgrind
def test_a_real_callgrind_output_is_read(tmp_path: Path) -> None:
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
               "--toggle-collect=_operator_call", "--dump-after=_operator_call",
               "--callgrind-out-file=cg.out", sys.executable, "-c", SNIPPET]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    small, large = (parse((tmp_path / f"cg.out.{i}").read_text()) for i in (1, 2))
    assert large.total > 2 * small.total > 0
    # list.sort holds a large part of the work and grows with it; the marker holds all of it.
    assert small.inclusive["_operator_call"] == pytest.approx(small.total, rel=0.01)
    assert large.inclusive["list_sort"] > 2 * small.inclusive["list_sort"] > 0
    collected = int(done.stderr.split("Collected :")[1].split()[0])
    assert small.total + large.total == collected
    before = Count("x", float(small.total), {k: float(v) for k, v in small.inclusive.items()})
    after = Count("x", float(large.total), {k: float(v) for k, v in large.inclusive.items()})
    names = [fn for fn, _, _ in grown(before, after, top=20)]
    assert "list_sort" in names and "_operator_call" not in names  # roots left out


def test_the_reader_adds_calls_to_the_caller_and_uncompresses_names() -> None:
    text = """version: 1
creator: hand
positions: line
events: Ir
fl=(1) a.c
fn=(1) outer
10 5
cfl=(1)
cfn=(2) inner
calls=2 20
10 30
fn=(2)
20 30
cfn=(2)
calls=1 20
20 7
fn=(3) other
+1 4
* 1
summary: 40
"""
    profile = parse(text)
    assert profile.total == 40
    # outer: 5 own + 30 in inner; inner's call to itself is not added again.
    assert profile.inclusive == {"outer": 35, "inner": 30, "other": 5}


def test_grown_ranks_growth_and_leaves_out_roots() -> None:
    before = Count("op", 100.0, {"root": 100.0, "a": 10.0, "b": 40.0, "c": 5.0})
    after = Count("op", 130.0, {"root": 130.0, "a": 35.0, "b": 45.0, "c": 5.0, "new": 2.0})
    assert grown(before, after) == [("a", 10.0, 35.0), ("b", 40.0, 45.0), ("new", 0.0, 2.0)]
    assert grown(Count("op", None), after) == []


def test_a_quick_run_runs_every_operation_once_and_counts_nothing() -> None:
    found = count(["plan_1", "encode"], quick=True)
    assert [c.instructions for c in found.values()] == [None, None]
    assert all("quick run" in c.skipped and c.seconds > 0 for c in found.values())


@pytest.mark.parametrize("argv", [["no_such_workload"], ["--steps", "5", "5", "claim"]])
def test_count_instructions_refuses_bad_arguments_before_counting(argv: list[str]) -> None:
    from perfkit.commands import Exit, main

    assert main(["count", *argv]) == Exit.USAGE


def test_an_operation_the_engine_under_test_lacks_is_skipped_not_failed(tmp_path: Path) -> None:
    from perfkit.data.gitrepo import git

    if git(ROOT, "rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("a shallow clone has no history of the engine")
    first = git(ROOT, "log", "--reverse", "--format=%H", "--", "taskorch/engine.py").split()
    old = tmp_path / "old"
    git(ROOT, "worktree", "add", "--detach", "-q", str(old), first[0])
    try:  # the first engine had no Orchestrator.batch, which the complete workload needs
        found = count({"complete": Operation("complete", {})}, engine=old, quick=True)
    finally:
        git(ROOT, "worktree", "remove", "--force", str(old))
    assert "Orchestrator.batch does not exist" in found["complete"].skipped
