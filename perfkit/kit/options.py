"""The options every perfkit command shares, each checked while argparse reads it.

One parser class (a bad option is a :class:`UsageError`, exit status ``Exit.USAGE`` for every
command), one whole-number type and one number type with their ranges, and the options several
commands take, spelled and defaulted the same way everywhere: ``--repo``, ``--machine``,
``--bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import math
import os
import platform
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "Parser",
    "UsageError",
    "add_bench",
    "add_machine",
    "add_repo",
    "default_machine",
    "integer",
    "machine_name",
    "named_machine",
    "number",
    "output_file",
    "output_folder",
    "plain",
    "prog_named",
]

#: A negative number, which is a value, not an option.
_NUMBER = re.compile(r"-\d[\d_.eE+-]*")

#: The largest whole number an option takes when its own range has no end.
NO_END = 10**12

#: What the docstrings a help is made of mark up for Sphinx, and its plain reading: a role
#: (``:func:`x```, ``:class:`~a.B```) reads as its target (``~``: the last name alone), a
#: literal in double or single backquotes as its text.
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")


class UsageError(ValueError):
    """An option or an input file the user gave cannot be used; the message names it."""


# How the running command was invoked, for its usage line (None: as its script, sys.argv[0]).
_PROG: contextvars.ContextVar[str | None] = contextvars.ContextVar("perfkit_prog", default=None)


@contextlib.contextmanager
def prog_named(prog: str) -> Iterator[None]:
    """Parsers made inside name the command ``prog`` (``python -m perfkit nightly``)."""
    token = _PROG.set(prog)
    try:
        yield
    finally:
        _PROG.reset(token)


def current_prog() -> str | None:
    """The name :func:`prog_named` gave the running command, if any."""
    return _PROG.get()


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (after the usage line), so that
    every command turns bad usage into the same exit status. Its usage line names the command as
    it was invoked: ``python -m perfkit COMMAND``, or the script's own name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prog", _PROG.get())
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._given = [str(a) for a in (sys.argv[1:] if args is None else args)]
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        unknown = self._unknown_options()
        if unknown and message.startswith("the following arguments are required"):
            # argparse says what is missing before what it does not know; the unknown option
            # is the more likely mistake (a misspelt option, and its value read as a positional)
            message = f"unrecognized arguments: {' '.join(unknown)} (and {message})"
        raise UsageError(message)

    def _unknown_options(self) -> list[str]:
        """The options given that no option of this parser is, or abbreviates."""
        known = self._option_string_actions
        unknown = []
        for token in getattr(self, "_given", []):
            if token == "--":
                break
            name = token.split("=", 1)[0]
            if not name.startswith("-") or name == "-" or _NUMBER.fullmatch(name):
                continue
            if name not in known and not any(o.startswith(name) for o in known):
                unknown.append(name)
        return unknown

    def format_help(self) -> str:
        """The help as plain text (:func:`plain`), every option that takes a value and has a
        default saying what it is."""
        self.description = plain(self.description)
        self.epilog = plain(self.epilog)
        for action in self._actions:
            if isinstance(action.help, str):
                action.help = plain(action.help)
            said = action.help or ""
            if _says_no_default(action) and "default" not in said.lower():
                shown = _shown(action.default).replace("%", "%%")
                action.help = f"{said} (default: {shown})" if said else f"default: {shown}"
        return super().format_help()


def plain(text: str | None) -> str | None:
    """``text`` with its Sphinx markup read out: a help is read in a terminal, not rendered."""
    if not text:
        return text

    def role(found: re.Match[str]) -> str:
        target = found.group(2)
        return target.rsplit(".", 1)[-1] if found.group(1) else target

    return _LITERAL.sub(lambda m: m.group(1) or m.group(2), _ROLE.sub(role, text))


def _says_no_default(action: argparse.Action) -> bool:
    """Whether ``action`` takes a value, has a default worth saying and does not say it."""
    takes_value = action.nargs != 0 and (bool(action.option_strings) or action.nargs in ("?", "*"))
    default = action.default
    unset = default is None or default is argparse.SUPPRESS or isinstance(default, bool)
    return (
        takes_value
        and action.help is not argparse.SUPPRESS
        and not unset
        and default not in ([], (), "")
    )


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def integer(minimum: int, maximum: int = NO_END) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not minimum <= value <= maximum:
            if maximum == NO_END:
                raise argparse.ArgumentTypeError(f"must be at least {minimum:,}, got {value:,}")
            raise argparse.ArgumentTypeError(
                f"must be between {minimum:,} and {maximum:,}, got {value:,}"
            )
        return value

    return parse


def number(
    minimum: float, maximum: float = math.inf, *, above: bool = False
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``[minimum, maximum]`` (``above``: strictly
    greater than ``minimum``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        low_ok = value > minimum if above else value >= minimum
        if not (math.isfinite(value) and low_ok and value <= maximum):
            low = "above" if above else "at least"
            high = "" if maximum == math.inf else f" and at most {maximum:g}"
            raise argparse.ArgumentTypeError(
                f"must be a finite number {low} {minimum:g}{high}, got {text!r}"
            )
        return value

    return parse


def output_file(text: str) -> Path:
    """An argparse ``type``: a file a command writes when it is done, checked before it starts
    (a run of minutes must not end unable to write what it measured): its folder exists and is
    writable, and it is no folder itself."""
    path = Path(text)
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: name a file")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} is not writable")
    return path


def output_folder(text: str) -> Path:
    """An argparse ``type``: a folder a command writes into (made when missing), checked before
    it starts: what of it exists is a writable folder."""
    path = Path(text)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write into {text}: {existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {text}: {existing} is not writable")
    return path


def machine_name(text: str) -> str:
    """An argparse ``type``: an asv machine name, which names a folder of ``results/`` and a
    calibration file, so a plain name, never a path."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) or len(text) > 100:
        raise argparse.ArgumentTypeError(
            f"must be a plain name (letters, digits, '.', '_', '-'), not {text!r}"
        )
    return text


