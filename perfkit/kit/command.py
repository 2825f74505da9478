"""How a perfkit command runs: user errors turned into one line on stderr and an exit status
instead of a traceback, and SIGTERM handled like Ctrl-C, so that a run's cleanup still runs.

The statuses are those of :class:`~perfkit.kit.exits.Exit`; a command plugged into the
``taskorch`` command line gives them in that command's own table instead (``statuses``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from taskorch import TaskorchError

from .exits import Exit
from .options import UsageError, current_prog

__all__ = ["PLANS_CANCELLED", "guarded", "run_async"]

#: What a command that cancels its own plans on the way out says when interrupted.
PLANS_CANCELLED = "interrupted; this run's own plans were cancelled"

T = TypeVar("T")


def guarded(
    command: Callable[[argparse.Namespace], int],
    statuses: Mapping[Exit, int] | None = None,
    interrupted: str = "interrupted",
) -> Callable[[argparse.Namespace], int]:
    """Run a command so that a user error ends it with a message and its exit status, and
    SIGTERM unwinds it like Ctrl-C (so its ``finally`` blocks clean up). ``statuses`` gives
    another table's number for some of :class:`Exit`'s; ``interrupted`` is what an interrupted
    run says."""
    table = dict(statuses or {})

    def status(exit: Exit) -> int:
        return table.get(exit, int(exit))

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        who = current_prog() or "taskorch"  # python -m perfkit NAME, else the taskorch command
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
        try:
            return status(Exit(command(args)))
        except UsageError as exc:
            print(f"{who}: {exc}", file=sys.stderr)
            return status(Exit.USAGE)
        except TaskorchError as exc:
            print(f"{who}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return status(Exit.CANNOT_RUN)
        except OSError as exc:  # the disk or the network failed under the run
            print(f"{who}: {exc}", file=sys.stderr)
            return status(Exit.CANNOT_RUN)
        except KeyboardInterrupt:
            print(f"{who}: {interrupted}", file=sys.stderr)
            return status(Exit.INTERRUPTED)
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
