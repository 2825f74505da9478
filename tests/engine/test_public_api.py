"""The public surface: complete, sorted, and the exception tree as documented."""

from __future__ import annotations

import inspect

import taskorch
from taskorch import errors


def test_all_is_sorted_and_complete() -> None:
    # isort style, as ruff keeps it: CONSTANTS, then Classes, then the rest
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert taskorch.__all__ == sorted(taskorch.__all__, key=kind)
    public = {n for n in vars(taskorch) if not n.startswith("_") and n.isidentifier()}
    modules = {n for n in public if inspect.ismodule(getattr(taskorch, n))}
    assert public - modules - {"annotations", "Any"} <= set(taskorch.__all__) | {"__version__"}
    for name in taskorch.__all__:
        assert hasattr(taskorch, name)


def test_every_error_is_exported_and_derives_from_the_base() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    for cls in classes:
        assert issubclass(cls, taskorch.TaskorchError)
        assert getattr(taskorch, cls.__name__) is cls
        assert cls.__name__ in (errors.__doc__ or "")
    assert issubclass(taskorch.UnknownTaskError, LookupError)
    assert taskorch.DatabaseLockedError.retryable and not taskorch.CorruptDatabaseError.retryable
