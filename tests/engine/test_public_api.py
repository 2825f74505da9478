"""The public surface: complete, sorted, and the exception tree as documented."""

from __future__ import annotations

import inspect
import re

import taskorch
import taskorch.agents
from taskorch import errors


def kind(name: str) -> tuple[int, str]:
    """isort's order, as ruff keeps ``__all__``: CONSTANTS, then Classes, then the rest."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
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


def test_the_tree_in_the_docstring_is_the_class_hierarchy() -> None:
    doc = errors.__doc__ or ""
    drawn = re.findall(r"^( *(?:[│├└]── |│   |    )*)(\w+Error)\b", doc, re.M)
    assert drawn and drawn[0][1] == "TaskorchError"
    parents: list[str] = []
    for prefix, name in drawn:
        depth = (len(prefix) - len(drawn[0][0])) // 4
        del parents[depth:]
        if parents:
            assert getattr(errors, parents[-1]) in getattr(errors, name).__bases__, name
        parents.append(name)
    defined = {
        n for n, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    }
    assert {name for _, name in drawn} == defined


def test_the_agent_runtime_surface() -> None:
    assert taskorch.agents.__all__ == sorted(taskorch.agents.__all__, key=kind)
    for name in taskorch.agents.__all__:
        assert hasattr(taskorch.agents, name)
    assert taskorch.agents.WorkerClosedError is taskorch.WorkerClosedError
    assert issubclass(taskorch.WorkerClosedError, taskorch.TaskorchError)
