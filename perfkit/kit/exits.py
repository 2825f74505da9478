"""The exit statuses of every perfkit command, one table for all of them.

The low values are bits, so that a nightly run can say several things at once (``3``: a
benchmark regressed and another broke); a command that finds only one kind of trouble uses the
bit of that kind. A usage error is ``64`` (``EX_USAGE`` of BSD's sysexits.h): it is none of the
bits nor any sum of them, so "you called it wrong" is never mistaken for a verdict, and it is
the same for every command (argparse's own ``2`` would read as "a benchmark broke").
"""

from __future__ import annotations

import enum

__all__ = ["MEANINGS", "Exit", "table"]


class Exit(enum.IntEnum):
    """What a perfkit command's exit status means."""

    #: Done: everything asked for was judged or made, nothing found wrong.
    OK = 0
    #: Something is worse than allowed: a regression, a leak, a success criterion not met, a
    #: broken invariant of a stress run, a page that still needs the network.
    FAILED = 1
    #: Something measured broke: a benchmark fails or runs past its timeout, an operation could
    #: not be counted.
    BROKE = 2
    #: The command could not run: a taskorch or disk error, a tool or library missing, a commit
    #: that does not install, no results to read.
    CANNOT_RUN = 4
    #: Something asked for judged nothing (the nightly's account says why).
    NOT_JUDGED = 8
    #: Bad usage: an unknown option, a value out of range, an input file that cannot be used.
    USAGE = 64
    #: Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    INTERRUPTED = 130
    #: The reader of the output went away (``| head``): 128 + SIGPIPE, as shells report a
    #: command that a closed pipe stopped.
    CLOSED_PIPE = 141


#: Each status in a few words, for ``--help`` and the README.
MEANINGS = {
    Exit.OK: "done; nothing found wrong",
    Exit.FAILED: "something is worse than allowed (a regression, a leak, a criterion not met,"
    " a broken invariant)",
    Exit.BROKE: "something measured broke (fails, times out, could not be counted)",
    Exit.CANNOT_RUN: "the command could not run (a taskorch or disk error, a tool missing...)",
    Exit.NOT_JUDGED: "something asked for judged nothing",
    Exit.USAGE: "bad usage (an unknown option, a value out of range, an unusable input file)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C, SIGTERM)",
    Exit.CLOSED_PIPE: "stopped early: the reader of the output went away (a pipe into head)",
}


def table() -> str:
    """The statuses and their meanings, one a line."""
    return "\n".join(f"  {int(status):>3}  {MEANINGS[status]}" for status in Exit)
