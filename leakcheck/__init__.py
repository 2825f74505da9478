"""leakcheck: find memory that a workload keeps growing when run in a long loop.

Run a callable under memray for many iterations, and report whether memory grows steadily,
by how many bytes per iteration, and which lines keep it alive::

    report = leakcheck.check(step, iterations=20_000)
    if report.leaked:
        print(report.describe())
"""

from leakcheck.checking import (
    DEFAULT_ITERATIONS,
    DEFAULT_THRESHOLD,
    DEFAULT_WARMUP,
    Session,
    Step,
    bytes_per_iteration,
    check,
    check_session,
)
from leakcheck.errors import (
    FlamegraphError,
    LeakcheckError,
    LoadError,
    TrackerError,
    UsageError,
    WorkloadError,
)
from leakcheck.flamegraph import write_flamegraph
from leakcheck.report import Frame, Location, Report, Timings

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WARMUP",
    "FlamegraphError",
    "Frame",
    "LeakcheckError",
    "LoadError",
    "Location",
    "Report",
    "Session",
    "Step",
    "Timings",
    "TrackerError",
    "UsageError",
    "WorkloadError",
    "bytes_per_iteration",
    "check",
    "check_session",
    "write_flamegraph",
]