def default_machine() -> str:
    """The asv machine a command means when none is named: ``$TASKORCH_ASV_MACHINE``, else the
    host name (what ``asv machine`` calls this machine)."""
    return os.environ.get("TASKORCH_ASV_MACHINE") or platform.node()


def named_machine() -> tuple[str, str] | None:
    """The machine ``$TASKORCH_ASV_MACHINE`` names, with how to say where the name came from;
    None when it is not set."""
    name = os.environ.get("TASKORCH_ASV_MACHINE")
    return (name, f"$TASKORCH_ASV_MACHINE={name}") if name else None


def add_repo(parser: argparse.ArgumentParser) -> None:
    """``--repo PATH``: the repository the command works on (default: the working one)."""
    parser.add_argument("--repo", type=Path, help="the repository (default: the working one)")


def add_machine(parser: argparse.ArgumentParser, what: str = "", *, reads: bool = False) -> None:
    """``--machine NAME``: the asv machine whose results are written (by default this one), or
    with ``reads`` read (by default, None: the command picks one that has results, see
    :func:`perfkit.verdict.history.reading_machine`)."""
    host = platform.node() or "?"
    if reads:
        parser.add_argument(
            "--machine",
            type=machine_name,
            default=None,
            help=f"asv machine whose results are read{what} (default: $TASKORCH_ASV_MACHINE;"
            f" else this host, {host!r}, when it has results; else the machine with the most"
            " results: ref-2core, the kept reference, on a fresh clone)",
        )
        return
    parser.add_argument(
        "--machine",
        type=machine_name,
        default=default_machine(),
        help=f"asv machine name{what} (default: $TASKORCH_ASV_MACHINE, else this host's name,"
        f" {host!r}; the kept reference results are ref-2core's)",
    )


def add_bench(parser: argparse.ArgumentParser, what: str = "") -> None:
    """``--bench/-b REGEX``: only the benchmarks whose names match."""
    parser.add_argument(
        "--bench", "-b", metavar="REGEX", help=f"only benchmarks matching this regex{what}"
    )
