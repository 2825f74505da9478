"""pytest plugin: ``@pytest.mark.leakcheck`` loops a test body and fails the test if it leaks.

::

    @pytest.mark.leakcheck(iterations=5_000, warmup=500)
    def test_publish_does_not_leak(bus):
        bus.publish("topic", b"payload")

Fixtures are set up once, outside the loop; the body runs ``warmup`` times untracked, then
``iterations`` times under memray. A test whose body leaks fails with the leaking lines in
its message; a body that raises fails as it would without the marker.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

import pytest

from leakcheck.checking import check
from leakcheck.errors import LeakcheckError, WorkloadError

__all__ = ["pytest_addoption", "pytest_configure", "pytest_pyfunc_call"]

MARKER = "leakcheck"
_OPTIONS = frozenset({"iterations", "warmup", "threshold"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("leakcheck")
    group.addoption(
        "--leakcheck-flamegraph-dir",
        metavar="DIR",
        default=None,
        help="write a flamegraph of each test that fails @pytest.mark.leakcheck to DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(iterations=20000, warmup=2000, threshold=0.1): run the test body in a loop "
        "under memray and fail the test if its memory grows steadily",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run marked tests through :func:`leakcheck.check`; leave the others to pytest."""
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None:
        return None
    if marker.args or not _OPTIONS.issuperset(marker.kwargs):
        pytest.fail(
            f"@pytest.mark.{MARKER} takes only keyword arguments {sorted(_OPTIONS)}, "
            f"got {marker.args} {marker.kwargs}",
            pytrace=False,
        )
    function = pyfuncitem.obj
    if inspect.iscoroutinefunction(function):
        pytest.fail(f"@pytest.mark.{MARKER} cannot loop a coroutine test", pytrace=False)
    if pyfuncitem.config.getoption("memray", default=False):
        # pytest-memray wraps every call in its own Tracker; only one may run at a time.
        pytest.skip(f"@pytest.mark.{MARKER} needs memray to itself: run without --memray")
    parameters = inspect.signature(function).parameters
    arguments = {name: value for name, value in pyfuncitem.funcargs.items() if name in parameters}
    # The option is missing when the plugin was registered late, by a conftest.
    flamegraph_dir = pyfuncitem.config.getoption("leakcheck_flamegraph_dir", default=None)
    flamegraph = None
    if flamegraph_dir is not None:
        flamegraph = Path(flamegraph_dir) / (_safe_name(pyfuncitem.nodeid) + ".html")
    try:
        report = check(
            functools.partial(function, **arguments),
            name=pyfuncitem.nodeid,
            flamegraph=flamegraph,
            flamegraph_on_leak_only=True,
            **marker.kwargs,
        )
    except WorkloadError as exc:
        if exc.__cause__ is not None:
            raise exc.__cause__ from None  # the test's own failure, reported as usual
        raise
    except LeakcheckError as exc:
        pytest.fail(f"leakcheck could not run: {exc}", pytrace=False)
    if report.leaked:
        message = report.describe()
        if report.flamegraph is not None:
            message += f"\n  flamegraph: {report.flamegraph}"
        pytest.fail(message, pytrace=False)
    return True


def _safe_name(nodeid: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in nodeid)
