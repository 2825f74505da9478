"""The ``taskorch`` command: init, plan, status, show, demo, and the subcommands that other
installed packages add (``fleet`` and ``perf validate``, from the ``perfkit`` toolkit).

Exit status: 0 success, 1 a taskorch error (the message says what to do), 2 bad usage,
3 ``perf validate`` found a success criterion failed or not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

import taskorch

from . import inputs
from .checks import MAX_ID
from .errors import InvalidArgumentError, TaskorchError

DB_HELP = (
    "database URL (default: $TASKORCH_URL, else sqlite:///.taskorch/taskorch.db in the current"
    " directory); e.g. sqlite:///work.db, sqlite:////abs/path.db?durability=full"
)

#: Other installed packages add subcommands here: each entry point is a callable taking the
#: subparsers and the ``--db`` help text (``taskorch fleet`` and ``taskorch perf`` come this way).
COMMANDS_GROUP = "taskorch.commands"

DEMO_PLAN: list[dict[str, Any]] = [
    {"key": "research", "title": "Survey the existing tools", "specialist": "researcher"},
    {"key": "design", "title": "Sketch the architecture", "specialist": "architect",
     "depends_on": ["research"]},
    {"key": "build", "title": "Implement the core", "specialist": "implementer",
     "depends_on": ["design"]},
    {"key": "test", "title": "Write the tests", "specialist": "tester", "depends_on": ["design"]},
    {"key": "docs", "title": "Document it", "specialist": "documenter",
     "depends_on": ["build", "test"]},
]  # fmt: skip


class UsageError(Exception):
    """A mistake in how the command was called (a missing or unreadable file, a bad value):
    :func:`main` prints it and exits 2. Subcommands added by other packages may raise it too."""


def task_id_argument(text: str) -> int:
    """An id on the command line: an integer in 1..2**63-1 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 < value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"an id is between 1 and 2**63-1, got {text}")
    return value


def resolve_url(args: argparse.Namespace) -> str:
    """The database URL: ``--db``, else ``$TASKORCH_URL``, else the default file."""
    return str(args.db or os.environ.get("TASKORCH_URL") or taskorch.DEFAULT_URL)


def open_db(args: argparse.Namespace) -> taskorch.Orchestrator:
    return taskorch.open(resolve_url(args))


def cmd_init(args: argparse.Namespace) -> int:
    with open_db(args) as orch:
        print(f"initialized {orch.store.url}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        spec = inputs.load(args.file, json.loads)
    except OSError as exc:
        raise UsageError(f"cannot read plan file {args.file}: {exc.strerror or exc}") from exc
    except InvalidArgumentError as exc:  # not a regular file, too large, not JSON, too deep
        raise UsageError(f"cannot read plan file {exc}") from exc
    if not isinstance(spec, dict) or "goal" not in spec or "subtasks" not in spec:
        raise UsageError(
            'a plan file is a JSON object: {"goal": "...", "subtasks": [...], "context": {...}}'
        )
    with open_db(args) as orch:
        plan = orch.plan(spec["goal"], spec["subtasks"], context=spec.get("context"))
    print(
        json.dumps(
            {
                "parent_id": plan.parent_id,
                "task_ids": dict(zip(plan.keys, plan.task_ids, strict=True)),
            }
        )
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with open_db(args) as orch:
        status = orch.status()
    if args.json:
        print(json.dumps(status.as_dict()))
        return 0
    print(f"subtasks: {status.total}")
    for state, n in sorted(status.subtasks.items()):
        print(f"  {state:<10} {n}")
    print(f"plans: {sum(status.plans.values())}")
    for state, n in sorted(status.plans.items()):
        print(f"  {state:<10} {n}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_db(args) as orch:
        task = orch.get(args.id)
        out: dict[str, Any] = (
            orch.synthesize(task.id, partial=True) if task.is_parent else orch.context(task.id)
        )
        if not task.is_parent:
            out["status"] = task.status.value
            out["result"] = task.result
    print(json.dumps(out, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Plan a small goal and let one agent per specialist work it to the end, printing each step."""
    with open_db(args) as orch:
        plan = orch.plan("Build a small tool", DEMO_PLAN, context={"demo": True})
        print(
            f"planned goal {plan.parent_id} with {len(plan.task_ids)} subtasks in {orch.store.url}"
        )
        while (task := orch.claim(agent="demo-agent")) is not None:
            context = orch.context(task.id)
            inputs = [d["key"] for d in context["dependencies"]]
            print(f"  {task.specialist:<11} claimed {task.key!r:<11} inputs={inputs} -> completed")
            orch.complete(task.id, agent=task.agent or "", result=f"{task.title}: done")
        summary = orch.synthesize(plan.parent_id)
        print(f"plan {plan.parent_id} {summary['status']}: {summary['counts']}")
        print(json.dumps(orch.status().as_dict()))
    return 0 if summary["status"] == "completed" else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskorch",
        description="A fast, embeddable task orchestrator for agent workflows.",
        epilog="Exit status: 0 ok, 1 a taskorch error (the message says what to do), 2 bad usage,"
        " 3 a performance criterion failed (perf validate).",
    )
    parser.add_argument("--version", action="version", version=f"taskorch {taskorch.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--db", help=DB_HELP)
        return p

    add("init", "create the database (and its folder) if missing").set_defaults(func=cmd_init)
    p = add("plan", "write a plan from a JSON file {goal, subtasks, context}")
    p.add_argument("file", help="the plan file")
    p.set_defaults(func=cmd_plan)
    p = add("status", "counts of tasks by state")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)
    p = add("show", "a subtask's context and result, or a plan's synthesis")
    p.add_argument("id", type=task_id_argument, help="task or plan id")
    p.set_defaults(func=cmd_show)
    add("demo", "plan a small goal and work it to completion, printing each step").set_defaults(
        func=cmd_demo
    )
    for command in entry_points(group=COMMANDS_GROUP):
        # A broken plugin must not take the built-in commands down with it.
        try:
            command.load()(sub, DB_HELP)
        except Exception as exc:
            print(
                f"taskorch: warning: plugin command {command.name!r} ({command.value}) not"
                f" loaded: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the one place where errors become messages and exit statuses (a user's
    mistake never shows a traceback; a bug still does)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse prints it and exits 2
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"taskorch: {exc}", file=sys.stderr)
        return 2
    except TaskorchError as exc:
        print(f"taskorch: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
