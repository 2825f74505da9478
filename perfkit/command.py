"""What the toolkit's commands (``taskorch fleet``, ``taskorch perf validate``) share at their
boundary: options checked while argparse parses them, and user errors turned into one line on
stderr and the exit status the README promises instead of a traceback.

Exit status: 0 ok, 1 a taskorch error (the store refused, the disk failed), 2 bad usage (an
option out of range, an input file that cannot be read), 3 a performance criterion failed,
130 interrupted (Ctrl-C or SIGTERM; the run's own plans are cancelled first).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import re
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from taskorch import TaskorchError

__all__ = [
    "EXIT_CRITERION",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "guarded",
    "integer",
    "machine_name",
    "number",
    "run_async",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CRITERION, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

T = TypeVar("T")


class UsageError(ValueError):
    """An option or an input file the user gave cannot be used; the message names it."""


def machine_name(text: str) -> str:
    """An argparse ``type``: an asv machine name, which names a folder of ``results/`` and a
    calibration file, so a plain name, never a path."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) or len(text) > 100:
        raise argparse.ArgumentTypeError(
            f"must be a plain name (letters, digits, '.', '_', '-'), not {text!r}"
        )
    return text


def integer(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be between {minimum:,} and {maximum:,}, got {value:,}"
            )
        return value

    return parse


def number(minimum: float, maximum: float, *, above: bool = False) -> Callable[[str], float]:
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
            raise argparse.ArgumentTypeError(
                f"must be a finite number {low} {minimum:g} and at most {maximum:g}, got {text!r}"
            )
        return value

    return parse


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command so that a user error ends it with a message and its exit status, and
    SIGTERM unwinds it like Ctrl-C (so its ``finally`` blocks clean up)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
        try:
            return command(args)
        except UsageError as exc:
            print(f"taskorch: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except TaskorchError as exc:
            print(f"taskorch: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except OSError as exc:  # the disk or the network failed under the run
            print(f"taskorch: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print("taskorch: interrupted; this run's own plans were cancelled", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return run


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, where SIGTERM cancels the coroutine the way asyncio's Ctrl-C does (at an
    ``await``, so its cleanup can still await), then raises ``KeyboardInterrupt``."""
    terminated = False

    async def main() -> T:
        nonlocal terminated
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def terminate() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        before = signal.getsignal(signal.SIGTERM)
        try:
            loop.add_signal_handler(signal.SIGTERM, terminate)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            installed = False
        try:
            return await coroutine
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGTERM)
                signal.signal(signal.SIGTERM, before)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:
            raise KeyboardInterrupt from None
        raise


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
