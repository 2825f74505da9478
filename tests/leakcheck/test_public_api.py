"""The public surface: complete, sorted, and one exception tree."""

from __future__ import annotations

import inspect

import leakcheck
from leakcheck import errors


def test_all_is_sorted_and_complete() -> None:
    assert leakcheck.__all__ == sorted(leakcheck.__all__)
    public = {
        name
        for name, value in vars(leakcheck).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(leakcheck.__all__)


def test_every_error_derives_from_the_base() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(cls, leakcheck.LeakcheckError) for cls in classes)
    assert issubclass(leakcheck.UsageError, ValueError)
    assert issubclass(leakcheck.LoadError, leakcheck.WorkloadError)


def test_every_public_function_has_a_docstring() -> None:
    for name in leakcheck.__all__:
        value = getattr(leakcheck, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), name
