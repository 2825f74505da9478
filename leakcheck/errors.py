"""Errors raised by leakcheck.

Every error derives from one base, so callers can catch the whole family::

    LeakcheckError
     ├── UsageError          bad arguments or options (also a ValueError)
     ├── WorkloadError       the workload could not be loaded, or it raised
     │    └── LoadError      MODULE:CALLABLE or a workload registry could not be imported
     ├── TrackerError        memray could not track or its capture could not be read
     └── FlamegraphError     the flamegraph could not be written, or it needs the network

The command line turns any of them into exit status 2 with the message on stderr.
"""

from __future__ import annotations

__all__ = [
    "FlamegraphError",
    "LeakcheckError",
    "LoadError",
    "TrackerError",
    "UsageError",
    "WorkloadError",
]


class LeakcheckError(Exception):
    """Base class of every error leakcheck raises on purpose."""


class UsageError(LeakcheckError, ValueError):
    """An argument or option is out of range or inconsistent."""


class WorkloadError(LeakcheckError):
    """The workload could not be loaded, set up, or run; ``__cause__`` holds its own error."""


class LoadError(WorkloadError):
    """A ``MODULE:CALLABLE`` target or a workload registry could not be imported."""


class TrackerError(LeakcheckError):
    """memray refused to track (another Tracker is active?) or its capture is unreadable."""


class FlamegraphError(LeakcheckError):
    """memray could not render the flamegraph, or the result would load scripts from the network."""
