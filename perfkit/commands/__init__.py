"""Every perfkit command behind one entry point: ``python -m perfkit COMMAND [OPTIONS]``.

The registry names each command and the function that runs it (``module:function``, taking the
arguments after the command's name and returning an exit status of
:class:`~perfkit.kit.exits.Exit`); a command's module is imported only when it runs, so
``--help`` costs nothing. The files in ``scripts/`` and ``tools/`` call :func:`run` with their
command's name (their usage lines name the script; through :func:`main`, ``python -m perfkit
COMMAND``). A :class:`~perfkit.kit.options.UsageError` from any command ends it with
``Exit.USAGE``; a :class:`taskorch.ConfigurationError` (a tool or package missing, its message
saying what to install) with ``Exit.CANNOT_RUN``; Ctrl-C with ``Exit.INTERRUPTED``.

Beside the registry live the commands that are only commands (``validate``, ``fleet``, ``count``,
``report``, ``monitor``, ``peer``); the others' ``main`` lives in the room of what it runs. May
import: any room (no room imports this one).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..kit.exits import Exit, table
from ..kit.options import UsageError, current_prog, prog_named

__all__ = ["COMMANDS", "STRESS", "Command", "Exit", "main", "run"]

PROG = "python -m perfkit"


@dataclass(frozen=True, slots=True)
class Command:
    """A command: its name, what runs it (``module:function``) and what it does."""

    name: str
    target: str
    summary: str

    def load(self) -> Callable[[list[str]], int]:
        module, _, function = self.target.partition(":")
        found: Callable[[list[str]], int] = getattr(importlib.import_module(module), function)
        return found


def _registry(*commands: Command) -> dict[str, Command]:
    return {c.name: c for c in commands}


#: The stress runs, ``python -m perfkit stress NAME``.
STRESS = _registry(
    Command("agents", "perfkit.stress.agents:main", "fleets of 50 to 1,000 agents"),
    Command("ab", "perfkit.stress.ab:main", "one fleet on two revisions, alternated"),
    Command("compare", "perfkit.stress.compare:main", "the variants of one design knob"),
    Command("crash", "perfkit.stress.crash:main", "an agent process killed mid-run"),
    Command("large-graph", "perfkit.stress.large_graph:main", "a 100,000-node graph drained"),
    Command("multiprocess", "perfkit.stress.multiprocess:main", "several processes, one file"),
    Command(
        "pool-exhaustion",
        "perfkit.stress.pool_exhaustion:main",
        "more PostgreSQL threads than pooled connections",
    ),
)

COMMANDS = _registry(
    Command("nightly", "perfkit.jobs.nightly:main", "record what is new on main and judge it"),
    Command("pr-check", "perfkit.jobs.prcheck:main", "the nightly's counted gate on a branch"),
    Command(
        "calibrate", "perfkit.timing.calibration:main", "A/A calibration of the timing verdict"
    ),
    Command("validate", "perfkit.commands.cli:main", "check the success criteria; write a report"),
    Command("fleet", "perfkit.commands.fleet_command:main", "demo agents against a generated plan"),
    Command(
        "count", "perfkit.commands.count_cli:main", "instructions per operation under callgrind"
    ),
    Command("report", "perfkit.commands.report_cli:main", "one HTML report and a Markdown summary"),
    Command(
        "monitor", "perfkit.commands.monitor_cli:main", "agents at work under a resource monitor"
    ),
    Command("publish", "perfkit.reports.site:publish_main", "publish the benchmark history site"),
    Command("assets", "perfkit.reports.site:main", "make a published site render with no network"),
    Command("regressions", "perfkit.reports.sitedata:main", "rewrite the site's regressions page"),
    Command("figures", "perfkit.reports.figures:main", "one commit's figures as a Markdown table"),
    Command("peer", "perfkit.commands.peer:main", "the same workloads on mcp-task-orchestrator"),
    Command(
        "side-by-side",
        "perfkit.commands.sidebyside:main",
        "taskorch and its bare reference timed in turn in one process",
    ),
    Command(
        "evaluate-changepoints",
        "perfkit.verdict.changepoint_eval:main",
        "score the change-point rule on annotated series",
    ),
    Command("stress", "perfkit.commands:stress", "the stress runs (stress --help lists them)"),
)


def _help(prog: str, commands: Mapping[str, Command]) -> str:
    width = max(len(name) for name in commands)
    lines = [f"usage: {prog} COMMAND [OPTIONS]   ({prog} COMMAND --help: its options)", ""]
    lines += ["commands:", *(f"  {c.name:<{width}}  {c.summary}" for c in commands.values())]
    lines += ["", "exit status, the same for every command (1, 2 and 8 combine):", table()]
    return "\n".join(lines)


def _dispatch(prog: str, commands: Mapping[str, Command], argv: Sequence[str], named: bool) -> int:
    args = list(argv)
    if args[:1] in (["-h"], ["--help"]):
        print(_help(prog, commands))
        return Exit.OK
    if not args or args[0] not in commands:
        said = f"no such command: {args[0]}" if args else "a command is needed"
        print(f"{_help(prog, commands)}\n\n{prog}: {said}", file=sys.stderr)
        return Exit.USAGE
    if not named:
        return run(args[0], args[1:], commands, prog)
    with prog_named(f"{prog} {args[0]}"):
        return run(args[0], args[1:], commands, prog)


def run(
    name: str,
    argv: Sequence[str],
    commands: Mapping[str, Command] = COMMANDS,
    prog: str = PROG,
) -> int:
    """Run the command ``name`` with ``argv``; its exit status."""
    from taskorch.errors import ConfigurationError  # here: --help alone imports no engine

    try:
        return int(commands[name].load()(list(argv)))
    except UsageError as exc:
        print(f"{prog} {name}: {exc}", file=sys.stderr)
        return Exit.USAGE
    except ConfigurationError as exc:  # a tool or package missing: the message says what to do
        print(f"{prog} {name}: cannot run: {exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    except KeyboardInterrupt:
        print(f"{prog} {name}: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader of the output went away (``| head``): stop quietly, as a pipeline expects,
        # and keep the interpreter's own flush at exit from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.CLOSED_PIPE


def stress(argv: list[str]) -> int:
    """``python -m perfkit stress NAME [OPTIONS]``."""
    named = current_prog()
    return _dispatch(named or f"{PROG} stress", STRESS, argv, named is not None)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m perfkit COMMAND [OPTIONS]``."""
    return _dispatch(PROG, COMMANDS, sys.argv[1:] if argv is None else argv, named=True)
