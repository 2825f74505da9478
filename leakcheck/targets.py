"""Turn ``MODULE:CALLABLE`` strings into the objects they name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

from leakcheck.errors import LoadError, UsageError

__all__ = ["load_callable", "load_object"]


def load_object(target: str) -> Any:
    """Import ``MODULE:ATTRIBUTE[.ATTRIBUTE...]`` and return the attribute.

    Raises :class:`UsageError` for a malformed target and :class:`LoadError` when the module
    cannot be imported (whatever it raised while importing) or lacks the attribute.
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"expected MODULE:CALLABLE, got {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        # A target module can fail in any way while importing; all of it is a load failure.
        raise LoadError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise LoadError(f"{target!r}: {module_name!r} has no attribute {attribute!r}") from exc
    return obj


def load_callable(target: str) -> Callable[..., Any]:
    """Like :func:`load_object`, and the object must be callable."""
    obj = load_object(target)
    if not callable(obj):
        raise LoadError(f"{target!r} is a {type(obj).__name__}, not a callable")
    return cast("Callable[..., Any]", obj)
